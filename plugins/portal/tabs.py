"""The customer's tabs: invoices (history, paying, receipts, PDFs), jobs and appointment requests,
reservations, agreements and their own activity.

Every query is limited to the signed-in customer (and, by core's tenancy rule, to the business), so another
customer's or business's id answers 404 exactly like an id that does not exist. Pages show what is the
customer's to see and nothing staff-only (internal notes, costs). Downloads are attachments, kept by no
cache. Views, payments, requests and downloads go on the customer's timeline that staff see.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from io import BytesIO

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import exists, func, select

from core.plugin_api import (
    INVOICE_KINDS,
    ActivityEvent,
    Agreement,
    AppointmentRequest,
    Consent,
    Invoice,
    InvoiceStateError,
    InvoiceView,
    Job,
    Payment,
    PaymentError,
    Reservation,
    balance_invoice,
    check_returning_payment,
    connected_processor,
    current_business,
    db,
    invoice_pdf,
    limiter,
    open_checkout,
    public_url,
    receipt_payments,
    receipt_pdf,
    record_activity,
    save_card_wording,
    utcnow,
)
from plugins.portal import appointments
from plugins.portal.blueprints import portal
from plugins.portal.forms import AppointmentForm

PER_PAGE = 20
VISIBLE_STATUSES = ("open", "paid", "void")  # drafts are the business's own until sent
STATUS_WORDS = {"open": "Due", "paid": "Paid", "void": "Cancelled"}
# The customer's own doings; what staff or the system did stays on the staff's side of the timeline.
OWN_SURFACES = ("pay_link", "portal", "help")
CHECKOUT_LIMIT = "10 per minute"
RETURN_REFRESH_SECONDS = 3


@dataclass(frozen=True)
class Page:
    """One page of a list, in the shape of Flask-SQLAlchemy's pagination (the console's macro reads it)."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(math.ceil(self.total / self.per_page), 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def _customer_id() -> int:
    return current_user.customer_id


def _page_number() -> int:
    return max(request.args.get("page", 1, type=int), 1)


def _own(model, record_id: int):
    """The signed-in customer's ``model`` row, or 404 (another customer's looks like a missing one)."""
    row = db.session.scalar(select(model).where(model.id == record_id, model.customer_id == _customer_id()))
    if row is None:
        abort(404)
    return row


