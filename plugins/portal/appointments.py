"""Appointment requests: a customer asks for a visit with preferred dates and times of day; staff confirm a
time (the visit becomes a scheduled job), propose another one (which the customer may accept), or decline.
Each side is emailed when the other acts, and each step goes on the customer's timeline."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from core.plugin_api import (
    TIME_WINDOWS,
    AppointmentRequest,
    Customer,
    Job,
    current_business,
    db,
    format_date,
    format_datetime,
    lock_row,
    notify,
    public_url,
    record_activity,
    utcnow,
)

OPEN_STATUSES = ("requested", "proposed")


class AppointmentError(ValueError):
    """The request is not in a state that allows this; the message is for the user."""


def in_words(preferences: list[tuple[date, str | None]]) -> str:
    """ "Jul 2, 2026, Morning (8–12); Jul 3, 2026, Any time", in the business's locale."""
    return "; ".join(f"{format_date(day)}, {TIME_WINDOWS.get(window, window)}" for day, window in preferences)


def request_appointment(customer: Customer, *, service: str, preferences: list[tuple[date, str]],
                        notes: str | None) -> AppointmentRequest:
    """Record the customer's request and tell the business. In the caller's transaction."""
    (first_day, first_window), *others = preferences
    appointment = AppointmentRequest(
        customer_id=customer.id, service=service.strip(), preferred_date=first_day,
        preferred_window=first_window,
        other_preferences=[{"date": day.isoformat(), "window": window} for day, window in others],
        notes=(notes or "").strip() or None, status="requested")
    db.session.add(appointment)
    db.session.flush()
    record_activity(customer.id, surface="portal", kind="appointment.requested",
                    summary=f"Requested an appointment: {appointment.service}", appointment_id=appointment.id)
    office = current_business().email
    if office:
        notify("appointment_requested", to=office,
               context={"customer_name": customer.name, "service": appointment.service,
                        "preferences": in_words(appointment.preferences), "notes": appointment.notes,
                        "review_url": public_url("portal_console.appointments_page")})
    return appointment


def open_requests() -> list[AppointmentRequest]:
    """Requests waiting for staff or for the customer, oldest first."""
    statement = select(AppointmentRequest).where(AppointmentRequest.status.in_(OPEN_STATUSES))
    return list(db.session.scalars(statement.order_by(AppointmentRequest.created_at)))


def answer(request_id: int, outcome: str, *, start: datetime | None, end: datetime | None, reply: str | None,
           staff_name: str) -> AppointmentRequest:
    """Staff confirm ``start``-``end`` (``"scheduled"``), propose it instead (``"proposed"``) or decline;
    the customer is emailed. In the caller's transaction."""
    appointment = _open(request_id)
    appointment.reply = (reply or "").strip() or None
    appointment.decided_at = utcnow()
    if outcome == "scheduled":
        _schedule(appointment, start, end)
        summary = f"Appointment confirmed by {staff_name}: {appointment.service}, {format_datetime(start)}"
    elif outcome == "proposed":
        appointment.status = "proposed"
        appointment.proposed_start, appointment.proposed_end = start, end
        summary = f"{staff_name} proposed {format_datetime(start)} for {appointment.service}"
    else:
        appointment.status = "declined"
        summary = f"Appointment request declined by {staff_name}: {appointment.service}"
    record_activity(appointment.customer_id, surface="console", kind=f"appointment.{outcome}",
                    summary=summary, appointment_id=appointment.id)
    _tell_customer(appointment, outcome, start)
    return appointment


def accept_proposal(customer_id: int, request_id: int) -> AppointmentRequest:
    """The customer takes the time staff proposed: the visit is scheduled and the business told."""
    appointment = _open(request_id)
    if appointment.customer_id != customer_id or appointment.status != "proposed":
        raise AppointmentError("There is no proposed time to accept on this request.")
    start = appointment.proposed_start
    _schedule(appointment, start, appointment.proposed_end)
    record_activity(customer_id, surface="portal", kind="appointment.accepted",
                    summary=f"Accepted {format_datetime(start)} for {appointment.service}",
                    appointment_id=appointment.id)
    office = current_business().email
    if office:
        _tell(office, appointment, "scheduled", start)
    return appointment


def _open(request_id: int) -> AppointmentRequest:
    appointment = lock_row(AppointmentRequest, request_id)
    if appointment is None or appointment.status not in OPEN_STATUSES:
        raise AppointmentError("This request was already answered.")
    return appointment


def _schedule(appointment: AppointmentRequest, start: datetime, end: datetime) -> None:
    job = appointment.job or Job(customer_id=appointment.customer_id, title=appointment.service,
                                 description=appointment.notes)
    job.status, job.scheduled_start, job.scheduled_end = "scheduled", start, end
    appointment.job = job
    appointment.status = "scheduled"
    appointment.proposed_start = appointment.proposed_end = None


def _tell_customer(appointment: AppointmentRequest, outcome: str, start: datetime | None) -> None:
    customer = db.session.get(Customer, appointment.customer_id)
    if customer.primary_email:
        _tell(customer.primary_email, appointment, outcome, start, customer=customer)


def _tell(to: str, appointment: AppointmentRequest, outcome: str, start: datetime | None, *,
          customer: Customer | None = None) -> None:
    customer = customer or db.session.get(Customer, appointment.customer_id)
    notify("appointment_answered", to=to, customer_id=customer.id,
           context={"customer_name": customer.name, "service": appointment.service, "outcome": outcome,
                    "when": format_datetime(start) if start else None, "reply": appointment.reply,
                    "jobs_url": public_url("portal.jobs")})
