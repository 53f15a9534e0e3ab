"""Following up unpaid invoices: the reminder schedule, the past-due list, cards about to expire.

An invoice whose automatic charge was declined is an unpaid invoice like any other, not a system error: it
sits on the past-due list beside invoices that were never paid, and gets the same reminders. Reminders go out
on the business's schedule (``reminder_days``: days after the due date, negative before it), through the
outbox, each claimed once under a unique (invoice, day), and stop the moment the invoice is paid: a payment
holds back a reminder still waiting in the outbox (:func:`stop_reminders`). An invoice with no due date counts
from the day it was issued. A customer whose autopay card expires within the business's notice period
(``card_expiry_notice_days``) is told once, with the link to update it.

The worker runs :func:`follow_up_everywhere` every few minutes; each business in its own transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.models import (
    AutopayAttempt,
    Business,
    Customer,
    Invoice,
    InvoiceReminder,
    OutboxMessage,
    SavedPaymentMethod,
)
from core.money.invoicing import issue_pay_link
from core.money.payments import emails
from core.notifications.outbox import enqueue
from core.tenancy import business_context, utcnow
from core.tenancy.state import current_business
from core.tenancy.urls import public_url_for

log = logging.getLogger("suprata.follow_up")

INTERVAL_MINUTES = 15
# Shown on the past-due list: why an invoice is there.
AUTOPAY_DECLINED_STATES = ("failed", "action_required")


def business_today(now: datetime | None = None) -> date:
    """Today's date where the current business is."""
    return (now or utcnow()).astimezone(ZoneInfo(current_business().timezone)).date()


def owed_since():
    """The date an unpaid invoice counts from: its due date, or the day it was issued."""
    return func.coalesce(Invoice.due_date, Invoice.issue_date)


def _unpaid():
    return and_(Invoice.status == "open", Invoice.total > Invoice.amount_paid)


# -- the past-due list ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PastDue:
    """One row of the past-due list."""

    invoice: Invoice
    autopay_declined: bool
    decline_code: str | None
    reminders_sent: int
    last_reminder_day: int | None
    next_reminder_on: date | None


def past_due(today: date) -> list[PastDue]:
    """Unpaid invoices past their due date, and invoices whose automatic charge was declined, oldest first,
    in a fixed number of queries."""
    last_decline = (
        select(AutopayAttempt.decline_code)
        .where(AutopayAttempt.invoice_id == Invoice.id, AutopayAttempt.decline_code.is_not(None))
        .order_by(AutopayAttempt.number.desc()).limit(1).correlate(Invoice).scalar_subquery()
    )
    reminders = (
        select(InvoiceReminder.invoice_id, func.count(InvoiceReminder.id).label("sent"),
               func.max(InvoiceReminder.day).label("last_day"))
        .group_by(InvoiceReminder.invoice_id).subquery()
    )
    rows = db.session.execute(
        select(Invoice, last_decline, reminders.c.sent, reminders.c.last_day)
        .outerjoin(reminders, reminders.c.invoice_id == Invoice.id)
        .where(_unpaid(), or_(owed_since() < today, Invoice.autopay_state.in_(AUTOPAY_DECLINED_STATES)))
        .options(selectinload(Invoice.customer))
        .order_by(owed_since(), Invoice.id)
    ).all()
    schedule = reminder_days()
    return [PastDue(invoice, invoice.autopay_state in AUTOPAY_DECLINED_STATES, code, sent or 0, last_day,
                    _next_reminder(invoice, last_day, schedule))
            for invoice, code, sent, last_day in rows]


def _next_reminder(invoice: Invoice, last_day: int | None, schedule: list[int]) -> date | None:
    start = invoice.due_date or invoice.issue_date
    if start is None:
        return None
    later = [day for day in schedule if last_day is None or day > last_day]
    return start + timedelta(days=later[0]) if later else None


def reminder_days() -> list[int]:
    """The business's reminder schedule: days after the due date (negative: before), in order."""
    return sorted(set(current_business().policy("reminder_days")))


# -- reminders -----------------------------------------------------------------------------------------------


