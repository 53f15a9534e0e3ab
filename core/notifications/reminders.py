"""Appointment reminders: before a scheduled job, at the lead time the business sets (unpaid invoices have
their own schedule, :mod:`core.money.follow_up`).

The worker runs :func:`send_reminders_everywhere` every few minutes. Each reminder is claimed in
:class:`~core.models.ReminderSent` under a unique key before it is queued, in the same transaction, so it goes
out once however many workers run; the key holds the appointment's time, so a rescheduled job is reminded of
again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.models import Business, Customer, Job, ReminderSent
from core.notifications.events import event_choice, notify_event
from core.tenancy import business_context, utcnow

log = logging.getLogger("suprata.notifications")

INTERVAL_MINUTES = 5


def send_reminders_everywhere(now: datetime | None = None) -> None:
    """Send what is due in every business, each in its own transaction; one's failure stops no other."""
    business_ids = db.session.scalars(select(Business.id).order_by(Business.id)).all()
    for business_id in business_ids:
        with business_context(business_id):
            try:
                send_due_reminders(now)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("reminders of business %s failed; they are tried again next time", business_id)


def send_due_reminders(now: datetime | None = None) -> int:
    """Queue the current business's due reminders (in the caller's transaction); returns how many."""
    now = now or utcnow()
    return _appointments(now)


def _appointments(now: datetime) -> int:
    choice = event_choice("appointment_reminder")
    if not choice.customer_channels:
        return 0
    jobs = db.session.scalars(
        select(Job)
        .where(Job.status == "scheduled", Job.scheduled_start > now,
               Job.scheduled_start <= now + timedelta(hours=choice.option_value))
        .options(selectinload(Job.customer).selectinload(Customer.emails),
                 selectinload(Job.customer).selectinload(Customer.phones))
    ).all()
    sent = 0
    for job in jobs:
        if _claim("appointment_reminder", f"job:{job.id}:{job.scheduled_start.isoformat()}"):
            remind_of_job(job)
            sent += 1
    return sent


def remind_of_job(job: Job) -> list[str]:
    """Queue the reminder of ``job`` now (in the caller's transaction); returns the channels it goes by."""
    messages = notify_event("appointment_reminder", customer=job.customer, context={
        "customer_name": job.customer.name, "job_title": job.title,
        "starts_at": job.scheduled_start.isoformat()})
    return [message.channel for message in messages]


def _claim(event: str, ref: str) -> bool:
    """True if this reminder was not sent before; it is then marked sent (in a savepoint, so a worker that
    lost the race only loses the claim)."""
    if db.session.scalar(select(ReminderSent.id).where(ReminderSent.event == event, ReminderSent.ref == ref)):
        return False
    try:
        with db.session.begin_nested():
            db.session.add(ReminderSent(event=event, ref=ref))
    except IntegrityError:
        return False
    return True
