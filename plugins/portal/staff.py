"""The portal's pages in the staff console: sign-ups waiting for approval, and appointment requests."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from core.plugin_api import AppointmentRequest, Customer, current_business, db, requires_permission
from plugins.portal import appointments, approvals
from plugins.portal.blueprints import console
from plugins.portal.forms import AnswerForm, ApproveForm, DeclineForm
from plugins.portal.models import PortalApplication


@console.get("/applications")
@requires_permission("portal_logins")
def applications():
    """Sign-ups with an address not on file, oldest first, and the latest decisions."""
    return render_template("portal/console/applications.html", waiting=approvals.waiting(),
                           decided=approvals.recently_decided())


@console.route("/applications/<int:application_id>", methods=["GET", "POST"])
@requires_permission("portal_logins")
def application(application_id: int):
    """One sign-up: link it to a customer found by search (or a new one) and invite the applicant."""
    record = db.get_or_404(PortalApplication, application_id)
    query = (request.args.get("q") or "").strip()[:200]
    form = ApproveForm()
    matches = approvals.candidates(record, query)
    form.customer.choices = {approvals.NEW_CUSTOMER: f"A new customer: {record.name}"} | {
        str(c.id): f"{c.name}{' · ' + c.company if c.company else ''} ({c.primary_email or 'no email'})"
        for c in matches}
    if record.status == "pending" and form.validate_on_submit():
        try:
            customer = approvals.approve(record.id, form.customer.data, staff_name=current_user.name)
        except approvals.ApprovalError as exc:
            db.session.rollback()
            form.customer.errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"{record.email} is linked to {customer.name}; an email with a link to choose a password "
                  "is on its way.", "success")
            return redirect(url_for("portal_console.applications"))
    status = 400 if form.errors else 200
    return render_template("portal/console/application.html", application=record, form=form, query=query,
                           decline_form=DeclineForm()), status


@console.post("/applications/<int:application_id>/decline")
@requires_permission("portal_logins")
def decline_application(application_id: int):
    db.get_or_404(PortalApplication, application_id)
    if DeclineForm().validate_on_submit():
        try:
            declined = approvals.decline(application_id, staff_name=current_user.name)
        except approvals.ApprovalError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(f"The sign-up of {declined.email} is declined; they are told by email.", "success")
    return redirect(url_for("portal_console.applications"))


@console.get("/appointments")
@requires_permission("customers")
def appointments_page():
    """Appointment requests waiting for an answer (or for the customer to accept a proposed time)."""
    waiting = appointments.open_requests()
    ids = {r.customer_id for r in waiting}
    customers = {c.id: c for c in db.session.scalars(select(Customer).where(Customer.id.in_(ids)))}
    forms = {}
    for item in waiting:
        forms[item.id] = AnswerForm(prefix=_prefix(item.id), formdata=None)
        forms[item.id].day.data = item.preferred_date
    return render_template("portal/console/appointments.html", waiting=waiting, customers=customers,
                           forms=forms)


def _prefix(request_id: int) -> str:
    """Each request's answer form on the page has fields of its own (labels point at the right field)."""
    return f"request-{request_id}"


@console.post("/appointments/<int:request_id>")
@requires_permission("customers")
def answer_appointment(request_id: int):
    appointment = db.get_or_404(AppointmentRequest, request_id)
    form = AnswerForm(prefix=_prefix(request_id))
    if not form.validate_on_submit():
        flash("; ".join(error for errors in form.errors.values() for error in errors), "error")
        return redirect(url_for("portal_console.appointments_page"))
    start = end = None
    if form.outcome.data != "declined":
        zone = ZoneInfo(current_business().timezone)
        start = datetime.combine(form.day.data, form.start.data, tzinfo=zone)
        end = start + timedelta(hours=form.hours.data)
    try:
        appointments.answer(appointment.id, form.outcome.data, start=start, end=end, reply=form.reply.data,
                            staff_name=current_user.name)
    except appointments.AppointmentError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(f"Answered: {appointment.service}. The customer is told by email.", "success")
    return redirect(url_for("portal_console.appointments_page"))


