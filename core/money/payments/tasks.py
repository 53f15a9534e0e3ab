"""What a payment's processor must still do after a commit: close checkout pages, refund money paid twice.

An invoice that is paid, voided or changed must leave no checkout page that can take its money, and money
that arrives for an invoice already paid or voided goes back to the customer (or waits for staff, as the
business chooses). Neither may hang on the processor answering at that moment, nor hold a database lock while
it answers. So each is a :class:`~core.models.ProcessorTask` written in the transaction of the event that
needs it (an unreachable processor never undoes the event, and a crash never loses the task), and carried
out after the commit by :mod:`.task_runner`: at once through the task queue, then by the worker's sweep
until the processor confirms.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from core.extensions import db
from core.models import Invoice, Payment, ProcessorTask
from core.plugins.events import after_commit
from core.tenancy import utcnow

CLOSE_CHECKOUT = "close_checkout"
REFUND = "refund"


def live_checkouts(invoice_id: int) -> list[Payment]:
    """The invoice's checkout payments whose page may still take money: ``pending`` (open, or being opened)
    and ``expiring`` (being closed). Charges of a saved card are not checkouts."""
    return list(db.session.scalars(
        select(Payment)
        .where(Payment.invoice_id == invoice_id, Payment.saved_method_id.is_(None),
               Payment.status.in_(("pending", "expiring")))
        .order_by(Payment.id)
    ))


def close_checkouts(invoice: Invoice, *, keep: Payment | None = None) -> list[Payment]:
    """Close every checkout page of ``invoice`` except ``keep``'s; returns the payments being closed.

    Each is marked ``expiring``, so it is never offered again, and a task closes it at its processor after
    the commit. Call under the invoice's row lock, in the transaction that paid, voided or changed it.
    """
    closing = [p for p in live_checkouts(invoice.id) if keep is None or p.id != keep.id]
    for payment in closing:
        payment.status = "expiring"
        schedule(payment, CLOSE_CHECKOUT)
    return closing


def schedule(payment: Payment, action: str) -> ProcessorTask:
    """Owe ``action`` (``CLOSE_CHECKOUT`` or ``REFUND``) on ``payment``, once: owing it again while it waits
    changes nothing, and a task done or given up starts afresh. The queue is asked to run it after the commit.
    """
    task = db.session.scalar(select(ProcessorTask).where(ProcessorTask.payment_id == payment.id,
                                                         ProcessorTask.action == action))
    if task is None:
        task = ProcessorTask(payment_id=payment.id, action=action, status="pending", attempts=0,
                             next_attempt_at=utcnow())
        db.session.add(task)
        db.session.flush()
    elif task.status != "pending":
        task.status, task.attempts, task.next_attempt_at, task.done_at = "pending", 0, utcnow(), None
    task_id = task.id
    after_commit(lambda: current_app.extensions["suprata"].queue.run_processor_task_soon(task_id))
    return task
