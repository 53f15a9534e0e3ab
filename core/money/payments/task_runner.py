"""Carrying out the processor tasks of :mod:`.tasks`: closing checkout pages, refunding money paid twice.

The task queue runs a task right after the commit that wrote it (:func:`run_processor_task`); the worker's
sweep (:func:`run_due_processor_tasks`, every minute) runs what that missed and what waits for a retry.
Claims, leases and backoff are the outbox's (:mod:`core.background.leases`, with the ``SUPRATA_TASK_*``
settings of background tasks), so two workers never run one task at once. A task whose processor refuses or
cannot be reached waits; after its last attempt it fails and is told to staff (audit trail; for a refund, the
billing inbox too). Pay Now closes the pages it replaces itself, in its request (:func:`close_checkout_now`),
because it opens no new page before the old one is closed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from core.activity import audit
from core.background.leases import RetryPolicy, WorkTable, attempt_failed
from core.database import lock_row
from core.extensions import db
from core.models import Invoice, Payment, ProcessorTask
from core.money.payments import emails
from core.money.payments.commands import refund_payment
from core.money.payments.ledger import record_checkout_expired, refunds_of
from core.money.payments.processor import processor_named
from core.money.payments.tasks import CLOSE_CHECKOUT, REFUND
from core.money.payments.types import CAPTURED_STATUSES, PaymentError, ProcessorError
from core.tenancy import utcnow

log = logging.getLogger("suprata.payments")

TASKS = WorkTable(ProcessorTask, claimed="running")
# A page asked for this long ago that still has no processor id was abandoned (the process opening it died
# before it could record the id, so nobody was shown it): there is nothing to close.
OPENING_ABANDONED = timedelta(minutes=5)
AUTOMATIC_REFUND_REASON = "Paid twice: refunded automatically"


def _policy() -> RetryPolicy:
    return RetryPolicy.from_config("SUPRATA_TASK")


def run_due_processor_tasks(limit: int = 100, *, now: datetime | None = None) -> int:
    """Claim and carry out up to ``limit`` due tasks of every business; returns how many were attempted.

    ``now`` runs what is due at that moment instead (tests use it to let a backoff pass).
    """
    return TASKS.work_due(limit, _policy(), _carry_out, now)


def run_processor_task(task_id: int) -> bool:
    """Carry out one task now if it is due and no other worker has it; True if an attempt was made."""
    return TASKS.work_one(task_id, _policy(), _carry_out)


def close_checkout_now(payment: Payment) -> bool:
    """Close the page of ``payment`` (``expiring``) at its processor, in this request; commits.

    True once it is closed, or was paid meanwhile (that money is then recorded, and refunded or held).
    """
    task = db.session.scalar(select(ProcessorTask).where(ProcessorTask.payment_id == payment.id,
                                                         ProcessorTask.action == CLOSE_CHECKOUT))
    return task is not None and (task.status == "done" or _carry_out(task))


def _carry_out(task: ProcessorTask) -> bool:
    """Do ``task`` once; commits. True when it is done."""
    task_id, action = task.id, task.action
    try:
        ACTIONS[action](task)
    except Exception as exc:  # a processor is a plugin: whatever it raises, the task waits for its retry
        if not isinstance(exc, ProcessorError | PaymentError):
            log.exception("processor task %s (%s) raised", task_id, action)
        db.session.rollback()
        _attempt_failed(db.session.get(ProcessorTask, task_id), str(exc) or type(exc).__name__)
        db.session.commit()
        return False
    task = db.session.get(ProcessorTask, task_id)
    task.status, task.done_at, task.lease_until, task.last_error = "done", utcnow(), None, None
    db.session.commit()
    return True


def _close_checkout(task: ProcessorTask) -> None:
    payment = db.session.get(Payment, task.payment_id)
    if payment.status != "expiring":  # paid, or closed, meanwhile
        return
    if payment.checkout_ref is None:
        if utcnow() - payment.created_at < OPENING_ABANDONED:
            raise ProcessorError("The payment page is still being opened; it is closed as soon as it is.")
        lock_row(Invoice, payment.invoice_id)
        payment = lock_row(Payment, payment.id)
        if payment.status == "expiring":
            payment.status = "canceled"
        return
    processor_named(payment.processor).expire_checkout(payment)
    record_checkout_expired(payment.processor, payment.checkout_ref)


def _refund(task: ProcessorTask) -> None:
    payment = lock_row(Payment, task.payment_id)
    in_flight = sum(r.amount for r in refunds_of(payment) if r.status == "pending")
    left = payment.amount - payment.amount_refunded - in_flight
    if payment.status not in CAPTURED_STATUSES or left <= 0:
        return
    refund_payment(payment, left, reason=AUTOMATIC_REFUND_REASON, actor="automatic refund")


ACTIONS: dict[str, Callable[[ProcessorTask], None]] = {CLOSE_CHECKOUT: _close_checkout, REFUND: _refund}


def _attempt_failed(task: ProcessorTask, error: str) -> None:
    if not attempt_failed(task, error, permanent=False, policy=_policy()):
        log.info("processor task %s (%s): attempt %s failed: %s", task.id, task.action, task.attempts, error)
        return
    payment = db.session.get(Payment, task.payment_id)
    invoice = db.session.get(Invoice, payment.invoice_id)
    log.warning("processor task %s (%s) for invoice %s failed for good: %s", task.id, task.action,
                invoice.number, error)
    if task.action == REFUND:
        payment.details = {**payment.details, "handling": "refund_failed"}
        audit("payment.automatic_refund_failed", f"invoice {invoice.number}", amount=payment.amount,
              currency=payment.currency, error=error)
        emails.queue_unapplied_notice(payment, invoice, handling="refund_failed", error=error)
    else:
        audit("payment.checkout_not_closed", f"invoice {invoice.number}", checkout_ref=payment.checkout_ref,
              error=error)