def send_due_reminders(today: date) -> int:
    """Queue the reminders due ``today`` for the current business (in the caller's transaction); returns how
    many. Each invoice gets at most one at a time: the latest step of the schedule it has reached, so a
    schedule switched on for old invoices does not send a burst of them."""
    schedule = reminder_days()
    if not schedule:
        return 0
    sent_up_to = (select(InvoiceReminder.invoice_id, func.max(InvoiceReminder.day).label("day"))
                  .group_by(InvoiceReminder.invoice_id).subquery())
    rows = db.session.execute(
        select(Invoice, sent_up_to.c.day)
        .outerjoin(sent_up_to, sent_up_to.c.invoice_id == Invoice.id)
        .where(_unpaid(), owed_since() <= today - timedelta(days=schedule[0]),
               or_(sent_up_to.c.day.is_(None), sent_up_to.c.day < schedule[-1]))
        .options(selectinload(Invoice.customer).selectinload(Customer.emails))
    ).all()
    sent = 0
    for invoice, last_day in rows:
        start = invoice.due_date or invoice.issue_date
        reached = [day for day in schedule if start + timedelta(days=day) <= today]
        if not reached or (last_day is not None and reached[-1] <= last_day):
            continue
        if _remind(invoice, reached[-1]):
            sent += 1
    return sent


def _remind(invoice: Invoice, day: int) -> bool:
    recipient = invoice.customer.primary_email
    if not recipient:
        return False
    try:
        with db.session.begin_nested():  # a worker that lost the race loses only this claim
            reminder = InvoiceReminder(invoice_id=invoice.id, day=day)
            db.session.add(reminder)
            db.session.flush()
    except IntegrityError:
        return False
    message = enqueue("invoice_reminder", to=recipient, customer_id=invoice.customer_id, context={
        "customer_name": invoice.customer.name, "invoice_number": invoice.number,
        "amount_due": invoice.amount_due, "currency": invoice.currency,
        "due_date": (invoice.due_date or invoice.issue_date).isoformat(), "days": day,
        "autopay_failed": invoice.autopay_state in AUTOPAY_DECLINED_STATES,
        "pay_url": public_url_for("paylink.show", token=issue_pay_link(invoice)),
        "update_card_url": emails.update_card_url()})
    reminder.outbox_message_id = message.id
    return True


def stop_reminders(invoice: Invoice) -> int:
    """The invoice is paid: its reminders still waiting in the outbox are not sent (in the caller's
    transaction). Returns how many were held back."""
    waiting = select(InvoiceReminder.outbox_message_id).where(InvoiceReminder.invoice_id == invoice.id,
                                                              InvoiceReminder.outbox_message_id.is_not(None))
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(waiting), OutboxMessage.status == "pending")
        .values(status="skipped", last_error="The invoice was paid before this reminder went out.",
                context={})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


# -- cards about to expire -----------------------------------------------------------------------------------


def expiring_autopay_cards(today: date) -> list[tuple[SavedPaymentMethod, Customer]]:
    """Autopay cards that expire within the business's notice period (or have expired), soonest first."""
    horizon = today + timedelta(days=current_business().policy("card_expiry_notice_days"))
    rows = db.session.execute(
        select(SavedPaymentMethod, Customer)
        .join(Customer, Customer.id == SavedPaymentMethod.customer_id)
        .where(SavedPaymentMethod.used_for_autopay.is_(True), SavedPaymentMethod.detached_at.is_(None),
               Customer.autopay_enabled.is_(True), SavedPaymentMethod.exp_year.is_not(None),
               SavedPaymentMethod.exp_year <= horizon.year)
        .options(selectinload(Customer.emails))
    ).all()
    due = [(method, customer) for method, customer in rows
           if method.expires_on and method.expires_on <= horizon]
    return sorted(due, key=lambda row: (row[0].expires_on, row[1].name))


def send_expiry_notices(today: date) -> int:
    """Tell each customer whose autopay card expires soon, once per expiry date; returns how many."""
    sent = 0
    for method, customer in expiring_autopay_cards(today):
        if method.expiry_notified_at is None and emails.queue_card_expiring(customer, method):
            method.expiry_notified_at = utcnow()
            sent += 1
    return sent


# -- the worker's run ----------------------------------------------------------------------------------------


def follow_up(now: datetime | None = None) -> tuple[int, int]:
    """The current business's due reminders and card notices (in the caller's transaction)."""
    today = business_today(now)
    return send_due_reminders(today), send_expiry_notices(today)


def follow_up_everywhere(now: datetime | None = None) -> None:
    """:func:`follow_up` for every business, each in its own transaction; one's failure stops no other."""
    for business_id in db.session.scalars(select(Business.id).order_by(Business.id)).all():
        with business_context(business_id):
            try:
                follow_up(now)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("follow-up of business %s failed; it is tried again next time", business_id)
