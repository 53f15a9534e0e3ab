"""Customers: the searchable list, the record form, and the detail page with everything about one customer."""

from __future__ import annotations

from io import BytesIO

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from core.account.invitations import INVITATION_PURPOSE, invitation_page, send_invitation
from core.account.logins import login_of_customer
from core.activity import audit, record
from core.console.blueprint import bp
from core.console.exports import csv_download
from core.console.forms import CustomerForm
from core.extensions import db
from core.identity.roles import requires_permission
from core.models import (
    INVOICE_KINDS,
    ActionToken,
    ActivityEvent,
    Agreement,
    AutopayConsent,
    Customer,
    CustomerEmail,
    CustomerPhone,
    Invoice,
    Job,
    OutboxMessage,
    Payment,
    Reservation,
    SavedPaymentMethod,
)
from core.models.customer import search_condition
from core.money.autopay.enrolment import why_not_allowed
from core.money.autopay.rules import autopay_card, autopay_kinds
from core.notifications.events import CHANNEL_TITLES
from core.notifications.reminders import remind_of_job
from core.tenancy import utcnow

PER_PAGE = 25
TIMELINE_LENGTH = 50
BLANK_ROWS = 1


@bp.get("/customers")
@requires_permission("customers")
def customers():
    query = (request.args.get("q") or "").strip()[:200]
    statement = (
        select(Customer)
        .options(selectinload(Customer.emails), selectinload(Customer.phones))
        .order_by(Customer.name, Customer.id)
    )
    if query:
        statement = statement.where(search_condition(query))
    page = db.paginate(statement, per_page=PER_PAGE, error_out=False)
    return render_template("console/customers/list.html", page=page, query=query)


@bp.get("/customers.csv")
@requires_permission("customers")
def customers_csv():
    """Every customer (or those the search finds), one a row, with their emails and phone numbers."""
    query = (request.args.get("q") or "").strip()[:200]
    statement = (select(Customer).options(selectinload(Customer.emails), selectinload(Customer.phones))
                 .order_by(Customer.name, Customer.id))
    if query:
        statement = statement.where(search_condition(query))
    header = ["name", "company", "email", "other emails", "phones", "address", "autopay", "added"]
    return csv_download("customers.csv", header, (
        [customer.name, customer.company or "", customer.primary_email or "",
         " ".join(e.email for e in customer.emails if e.email != customer.primary_email),
         " ".join(p.number for p in customer.phones), customer.address or "",
         "yes" if customer.autopay_enabled else "no", customer.created_at.date().isoformat()]
        for customer in db.session.scalars(statement)))


@bp.route("/customers/new", methods=["GET", "POST"])
@requires_permission("customers")
def new_customer():
    form = CustomerForm()
    if form.validate_on_submit():
        customer = Customer()
        _save(customer, form)
        db.session.add(customer)
        db.session.flush()
        audit("customer.created", f"customer {customer.name}")
        db.session.commit()
        flash(f"{customer.name} is added.", "success")
        return redirect(url_for("console.customer", customer_id=customer.id))
    return _form_page(form, customer=None)


@bp.route("/customers/<int:customer_id>/edit", methods=["GET", "POST"])
@requires_permission("customers")
def edit_customer(customer_id: int):
    customer = db.get_or_404(Customer, customer_id)
    if request.method == "GET":
        form = CustomerForm(data=_form_data(customer), customer_id=customer.id)
    else:
        form = CustomerForm(customer_id=customer.id)
    if form.validate_on_submit():
        _save(customer, form)
        audit("customer.updated", f"customer {customer.name}")
        db.session.commit()
        flash("Saved.", "success")
        return redirect(url_for("console.customer", customer_id=customer.id))
    return _form_page(form, customer=customer)


