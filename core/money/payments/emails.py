"""The messages that follow money events: the receipt, notices of a failed charge (by email, and by text
message where the business has a text channel on and the customer a verified number) or of money that could
not be applied, notices about autopay cards, the portal invitation.

Each is queued in the outbox in the caller's transaction, so it goes out only if the event is committed.
"""

from __future__ import annotations

from datetime import date

from core.account.invitations import send_invitation
from core.account.logins import login_of_customer
from core.models import Customer, Invoice, Payment, Refund, SavedPaymentMethod
from core.money.invoicing import issue_pay_link, pay_link_to_share
from core.money.payments.processor import connected_processor
from core.money.payments.wording import PROBLEMS, card_label, decline_in_words, paid_with
from core.notifications.events import notify_event
from core.notifications.outbox import enqueue
from core.tenancy import utcnow
from core.tenancy.state import current_business
from core.tenancy.urls import public_url_for


def queue_receipt(payment: Payment, invoice: Invoice, *, card_saved: str | None) -> None:
    """The receipt of a payment (a processor's, or one staff recorded): how it was paid, what is left, the
    invoice's lines; ``card_saved`` names the card kept with the customer's consent."""
    receipt_url = public_url_for("paylink.receipt", token=pay_link_to_share(invoice))
    notify_event(
        "payment_captured",
        customer=invoice.customer,
        context={
            "customer_name": invoice.customer.name,
            "invoice_number": invoice.number,
            "amount": payment.amount,
            "currency": payment.currency,
            "paid_at": payment.captured_at.isoformat(),
            "paid_with": paid_with(payment),
            "balance": invoice.balance,
            "lines": [{"description": line.description, "quantity": f"{line.quantity.normalize():f}",
                       "amount": line.amount} for line in invoice.lines],
            "receipt_url": receipt_url,
            "card_saved": card_saved,
            "invoice_url": public_url_for("console.invoice", invoice_id=invoice.id),
        },
    )


def queue_refund_receipt(refund: Refund, payment: Payment, invoice: Invoice) -> None:
    """Tell the customer money went back to them: how much, to what, and what they paid net."""
    recipient = invoice.customer.primary_email
    if not recipient:
        return
    enqueue("refund_receipt", to=recipient, customer_id=invoice.customer_id, context={
        "customer_name": invoice.customer.name, "invoice_number": invoice.number, "amount": refund.amount,
        "currency": payment.currency, "refunded_to": paid_with(payment), "payment_amount": payment.amount,
        "net_paid": invoice.net_paid, "refunded_at": utcnow().isoformat(),
        "receipt_url": public_url_for("paylink.receipt", token=pay_link_to_share(invoice))})


def queue_failure_notices(payment: Payment, invoice: Invoice, code: str, *, next_try: date | None = None
                          ) -> None:
    """A charge of a saved card failed with no customer there to see it: the customer gets a way to pay now
    and to update their card (by email, and by text message when they can get one), the billing inbox is
    told, so an unpaid invoice never looks paid to either; as the business and the customer chose
    (``payment_failed``). ``next_try`` is when autopay tries again."""
    autopay = payment.source == "autopay"
    customer = invoice.customer
    context = {"invoice_number": invoice.number, "amount": payment.amount, "currency": payment.currency,
               "reason": decline_in_words(code), "autopay": autopay,
               "next_try": next_try.isoformat() if next_try else None, "customer_name": customer.name,
               "pay_url": public_url_for("paylink.show", token=issue_pay_link(invoice)),
               "update_card_url": update_card_url(),
               "invoice_url": public_url_for("console.invoice", invoice_id=invoice.id)}
    # A charge staff made by phone had the customer on the line: no text for that one.
    told = notify_event("payment_failed", customer=customer, context=context, audiences=("customer",),
                        channels=None if autopay else ("email",))
    notify_event("payment_failed", context={**context, "customer_told": bool(told)}, audiences=("business",))


def queue_autopay_card_removed(customer: Customer, *, removed: SavedPaymentMethod,
                               replacement: SavedPaymentMethod | None) -> None:
    """Tell the customer the card autopay charged is gone, and what autopay charges now (nothing, or
    ``replacement``)."""
    if customer.primary_email:
        enqueue("autopay_card_removed", to=customer.primary_email, customer_id=customer.id,
                context={"customer_name": customer.name, "removed_card": card_label(removed),
                         "replacement_card": card_label(replacement) if replacement else None,
                         "update_card_url": update_card_url()})


def queue_card_expiring(customer: Customer, method: SavedPaymentMethod) -> bool:
    """Tell the customer their autopay card expires soon, with the link to update it; False if they have no
    email address."""
    if not customer.primary_email:
        return False
    enqueue("card_expiring", to=customer.primary_email, customer_id=customer.id,
            context={"customer_name": customer.name, "card": card_label(method),
                     "expires_on": method.expires_on.isoformat(), "update_card_url": update_card_url()})
    return True


def update_card_url() -> str | None:
    """Where a customer replaces their saved card: the connected processor's page for it, if it has one."""
    processor = connected_processor()
    endpoint = getattr(processor, "update_card_endpoint", None)
    return public_url_for(endpoint) if endpoint else None


def queue_unapplied_notice(payment: Payment, invoice: Invoice, *, handling: str, error: str | None = None
                           ) -> None:
    """Tell the billing inbox about money that could not be applied to its invoice, and what happens to it:
    ``handling`` is "refunding" (automatically), "held" (for staff) or "refund_failed" (with ``error``)."""
    billing_inbox = current_business().billing_email
    if not billing_inbox:
        return
    enqueue("payment_unapplied_staff", to=billing_inbox,
            context={"invoice_number": invoice.number, "customer_name": invoice.customer.name,
                     "amount": payment.amount, "currency": payment.currency,
                     "problem": PROBLEMS[payment.details["problem"]], "handling": handling, "error": error,
                     "invoice_url": public_url_for("console.invoice", invoice_id=invoice.id)})


def invite_to_portal(invoice: Invoice) -> None:
    """Invite a customer who paid by link, and has no portal login, to create one (unless the business
    turned that off)."""
    if current_business().policy("invite_after_payment") and login_of_customer(invoice.customer_id) is None:
        send_invitation(invoice.customer)