def _attachment(data: bytes, name: str, mimetype: str):
    response = send_file(BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


@portal.get("/")
def home():
    return redirect(url_for("portal.invoices"))


# -- invoices ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceFilters:
    status: str
    kind: str
    since: date | None
    until: date | None

    @classmethod
    def from_request(cls) -> InvoiceFilters:
        args = request.args
        status = args.get("status", "")
        kind = args.get("kind", "")
        return cls(status=status if status in VISIBLE_STATUSES else "",
                   kind=kind if kind in INVOICE_KINDS else "",
                   since=_date_arg("from"), until=_date_arg("to"))

    def conditions(self) -> list:
        conditions = [Invoice.customer_id == _customer_id(),
                      Invoice.status.in_([self.status] if self.status else VISIBLE_STATUSES)]
        if self.kind:
            conditions.append(Invoice.kind == self.kind)
        if self.since:
            conditions.append(Invoice.issue_date >= self.since)
        if self.until:
            conditions.append(Invoice.issue_date <= self.until)
        return conditions

    def args(self) -> dict:
        """The filters as query arguments, for the pagination links."""
        values = {"status": self.status, "kind": self.kind, "from": self.since, "to": self.until}
        return {name: value for name, value in values.items() if value}


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@portal.get("/invoices")
def invoices():
    """The customer's invoices, newest first, filtered and paginated in one query whatever their number."""
    filters = InvoiceFilters.from_request()
    number = _page_number()
    rows = db.session.execute(
        select(Invoice, func.count().over())
        .where(*filters.conditions())
        .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
        .limit(PER_PAGE).offset((number - 1) * PER_PAGE)
    ).all()
    page = Page(items=[invoice for invoice, _ in rows], page=number, per_page=PER_PAGE,
                total=rows[0][1] if rows else 0)
    return render_template("portal/invoices.html", page=page, filters=filters, kinds=INVOICE_KINDS,
                           statuses=STATUS_WORDS, can_pay=connected_processor() is not None)


def _visible_invoice(invoice_id: int) -> Invoice:
    invoice = _own(Invoice, invoice_id)
    if invoice.status not in VISIBLE_STATUSES:
        abort(404)
    return invoice


@portal.get("/invoices/<int:invoice_id>")
def invoice(invoice_id: int):
    """One invoice, with Pay Now while it is due; the first view in the portal goes on the timeline."""
    record = _visible_invoice(invoice_id)
    processor = connected_processor() if record.status == "open" and record.amount_due > 0 else None
    page = render_template("portal/invoice.html", invoice=record, can_pay=processor is not None,
                           save_card_wording=save_card_wording(current_business().name))
    seen = db.session.scalar(select(exists().where(InvoiceView.invoice_id == record.id,
                                                   InvoiceView.pay_link_id.is_(None))))
    db.session.add(InvoiceView(invoice_id=record.id, ip=request.remote_addr,
                               user_agent=request.user_agent.string[:300] or None))
    if not seen:
        record_activity(record.customer_id, surface="portal", kind="invoice.viewed",
                        summary=f"Viewed invoice {record.number} in the portal", invoice_id=record.id)
    db.session.commit()
    return page


@portal.post("/invoices/<int:invoice_id>/pay")
@limiter.limit(CHECKOUT_LIMIT)
def pay(invoice_id: int):
    """Pay Now: the pay link's checkout (one live checkout per invoice), then the processor's page."""
    record = _visible_invoice(invoice_id)
    consent = None
    if request.form.get("save_card") == "yes":
        consent = Consent(at=utcnow(), text=save_card_wording(current_business().name),
                          ip=request.remote_addr, user_agent=request.user_agent.string[:300] or None)
    try:
        opened = open_checkout(
            record, source="portal", consent=consent,
            success_url=lambda payment: public_url("portal.payment_return", invoice_id=invoice_id,
                                                   payment=payment),
            cancel_url=public_url("portal.invoice", invoice_id=invoice_id),
        )
    except PaymentError as exc:
        flash(str(exc), "error")
        return redirect(url_for("portal.invoice", invoice_id=invoice_id))
    return redirect(opened.url, code=303)


@portal.get("/invoices/<int:invoice_id>/return")
def payment_return(invoice_id: int):
    """Back from the processor: "processing" until it confirms server-side, then "paid"."""
    record = _visible_invoice(invoice_id)
    payment = db.session.get(Payment, request.args.get("payment", type=int) or 0)
    if payment is None or payment.invoice_id != record.id:
        return redirect(url_for("portal.invoice", invoice_id=invoice_id))
    payment = check_returning_payment(payment)
    record = db.session.get(Invoice, invoice_id)
    return render_template("paylink/return.html", invoice=record, payment=payment,
                           invoice_url=url_for("portal.invoice", invoice_id=invoice_id),
                           receipt_url=url_for("portal.receipt", invoice_id=invoice_id),
                           refresh_seconds=RETURN_REFRESH_SECONDS)


@portal.get("/invoices/<int:invoice_id>/receipt")
def receipt(invoice_id: int):
    record = _visible_invoice(invoice_id)
    if record.status != "paid":
        return redirect(url_for("portal.invoice", invoice_id=invoice_id))
    return render_template("portal/receipt.html", invoice=record, payments=receipt_payments(record))


@portal.get("/invoices/<int:invoice_id>/invoice.pdf")
def invoice_document(invoice_id: int):
    record = _visible_invoice(invoice_id)
    name, pdf = invoice_pdf(record)
    return _downloaded(record.customer_id, f"Downloaded invoice {record.number} (PDF)", pdf, name,
                       invoice_id=record.id)


@portal.get("/invoices/<int:invoice_id>/receipt.pdf")
def receipt_document(invoice_id: int):
    record = _visible_invoice(invoice_id)
    if record.status != "paid":
        abort(404)
    name, pdf = receipt_pdf(record)
    return _downloaded(record.customer_id, f"Downloaded the receipt of invoice {record.number} (PDF)", pdf,
                       name, invoice_id=record.id)


def _downloaded(customer_id: int, summary: str, data: bytes, name: str, *, mimetype="application/pdf", **ref):
    """The file as an attachment, and the download on the timeline."""
    record_activity(customer_id, surface="portal", kind="document.downloaded", summary=summary, **ref)
    db.session.commit()
    return _attachment(data, name, mimetype)


# -- jobs and appointments --------------------------------------------------------------------------------


@portal.get("/jobs")
def jobs():
    customer_id = _customer_id()
    return render_template(
        "portal/jobs.html",
        jobs=db.session.scalars(select(Job).where(Job.customer_id == customer_id)
                                .order_by(Job.scheduled_start.desc(), Job.id.desc())).all(),
        requests=db.session.scalars(
            select(AppointmentRequest).where(AppointmentRequest.customer_id == customer_id)
            .order_by(AppointmentRequest.created_at.desc())).all(),
    )


@portal.route("/jobs/request", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def request_appointment():
    form = AppointmentForm()
    if form.validate_on_submit():
        appointments.request_appointment(current_user.customer, service=form.service.data,
                                         preferences=form.chosen(), notes=form.notes.data)
        db.session.commit()
        flash("Your request is sent. We'll email you when we have confirmed a time.", "success")
        return redirect(url_for("portal.jobs"))
    if not form.is_submitted():
        form.default_first_date()
    return render_template("portal/request_appointment.html", form=form), 400 if form.is_submitted() else 200


@portal.post("/appointments/<int:request_id>/accept")
def accept_proposed_time(request_id: int):
    _own(AppointmentRequest, request_id)
    try:
        appointments.accept_proposal(_customer_id(), request_id)
    except appointments.AppointmentError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash("The appointment is booked. See you then!", "success")
    return redirect(url_for("portal.jobs"))


# -- reservations -----------------------------------------------------------------------------------------


@portal.get("/reservations")
def reservations():
    return render_template(
        "portal/reservations.html", can_pay=connected_processor() is not None,
        reservations=db.session.scalars(select(Reservation).where(Reservation.customer_id == _customer_id())
                                        .order_by(Reservation.starts_on.desc(), Reservation.id.desc())).all())


@portal.post("/reservations/<int:reservation_id>/pay")
@limiter.limit(CHECKOUT_LIMIT)
def pay_reservation(reservation_id: int):
    """Pay the balance: an invoice for what is owed (the same one again while it is unpaid), paid there."""
    reservation = _own(Reservation, reservation_id)
    try:
        balance = balance_invoice(reservation)
    except InvoiceStateError as exc:
        flash(str(exc), "error")
        return redirect(url_for("portal.reservations"))
    db.session.commit()
    return redirect(url_for("portal.invoice", invoice_id=balance.id))


# -- agreements -------------------------------------------------------------------------------------------


@portal.get("/agreements")
def agreements():
    return render_template(
        "portal/agreements.html",
        agreements=db.session.scalars(select(Agreement).where(Agreement.customer_id == _customer_id())
                                      .order_by(Agreement.signed_at.desc(), Agreement.id.desc())).all())


@portal.get("/agreements/<int:agreement_id>/document")
def agreement_document(agreement_id: int):
    """The signed document, to the customer it belongs to only, as a download."""
    agreement = _own(Agreement, agreement_id)
    if agreement.document is None:
        abort(404)
    return _downloaded(agreement.customer_id, f"Downloaded the agreement “{agreement.title}”",
                       agreement.document, agreement.document_name or f"agreement-{agreement.id}",
                       mimetype=agreement.document_mime or "application/octet-stream",
                       agreement_id=agreement.id)


# -- activity ---------------------------------------------------------------------------------------------


@portal.get("/activity")
def activity():
    """What the customer did on the pay link, in the portal and on the help site, newest first."""
    number = _page_number()
    rows = db.session.execute(
        select(ActivityEvent, func.count().over())
        .where(ActivityEvent.customer_id == _customer_id(), ActivityEvent.surface.in_(OWN_SURFACES))
        .order_by(ActivityEvent.at.desc(), ActivityEvent.id.desc())
        .limit(PER_PAGE).offset((number - 1) * PER_PAGE)
    ).all()
    page = Page(items=[event for event, _ in rows], page=number, per_page=PER_PAGE,
                total=rows[0][1] if rows else 0)
    return render_template("portal/activity.html", page=page)