def _form_page(form: CustomerForm, customer: Customer | None):
    """The form again: with its errors after a failed post, with blank rows to add contacts otherwise."""
    if form.is_submitted():
        return render_template("console/customers/form.html", form=form, customer=customer), 400
    for _ in range(BLANK_ROWS):
        form.emails.append_entry()
        form.phones.append_entry()
    return render_template("console/customers/form.html", form=form, customer=customer)


def _form_data(customer: Customer) -> dict:
    return {
        "name": customer.name,
        "company": customer.company,
        "address": customer.address,
        "internal_notes": customer.internal_notes,
        "emails": [
            {"email": e.email, "primary": e.is_primary, "verified": e.verified_at is not None}
            for e in customer.emails
        ],
        "phones": [
            {"number": p.number, "label": p.label, "verified": p.verified_at is not None}
            for p in customer.phones
        ],
    }


def _save(customer: Customer, form: CustomerForm) -> None:
    customer.name = form.name.data.strip()
    customer.company = (form.company.data or "").strip() or None
    customer.address = (form.address.data or "").strip() or None
    customer.internal_notes = (form.internal_notes.data or "").strip() or None
    _sync_emails(customer, form)
    _sync_phones(customer, form)


def _verified_at(was, verified: bool):
    """Keep the original verification time; staff ticking the box verifies now, unticking clears it."""
    if not verified:
        return None
    return was or utcnow()


def _sync_emails(customer: Customer, form: CustomerForm) -> None:
    # Rows are matched by address and updated in place: deleting and re-adding one would break its
    # uniqueness in the flush and lose when it was verified.
    existing = {e.email: e for e in customer.emails}
    entries = form.filled_emails()
    primary = next((entry.email.data for entry in entries if entry.primary.data), None)
    if primary is None and entries:
        primary = entries[0].email.data
    kept = []
    for entry in entries:
        row = existing.get(entry.email.data) or CustomerEmail(email=entry.email.data)
        row.is_primary = entry.email.data == primary
        row.verified_at = _verified_at(row.verified_at, entry.verified.data)
        kept.append(row)
    customer.emails = kept


def _sync_phones(customer: Customer, form: CustomerForm) -> None:
    existing = {p.number: p for p in customer.phones}
    kept = []
    for entry in form.filled_phones():
        row = existing.get(entry.number.data) or CustomerPhone(number=entry.number.data)
        row.label = (entry.label.data or "").strip() or None
        row.verified_at = _verified_at(row.verified_at, entry.verified.data)
        kept.append(row)
    customer.phones = kept


@bp.get("/customers/<int:customer_id>")
@requires_permission("customers")
def customer(customer_id: int):
    """Everything about one customer, newest first, in a fixed number of queries."""
    record = db.session.scalar(
        select(Customer)
        .where(Customer.id == customer_id)
        .options(selectinload(Customer.emails), selectinload(Customer.phones))
    )
    if record is None:
        abort(404)

    def rows(model, *order):
        return db.session.scalars(
            select(model).where(model.customer_id == customer_id).order_by(*order)
        ).all()

    return render_template(
        "console/customers/detail.html",
        customer=record,
        portal_login=login_of_customer(customer_id),
        can_invite=invitation_page() is not None,
        invited_at=db.session.scalar(
            select(func.max(ActionToken.created_at)).where(
                ActionToken.purpose == INVITATION_PURPOSE, ActionToken.customer_id == customer_id,
                ActionToken.used_at.is_(None), ActionToken.revoked_at.is_(None),
                ActionToken.expires_at > utcnow())
        ),
        autopay=autopay_of(record),
        invoices=rows(Invoice, Invoice.created_at.desc(), Invoice.id.desc()),
        # Money that moved (and charges of a saved card); payment pages opened and left are in each
        # invoice's history instead.
        payments=db.session.execute(
            select(Payment, Invoice.number)
            .join(Invoice, Payment.invoice_id == Invoice.id)
            .where(Payment.customer_id == customer_id,
                   or_(Payment.status.in_(("succeeded", "unapplied", "reversed")),
                       Payment.saved_method_id.is_not(None)))
            .order_by(Payment.created_at.desc(), Payment.id.desc())
        ).all(),
        saved_methods=db.session.scalars(
            select(SavedPaymentMethod)
            .where(SavedPaymentMethod.customer_id == customer_id, SavedPaymentMethod.detached_at.is_(None))
            .order_by(SavedPaymentMethod.created_at.desc())
        ).all(),
        jobs=rows(Job, Job.created_at.desc(), Job.id.desc()),
        agreements=rows(Agreement, Agreement.created_at.desc(), Agreement.id.desc()),
        reservations=rows(Reservation, Reservation.starts_on.desc(), Reservation.id.desc()),
        timeline=db.session.scalars(
            select(ActivityEvent)
            .where(ActivityEvent.customer_id == customer_id)
            .order_by(ActivityEvent.at.desc(), ActivityEvent.id.desc())
            .limit(TIMELINE_LENGTH)
        ).all(),
        notifications=db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.customer_id == customer_id)
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(TIMELINE_LENGTH)
        ).all(),
    )


