"""The emails that follow money events: the receipt, notices of a failed charge, the portal invitation.

Each is queued in the outbox in the caller's transaction, so it goes out only if the event is committed.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from core.business_state import business_cache
from core.extensions import db
from core.identity.tokens import issue, revoke_all
from core.invoicing import issue_pay_link
from core.models import CustomerUser, Invoice, Payment
from core.tenancy import current_business_id
from core.urls import public_url_for

INVITATION_PURPOSE = "portal_invitation"
INVITATION_TTL = timedelta(days=14)
# A decline in words the customer understands (the processor's code stays on the payment for staff).
DECLINE_REASONS = {
    "insufficient_funds": "the card has insufficient funds",
    "expired_card": "the card has expired",
    "authentication_required": "your bank wants you to confirm the payment yourself",
    "incorrect_cvc": "the card's security code was not accepted",
    "lost_card": "the card was reported lost",
    "stolen_card": "the card was reported stolen",
}
DEFAULT_DECLINE_REASON = "the card was declined"


def queue_receipt(payment: Payment, invoice: Invoice, *, card_saved: str | None) -> None:
    """The receipt of a captured payment; ``card_saved`` names the card kept with the customer's consent."""
    recipient = invoice.customer.primary_email
    if not recipient:
        return
    # Only hashes of pay-link tokens are stored, so the receipt gets a link of its own.
    receipt_token = issue_pay_link(invoice)
    _enqueue(
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


def queue_failure_notices(payment: Payment, invoice: Invoice, code: str) -> None:
    """A charge of a saved card failed with no customer there to see it: the customer gets a way to pay,
    the billing inbox is told, so an unpaid invoice never looks paid to either."""
    reason = DECLINE_REASONS.get(code, DEFAULT_DECLINE_REASON)
    money = {"invoice_number": invoice.number, "amount": payment.amount, "currency": payment.currency,
             "reason": reason}
    recipient = invoice.customer.primary_email
    if recipient:
        pay_url = public_url_for("paylink.show", token=issue_pay_link(invoice))
        _enqueue("payment_failed", to=recipient, customer_id=invoice.customer_id,
                context={**money, "pay_url": pay_url, "update_card_url": None})
    billing_inbox = business_cache().by_id(current_business_id()).billing_email
    if billing_inbox:
        _enqueue("payment_failed_staff", to=billing_inbox,
                context={**money, "customer_name": invoice.customer.name, "customer_told": bool(recipient),
                         "invoice_url": public_url_for("console.invoice", invoice_id=invoice.id)})


def invite_to_portal(invoice: Invoice) -> None:
    """Invite a customer who paid by link, and has no portal login, to create one (if that can work)."""
    business = business_cache().by_id(current_business_id())
    if not business.policy("invite_after_payment"):
        return
    recipient = invoice.customer.primary_email
    if not recipient:
        return
    if db.session.scalar(select(CustomerUser.id).where(CustomerUser.customer_id == invoice.customer_id)):
        return
    # Only while a plugin can turn the invitation into a login, so the link never leads nowhere.
    endpoint = current_app.extensions["suprata"].plugins.call_first("accepts_invitations")
    if not endpoint:
        return
    revoke_all(INVITATION_PURPOSE, customer_id=invoice.customer_id)
    token = issue(INVITATION_PURPOSE, ttl=INVITATION_TTL, customer_id=invoice.customer_id, email=recipient)
    _enqueue(
        INVITATION_PURPOSE,
        to=recipient,
        customer_id=invoice.customer_id,
        context={"customer_name": invoice.customer.name, "invite_url": public_url_for(endpoint, token=token)},
    )


def _enqueue(template_key: str, **kwargs) -> None:
    # Imported on first use: core.notifications imports the plugin API, which imports core.payments.
    from core.notifications.outbox import enqueue

    enqueue(template_key, **kwargs)
