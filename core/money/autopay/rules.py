"""The rules of autopay, and the planning of its charges.

Which invoices are charged automatically: those of the kinds the business chose (``autopay_kinds``), for a
customer who has autopay on with a card to charge. Each charge is an :class:`~core.models.AutopayAttempt`
row planned in the transaction that issues the invoice, or that records a decline, so a crash never loses
one; the worker picks it up after the commit, or at its time for a retry (:mod:`.runner`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from core.extensions import db
from core.models import AutopayAttempt, Customer, Invoice, Payment, SavedPaymentMethod
from core.money.payments.processor import processors
from core.money.payments.types import CAPTURED_STATUSES
from core.plugins.events import after_commit
from core.tenancy import utcnow
from core.tenancy.state import current_business

# Declines that another try cannot fix: the card is gone, or the bank refuses it for good.
FINAL_DECLINES = frozenset({"lost_card", "stolen_card", "expired_card", "do_not_honor", "pickup_card",
                            "restricted_card", "fraudulent", "revocation_of_authorization"})
# The bank wants the customer to confirm the payment themselves: only they can, from the pay link.
ACTION_REQUIRED = "authentication_required"


def autopay_kinds() -> list[str]:
    """The invoice kinds the current business charges automatically."""
    return list(current_business().policy("autopay_kinds"))


def retry_days() -> list[int]:
    """Days after the first declined charge on which it is tried again (the business's ladder)."""
    return sorted(current_business().policy("autopay_retry_days"))


def is_final(decline_code: str | None) -> bool:
    """True when a decline is not worth retrying on the ladder."""
    return decline_code in FINAL_DECLINES or decline_code == ACTION_REQUIRED


def autopay_card(customer_id: int) -> SavedPaymentMethod | None:
    """The card autopay charges for the customer, if one is chosen and still kept."""
    return db.session.scalar(
        select(SavedPaymentMethod).where(SavedPaymentMethod.customer_id == customer_id,
                                         SavedPaymentMethod.used_for_autopay.is_(True),
                                         SavedPaymentMethod.detached_at.is_(None)).limit(1)
    )


def has_paid_through_processor(customer_id: int) -> bool:
    """True once the customer completed a payment through one of the business's payment processors (not an
    automatic charge, nor cash or a cheque recorded by hand)."""
    names = [processor.name for processor in processors()]
    return db.session.scalar(
        select(Payment.id).where(Payment.customer_id == customer_id, Payment.status.in_(CAPTURED_STATUSES),
                                 Payment.source != "autopay", Payment.processor.in_(names)).limit(1)
    ) is not None


def first_live_payment_at() -> datetime | None:
    """When the business's processor account first completed a payment with real money (not test mode)."""
    return db.session.scalar(
        select(Payment.captured_at).where(Payment.live.is_(True), Payment.status.in_(CAPTURED_STATUSES))
        .order_by(Payment.captured_at).limit(1)
    )


def charged_automatically(invoice: Invoice) -> bool:
    """True when issuing ``invoice`` charges it: an autopay kind, a customer with autopay on and a card."""
    customer = db.session.get(Customer, invoice.customer_id)
    return (invoice.kind in autopay_kinds() and customer.autopay_enabled
            and autopay_card(customer.id) is not None)


def plan_first_charge(invoice: Invoice) -> AutopayAttempt | None:
    """Plan the automatic charge of an invoice being issued, if it is charged automatically (in the caller's
    transaction); the worker is asked to charge it after the commit."""
    if not charged_automatically(invoice):
        return None
    return plan_charge(invoice, 1, utcnow())


def plan_charge(invoice: Invoice, number: int, at: datetime) -> AutopayAttempt:
    """Attempt ``number`` of charging ``invoice``, due ``at`` (in the caller's transaction; planned once)."""
    attempt = db.session.scalar(select(AutopayAttempt).where(AutopayAttempt.invoice_id == invoice.id,
                                                             AutopayAttempt.number == number))
    if attempt is None:
        attempt = AutopayAttempt(invoice_id=invoice.id, number=number, status="pending", attempts=0,
                                 next_attempt_at=at)
        db.session.add(attempt)
        db.session.flush()
    invoice.autopay_state = "scheduled"
    if at <= utcnow():
        attempt_id = attempt.id
        after_commit(lambda: current_app.extensions["suprata"].queue.run_autopay_soon(attempt_id))
    return attempt


def next_retry_at(invoice_id: int, failed_number: int) -> datetime | None:
    """When to try again after attempt ``failed_number`` was declined: the ladder's next day counted from the
    first attempt, or None when the ladder is done."""
    ladder = retry_days()
    if failed_number > len(ladder):
        return None
    first = db.session.scalar(select(AutopayAttempt.created_at).where(AutopayAttempt.invoice_id == invoice_id,
                                                                      AutopayAttempt.number == 1))
    return (first or utcnow()) + timedelta(days=ladder[failed_number - 1])


def retry_declined_now(customer_id: int) -> int:
    """The customer's autopay card changed: charge their declined autopay invoices again now, with the new
    card (in the caller's transaction). Returns how many were planned."""
    invoices = db.session.scalars(
        select(Invoice).where(Invoice.customer_id == customer_id, Invoice.status == "open",
                              Invoice.autopay_state.in_(("failed", "action_required")))
    ).all()
    for invoice in invoices:
        last = db.session.scalar(select(AutopayAttempt.number).where(AutopayAttempt.invoice_id == invoice.id)
                                 .order_by(AutopayAttempt.number.desc()).limit(1))
        pending = db.session.scalar(select(AutopayAttempt.id).where(AutopayAttempt.invoice_id == invoice.id,
                                                                    AutopayAttempt.status == "pending"))
        if pending is not None:  # a retry on the ladder is waiting: bring it forward
            db.session.get(AutopayAttempt, pending).next_attempt_at = utcnow()
            invoice.autopay_state = "scheduled"
            attempt_id = pending
            after_commit(lambda attempt_id=attempt_id:
                         current_app.extensions["suprata"].queue.run_autopay_soon(attempt_id))
        else:
            plan_charge(invoice, (last or 0) + 1, utcnow())
    return len(invoices)