@bp.post("/customers/<int:customer_id>/invite")
@requires_permission("portal_logins")
def invite_customer(customer_id: int):
    """"Invite to the portal": email the customer a link to create their login."""
    record = db.get_or_404(Customer, customer_id)
    if send_invitation(record, invited_by=current_user.name):
        audit("customer.invited", f"customer {record.name}", email=record.primary_email)
        db.session.commit()
        flash(f"An invitation is on its way to {record.primary_email}; earlier ones stop working.", "success")
    else:
        flash("No invitation was sent: the customer needs an email address on file and no login yet, and "
              "the customer portal must be on.", "error")
    return redirect(url_for("console.customer", customer_id=customer_id))


@bp.post("/customers/<int:customer_id>/jobs/<int:job_id>/remind")
@requires_permission("customers")
def remind_job(customer_id: int, job_id: int):
    """Staff send a scheduled job's reminder now, on the channels the business and customer chose."""
    job = db.session.scalar(select(Job).where(Job.id == job_id, Job.customer_id == customer_id))
    if job is None or job.status != "scheduled" or job.scheduled_start is None:
        abort(404)
    channels = remind_of_job(job)
    if channels:
        record(customer_id, surface="console", kind="job.reminded", summary=f"Reminder of {job.title} sent")
        db.session.commit()
        flash(f"Reminder of {job.title} sent by {' and '.join(CHANNEL_TITLES[c].lower() for c in channels)}.",
              "success")
    else:
        flash("No reminder was sent: reminders are off, or the customer has no email or verified number.",
              "error")
    return redirect(url_for("console.customer", customer_id=customer_id))


def autopay_of(customer: Customer) -> dict:
    """What the customer page shows about autopay: the card, the kinds, why it cannot go on, the consents."""
    return {
        "card": autopay_card(customer.id),
        "kinds": [INVOICE_KINDS[kind] for kind in autopay_kinds()],
        "not_allowed": None if customer.autopay_enabled else why_not_allowed(customer),
        "consents": db.session.scalars(
            select(AutopayConsent).where(AutopayConsent.customer_id == customer.id)
            .options(joinedload(AutopayConsent.staff_user))
            .order_by(AutopayConsent.given_at.desc(), AutopayConsent.id.desc())
        ).all(),
    }


@bp.get("/customers/<int:customer_id>/agreements/<int:agreement_id>/document")
@requires_permission("customers")
def agreement_document(customer_id: int, agreement_id: int):
    agreement = db.session.scalar(
        select(Agreement).where(Agreement.id == agreement_id, Agreement.customer_id == customer_id)
    )
    if agreement is None or agreement.document is None:
        abort(404)
    response = send_file(
        BytesIO(agreement.document),
        mimetype=agreement.document_mime or "application/octet-stream",
        as_attachment=True,
        download_name=agreement.document_name or f"agreement-{agreement.id}",
    )
    response.headers["Cache-Control"] = "no-store"
    return response
