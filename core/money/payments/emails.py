"""The messages that follow money events: the receipt, notices of a failed charge (by email, and by text
message where the business has a text channel on and the customer a verified number) or of money that could
not be applied, notices about autopay cards, the portal invitation.

Each is queued in the outbox in the caller's transaction, so it goes out only if the event is committed.
"""

from __future__ import annotations

from datetime import date

from core.account.invitations import send_invitation
from core.account.logins import login_of_customer
from core.models import Customer, Invoice, Payment, SavedPaymentMethod
from core.money.invoicing import issue_pay_link
from core.money.payments.processor import connected_processor
from core.money.payments.wording import PROBLEMS, card_label, decline_in_words
from core.notifications.channels import channel_for
from core.notifications.outbox import enqueue
from core.tenancy.state import current_business
from core.tenancy.urls import public_url_for


def queue_receipt(payment: Payment, invoice: Invoice, *, card_saved: str | None) -> None:
    """The receipt of a captured payment; ``card_saved`` names the card kept with the customer's consent."""
    recipient = invoice.customer.primary_email
    if not recipient:
        return
    # Only hashes of pay-link tokens are stored, so the receipt gets a link of its own.
    receipt_token = issue_pay_link(invoice)
    enqueue(
        "payment_receipt",
        to=recipient,
        customer_id=invoice.customer_id,
        context={
            "customer_name": invoice.customer.name,
            "invoice_number": invoice.number,
            "amount": payment.amount,
            "currency": payment.currency,
            "paid_at": payment.captured_at.isoformat(),
            "receipt_url": public_url_for("paylink.receipt", token=receipt_token),
            "card_saved": card_saved,
        },
    )


def queue_failure_notices(payment: Payment, invoice: Invoice, code: str, *, next_try: date | None = None
                          ) -> None:
    """A charge of a saved card failed with no customer there to see it: the customer gets a way to pay now
    and to update their card (by email, and by text message when they can get one), the billing inbox is
    told, so an unpaid invoice never looks paid to either. ``next_try`` is when autopay tries again."""
    autopay = payment.source == "autopay"
    customer = invoice.customer
    context = {"invoice_number": invoice.number, "amount": payment.amount, "currency": payment.currency,
               "reason": decline_in_words(code), "autopay": autopay,
               "next_try": next_try.isoformat() if next_try else None}
    recipient = customer.primary_email
    pay_url = public_url_for("paylink.show", token=issue_pay_link(invoice))
    update_url = update_card_url()
    if recipient:
        enqueue("payment_failed", to=recipient, customer_id=customer.id,
                context={**context, "pay_url": pay_url, "update_card_url": update_url})
    if autopay:
        text_customer(customer, "payment_failed_text",
                      {**context, "pay_url": pay_url, "update_card_url": update_url})
    billing_inbox = current_business().billing_email
    if billing_inbox:
        enqueue("payment_failed_staff", to=billing_inbox,
                context={**context, "customer_name": customer.name, "customer_told": bool(recipient),
                         "invoice_url": public_url_for("console.invoice", invoice_id=invoice.id)})


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


def text_customer(customer: Customer, template_key: str, context: dict) -> bool:
    """Queue a text message to the customer's first verified number that has not opted out, if the business
    has a text-message channel on (the SMS plugin); True if one was queued."""
    number = next((phone.number for phone in customer.phones
                   if phone.verified_at is not None and phone.sms_opted_out_at is None), None)
    if number is None or channel_for("sms") is None:
        return False
    enqueue(template_key, to=number, channel="sms", customer_id=customer.id, context=context)
    return True


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
