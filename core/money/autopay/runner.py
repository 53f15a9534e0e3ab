"""The worker's side of autopay: charging each planned attempt off-session, once, and following its outcome.

An attempt (:class:`~core.models.AutopayAttempt`) is claimed like any work row
(:mod:`core.background.leases`), so two workers never charge it at once. Its payment is written, with the
attempt's idempotency key, and committed before the processor is called; a worker that dies between the
processor's charge and its commit leaves the attempt claimed until its lease runs out, and the next worker
charges the same payment with the same key, which the processor answers with the first result. A processor
that times out or cannot be reached is asked again the same way after a backoff. The processor's answer is
recorded through the ledger (which a webhook may have done first), so money is applied once whatever arrives
in which order.

Then the outcome: paid; the bank wants the customer to confirm (they get the pay link, nothing is retried); or
declined, and the invoice is marked "autopay failed" and tried again on the business's ladder unless the
decline was final (lost, stolen, expired card, do not honour). Each failure tells the customer (email, and a
text message where they can get one) and the billing inbox.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from core.activity import audit
from core.background.leases import RetryPolicy, WorkTable, attempt_failed
from core.database import lock_row
from core.extensions import db
from core.models import AutopayAttempt, Customer, Invoice, Payment, SavedPaymentMethod
from core.money.autopay.rules import ACTION_REQUIRED, autopay_card, is_final, next_retry_at, plan_charge
from core.money.follow_up import business_today
from core.money.payments import emails
from core.money.payments.commands import new_saved_method_payment
from core.money.payments.processor import processor_named
from core.money.payments.types import CAPTURED_STATUSES, PaymentError, ProcessorError
from core.money.payments.wording import card_label
from core.tenancy import utcnow

log = logging.getLogger("suprata.autopay")

ATTEMPTS = WorkTable(AutopayAttempt, claimed="charging")


class ChargeNotSettled(ProcessorError):
    """The processor has not given a final answer yet; the attempt asks again after a backoff."""


def _policy() -> RetryPolicy:
    return RetryPolicy.from_config("SUPRATA_TASK")


def run_due_autopay(limit: int = 100, *, now: datetime | None = None) -> int:
    """Claim and charge up to ``limit`` due attempts of every business; returns how many were claimed.

    ``now`` charges what is due at that moment instead (tests walk the retry ladder with it).
    """
    return ATTEMPTS.work_due(limit, _policy(), charge_attempt, now)


def run_autopay_attempt(attempt_id: int) -> bool:
    """Charge one attempt now if it is due and no other worker has it; True if it was claimed."""
    return ATTEMPTS.work_one(attempt_id, _policy(), charge_attempt)


def idempotency_key(invoice: Invoice, number: int) -> str:
    """The key every charge of attempt ``number`` of ``invoice`` carries to the processor."""
    return f"suprata-{invoice.business_id}-autopay-{invoice.id}-{number}"


def charge_attempt(attempt: AutopayAttempt) -> None:
    """Charge a claimed attempt and settle its outcome; commits. A processor that cannot answer leaves the
    attempt waiting for a retry (the same payment, the same key)."""
    attempt_id = attempt.id
    try:
        charge = _prepare(attempt_id)
        if charge is not None:
            payment, method, processor = charge
            processor.charge_saved_method(payment, method)
            db.session.commit()
        _settle(attempt_id)
    except Exception as exc:  # a processor is a plugin: whatever it raises, the attempt waits for its retry
        if not isinstance(exc, ProcessorError | PaymentError):
            log.exception("autopay attempt %s raised", attempt_id)
        db.session.rollback()
        _attempt_failed(attempt_id, str(exc) or type(exc).__name__)


def _prepare(attempt_id: int):
    """Under the invoice's lock: the payment to charge (found again, or new with the attempt's key), its card
    and processor; None when there is nothing to charge (settled already, or skipped). Commits."""
    attempt = db.session.get(AutopayAttempt, attempt_id)
    invoice = lock_row(Invoice, attempt.invoice_id)
    attempt = lock_row(AutopayAttempt, attempt_id)
    if attempt.payment_id is not None:
        payment = db.session.get(Payment, attempt.payment_id)
        if payment.status != "pending":
            return None  # answered already (by the processor's reply or a webhook): settle it
        method = db.session.get(SavedPaymentMethod, payment.saved_method_id)
        return payment, method, processor_named(payment.processor)
    customer = db.session.get(Customer, invoice.customer_id)
    method = autopay_card(customer.id) if customer.autopay_enabled else None
    skip = _why_skip(invoice, customer, method)
    if skip:
        _done(attempt, "skipped", error=skip)
        if invoice.autopay_state in ("scheduled", "charging"):
            invoice.autopay_state = None
        db.session.commit()
        return None
    if _other_charge_in_flight(invoice.id):
        raise ChargeNotSettled("Another charge of this invoice's saved card is in progress.")
    processor = processor_named(method.processor)
    payment = new_saved_method_payment(invoice, method, source="autopay",
                                       idempotency_key=idempotency_key(invoice, attempt.number))
    attempt.payment_id = payment.id
    invoice.autopay_state = "charging"
    audit("autopay.charge", f"invoice {invoice.number}", actor="autopay", amount=payment.amount,
          currency=payment.currency, card=card_label(method), attempt=attempt.number)
    db.session.commit()
    return payment, method, processor


def _why_skip(invoice: Invoice, customer: Customer, method: SavedPaymentMethod | None) -> str | None:
    if invoice.status != "open" or invoice.amount_due <= 0:
        return f"Nothing to charge: the invoice is {invoice.status}."
    if not customer.autopay_enabled:
        return "Autopay was switched off for this customer."
    if method is None:
        return "The customer has no card for autopay."
    return None


def _other_charge_in_flight(invoice_id: int) -> bool:
    return db.session.scalar(
        select(Payment.id).where(Payment.invoice_id == invoice_id, Payment.status == "pending",
                                 Payment.saved_method_id.is_not(None)).limit(1)
    ) is not None


def _settle(attempt_id: int) -> None:
    """Act on the answer recorded on the attempt's payment: paid, confirm it yourself, or declined."""
    attempt = db.session.get(AutopayAttempt, attempt_id)
    if attempt.status == "done" or attempt.payment_id is None:
        return
    invoice = lock_row(Invoice, attempt.invoice_id)
    attempt = lock_row(AutopayAttempt, attempt_id)
    payment = db.session.get(Payment, attempt.payment_id)
    if payment.status == "pending":
        raise ChargeNotSettled("The processor has not confirmed the charge yet.")
    if payment.status in CAPTURED_STATUSES:
        _done(attempt, "succeeded" if payment.status == "succeeded" else "skipped")
    else:
        _declined(attempt, invoice, payment)
    db.session.commit()


