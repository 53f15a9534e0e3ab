"""Whether customers can pay online, for the dashboard's "Needs a look": payments must not stop silently.

Online payment stops when no processor is connected, when calls to the processor fail (a key revoked or
mistyped, the processor unreachable), or when its webhooks stop arriving (payments are then never marked
paid). The first is read from the business's settings; the others are recorded here as they happen, in a
:class:`~core.models.ProcessorHealth` row per processor: failures by core where it calls a processor, and
webhooks by the processor plugin (``record_webhook_received``), which also reports the result of its own
connection checks (``record_processor_status``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from core.extensions import db
from core.models import InvoiceView, Payment, ProcessorHealth
from core.money.payments.processor import connected_processor, processors
from core.tenancy import utcnow

# A processor reports every checkout page it opened within a day (paid, or expired unpaid): a page opened
# longer ago than this with no webhook since means webhooks are not arriving.
WEBHOOK_SILENCE = timedelta(days=1)
UNAVAILABLE_WINDOW = timedelta(days=30)


def _health(processor_name: str) -> ProcessorHealth:
    health = db.session.scalar(select(ProcessorHealth).where(ProcessorHealth.processor == processor_name))
    if health is None:
        health = ProcessorHealth(processor=processor_name)
        db.session.add(health)
    return health


def record_webhook_received(processor_name: str) -> None:
    """A verified webhook of ``processor_name`` arrived (in the caller's transaction)."""
    _health(processor_name).last_webhook_at = utcnow()


def record_processor_status(processor_name: str, problem: str | None) -> None:
    """A call to the processor failed with ``problem`` (for staff), or worked (None), in the caller's
    transaction. A failure is remembered from when it started until a call works again."""
    health = _health(processor_name)
    if problem is None:
        health.failing_since, health.failure = None, None
    else:
        health.failing_since = health.failing_since or utcnow()
        health.failure = problem[:500]


@dataclass(frozen=True)
class PaymentProblem:
    """One reason customers may not be able to pay online, in words, with what to do."""

    what: str
    fix: str


def payment_problems(now: datetime | None = None) -> list[PaymentProblem]:
    """What stops, or may stop, the current business's customers from paying online."""
    now = now or utcnow()
    found = []
    if connected_processor() is None:
        found.append(PaymentProblem("Customers can't pay online: no payment processor is connected.",
                                    "Switch on a payment plugin and enter its keys on the Plugins page."))
    labels = {processor.name: processor.label or processor.name for processor in processors()}
    for health in db.session.scalars(select(ProcessorHealth).order_by(ProcessorHealth.processor)):
        label = labels.get(health.processor, health.processor)
        if health.failing_since is not None:
            found.append(PaymentProblem(f"Calls to {label} are failing: {health.failure}",
                                        "Check its keys on the Plugins page and test the connection."))
    for name, label in labels.items():
        silent = _checkouts_without_webhooks(name, now)
        if silent:
            found.append(PaymentProblem(
                f"No webhook from {label} has arrived for a day, though customers opened {silent} payment "
                f"page{'s' if silent != 1 else ''} since the last one.",
                "Payments may not be marked paid: check the webhook address and signing secret at "
                f"{label} against the Plugins page."))
    shown = unavailable_views(now)
    if shown:
        found.append(PaymentProblem(
            f"Pay links told customers “Online payment isn't available” {shown} "
            f"time{'s' if shown != 1 else ''} in the last 30 days.",
            "Those customers could not pay online; connect a payment processor, or contact them."))
    return found


def _checkouts_without_webhooks(processor_name: str, now: datetime) -> int:
    last_webhook = db.session.scalar(select(ProcessorHealth.last_webhook_at)
                                     .where(ProcessorHealth.processor == processor_name))
    conditions = [Payment.processor == processor_name, Payment.checkout_ref.is_not(None),
                  Payment.created_at <= now - WEBHOOK_SILENCE]
    if last_webhook is not None:
        if now - last_webhook < WEBHOOK_SILENCE:
            return 0
        conditions.append(Payment.created_at > last_webhook)
    return db.session.scalar(select(func.count(Payment.id)).where(*conditions)) or 0


def unavailable_views(now: datetime | None = None) -> int:
    """How often, in the last 30 days, a pay link said "Online payment isn't available" to a customer who
    owed money."""
    since = (now or utcnow()) - UNAVAILABLE_WINDOW
    return db.session.scalar(
        select(func.count(InvoiceView.id))
        .where(InvoiceView.payment_offered.is_(False), InvoiceView.viewed_at >= since)) or 0
