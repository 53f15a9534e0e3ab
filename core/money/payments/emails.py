"""The emails that follow money events: the receipt, notices of a failed charge or of money that could not be
applied, the portal invitation.

Each is queued in the outbox in the caller's transaction, so it goes out only if the event is committed.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from core.extensions import db
from core.identity.tokens import issue, revoke_all
from core.models import CustomerUser, Invoice, Payment, Refund
from core.money.invoicing import issue_pay_link, pay_link_to_share
from core.money.payments.wording import PROBLEMS, decline_in_words, paid_with
from core.notifications.outbox import enqueue
from core.tenancy import utcnow
from core.tenancy.state import current_business
from core.tenancy.urls import public_url_for

INVITATION_PURPOSE = "portal_invitation"
INVITATION_TTL = timedelta(days=14)


def queue_receipt(payment: Payment, invoice: Invoice, *, card_saved: str | None) -> None:
    """The receipt of a payment (a processor's, or one staff recorded): how it was paid, what is left, the
    invoice's lines; ``card_saved`` names the card kept with the customer's consent."""
    recipient = invoice.customer.primary_email
    if not recipient:
        return
    receipt_url = public_url_for("paylink.receipt", token=pay_link_to_share(invoice))
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
            "paid_with": paid_with(payment),
            "balance": invoice.balance,
            "lines": [{"description": line.description, "quantity": f"{line.quantity.normalize():f}",
                       "amount": line.amount} for line in invoice.lines],
            "receipt_url": receipt_url,
            "card_saved": card_saved,
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


def queue_failure_notices(payment: Payment, invoice: Invoice, code: str) -> None:
    """A charge of a saved card failed with no customer there to see it: the customer gets a way to pay,
    the billing inbox is told, so an unpaid invoice never looks paid to either."""
    reason = decline_in_words(code)
    money = {"invoice_number": invoice.number, "amount": payment.amount, "currency": payment.currency,
             "reason": reason}
    recipient = invoice.customer.primary_email
    if recipient:
        pay_url = public_url_for("paylink.show", token=issue_pay_link(invoice))
        enqueue("payment_failed", to=recipient, customer_id=invoice.customer_id,
                context={**money, "pay_url": pay_url, "update_card_url": None})
    billing_inbox = current_business().billing_email
    if billing_inbox:
        enqueue("payment_failed_staff", to=billing_inbox,
                context={**money, "customer_name": invoice.customer.name, "customer_told": bool(recipient),
                         "invoice_url": public_url_for("console.invoice", invoice_id=invoice.id)})


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
    """Invite a customer who paid by link, and has no portal login, to create one (if that can work)."""
    business = current_business()
    if not business.policy("invite_after_payment"):
        return
    recipient = invoice.customer.primary_email
    if not recipient:
        return
    if db.session.scalar(select(CustomerUser.id).where(CustomerUser.customer_id == invoice.customer_id)):
        return
    # Only while a plugin can turn the invitation into a login, so the link never leads nowhere.
    endpoint = current_app.extensions["suprata"].plugins.call_first("invitation_handlers")
    if not endpoint:
        return
    revoke_all(INVITATION_PURPOSE, customer_id=invoice.customer_id)
    token = issue(INVITATION_PURPOSE, ttl=INVITATION_TTL, customer_id=invoice.customer_id, email=recipient)
    enqueue(
        INVITATION_PURPOSE,
        to=recipient,
        customer_id=invoice.customer_id,
        context={"customer_name": invoice.customer.name, "invite_url": public_url_for(endpoint, token=token)},
    )