def _declined(attempt: AutopayAttempt, invoice: Invoice, payment: Payment) -> None:
    code = payment.failure_code or "declined"
    action = code == ACTION_REQUIRED
    _done(attempt, "action_required" if action else "declined")
    attempt.decline_code = code
    if invoice.status != "open":
        return
    invoice.autopay_state = "action_required" if action else "failed"
    retry_at = None if is_final(code) else next_retry_at(invoice.id, attempt.number)
    if retry_at is not None:
        plan_charge(invoice, attempt.number + 1, retry_at)
        invoice.autopay_state = "failed"
    audit("autopay.declined", f"invoice {invoice.number}", actor="autopay", code=code, attempt=attempt.number,
          next_try=retry_at.isoformat() if retry_at else None)
    emails.queue_failure_notices(payment, invoice, code,
                                 next_try=business_today(retry_at) if retry_at else None)


def _done(attempt: AutopayAttempt, outcome: str, *, error: str | None = None) -> None:
    attempt.status, attempt.outcome, attempt.done_at = "done", outcome, utcnow()
    attempt.lease_until, attempt.last_error = None, error


def _attempt_failed(attempt_id: int, error: str) -> None:
    attempt = db.session.get(AutopayAttempt, attempt_id)
    if not attempt_failed(attempt, error, permanent=False, policy=_policy()):
        log.info("autopay attempt %s: try %s failed: %s", attempt_id, attempt.attempts, error)
        db.session.commit()
        return
    invoice = db.session.get(Invoice, attempt.invoice_id)
    log.warning("autopay attempt %s for invoice %s failed for good: %s", attempt_id, invoice.number, error)
    audit("autopay.not_charged", f"invoice {invoice.number}", actor="autopay", error=error)
    if invoice.status == "open":
        invoice.autopay_state = "failed"
    db.session.commit()
