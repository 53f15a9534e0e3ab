"""Carrying out the processor tasks of :mod:`.tasks`: closing checkout pages, refunding money paid twice.

The task queue runs a task right after the commit that wrote it (:func:`run_task`); the worker's sweep
(:func:`run_due_tasks`, every minute) runs what that missed and what waits for a retry. A run first claims
its task (a conditional update, as the outbox does), so two workers never run one at once. A task whose
processor refuses or cannot be reached waits with exponential backoff; after its last attempt it fails and is
told to staff (audit trail; for a refund, the billing inbox too). Pay Now closes the pages it replaces itself,
in its request (:func:`close_checkout_now`), because it opens no new page before the old one is closed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update

from core.activity import audit
from core.database import lock_row
from core.extensions import db
from core.models import Invoice, Payment, ProcessorTask
from core.money.payments import emails
from core.money.payments.commands import refund_payment
from core.money.payments.ledger import record_checkout_expired, refunds_of
from core.money.payments.processor import processor_named
from core.money.payments.tasks import CLOSE_CHECKOUT, REFUND
from core.money.payments.types import CAPTURED_STATUSES, PaymentError, ProcessorError
from core.tenancy import business_context, utcnow

log = logging.getLogger("suprata.payments")

MAX_ATTEMPTS = 10
RETRY_SECONDS = 30  # the first wait is twice this, then it doubles
RETRY_MAX_SECONDS = 3600
LEASE_SECONDS = 300
# A page asked for this long ago that still has no processor id was abandoned (the process opening it died
# before it could record the id, so nobody was shown it): there is nothing to close.
OPENING_ABANDONED = timedelta(minutes=5)
AUTOMATIC_REFUND_REASON = "Paid twice: refunded automatically"


def run_due_tasks(limit: int = 100) -> int:
    """Claim and carry out up to ``limit`` due tasks of every business; returns how many were attempted."""
    now = utcnow()
    due = (
        select(ProcessorTask.id)
        .where(ProcessorTask.status == "pending", ProcessorTask.next_attempt_at <= now)
        .order_by(ProcessorTask.next_attempt_at, ProcessorTask.id)
        .limit(limit)
        .execution_options(all_businesses=True)
    )
    claimed = [task_id for task_id in db.session.scalars(due).all() if _claim(task_id, now)]
    db.session.commit()
    for task_id in claimed:
        _run_claimed(task_id)
    return len(claimed)


def run_task(task_id: int) -> bool:
    """Carry out one task now if it is due and no other worker has it; True if an attempt was made."""
    claimed = _claim(task_id, utcnow())
    db.session.commit()
    if claimed:
        _run_claimed(task_id)
    return claimed


def close_checkout_now(payment: Payment) -> bool:
    """Close the page of ``payment`` (``expiring``) at its processor, in this request; commits.

    True once it is closed, or was paid meanwhile (that money is then recorded, and refunded or held).
    """
    task = db.session.scalar(select(ProcessorTask).where(ProcessorTask.payment_id == payment.id,
                                                         ProcessorTask.action == CLOSE_CHECKOUT))
    return task is not None and (task.status == "done" or _carry_out(task))


def _claim(task_id: int, now) -> bool:
    # Pushing the next attempt past a lease is the claim: a worker that dies mid-task is taken over after it.
    result = db.session.execute(
        update(ProcessorTask)
        .where(ProcessorTask.id == task_id, ProcessorTask.status == "pending",
               ProcessorTask.next_attempt_at <= now)
        .values(next_attempt_at=now + timedelta(seconds=LEASE_SECONDS))
        .execution_options(all_businesses=True, synchronize_session=False)
    )
    return result.rowcount == 1


def _run_claimed(task_id: int) -> None:
    business_id = db.session.scalar(
        select(ProcessorTask.business_id)
        .where(ProcessorTask.id == task_id)
        .execution_options(all_businesses=True)
    )
    if business_id is None:  # deleted with its business since it was claimed
        return
    with business_context(business_id):
        _carry_out(db.session.get(ProcessorTask, task_id))


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
    task.status, task.done_at, task.last_error = "done", utcnow(), None
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
    task.attempts += 1
    task.last_error = error[:2000]
    if task.attempts < MAX_ATTEMPTS:
        wait = min(RETRY_SECONDS * 2 ** task.attempts, RETRY_MAX_SECONDS)
        task.next_attempt_at = utcnow() + timedelta(seconds=wait)
        log.info("processor task %s (%s): attempt %s failed, next in %ss: %s", task.id, task.action,
                 task.attempts, wait, error)
        return
    task.status = "failed"
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
