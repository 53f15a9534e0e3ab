"""Invoices: the draft form with lines and live totals, correcting a sent invoice, duplicating one, the detail
page, and the life-cycle actions (send, void). The list, its exports and bulk actions are in
:mod:`.invoice_list`; pay links in :mod:`.pay_links`; money actions in :mod:`.payments`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from core.activity import audit
from core.console.audit import entries_about
from core.console.blueprint import bp
from core.console.customers import search_condition
from core.console.invoice_forms import (
    Catalog,
    InvoiceForm,
    OfflinePaymentForm,
    PayLinkForm,
    VoidForm,
    invoice_form_data,
)
from core.extensions import db
from core.identity.roles import requires_permission
from core.models import AutopayAttempt, Business, Customer, Invoice, InvoiceView, Payment, SavedPaymentMethod
from core.money.amounts import format_money, to_major_text
from core.money.invoicing import (
    InvoiceStateError,
    can_correct,
    correct_invoice,
    duplicate_invoice,
    live_pay_link,
    next_invoice_number,
    send_invoice,
    void_invoice,
)
from core.money.payments.offline import business_today
from core.money.payments.types import CAPTURED_STATUSES
from core.money.payments.wording import save_card_wording
from core.tenancy.state import current_business
from core.tenancy.urls import public_url_for

PER_PAGE = 25
VIEWS_SHOWN = 50
HISTORY_SHOWN = 20


@bp.route("/invoices/new", methods=["GET", "POST"])
@requires_permission("invoices.manage")
def new_invoice():
    """Without a customer: pick one (searchable). With one: the draft form."""
    customer_id = request.args.get("customer", type=int)
    if customer_id is None:
        return _pick_customer()
    customer = db.get_or_404(Customer, customer_id)
    business = current_business()
    form = _invoice_form(currency=business.currency, rounding=business.policy("tax_rounding"))
    if not _ready_to_save(form):
        return _form_page(form, customer=customer, invoice=None)
    invoice = _numbered(lambda number: _new_draft(customer, form, number))
    audit("invoice.created", f"invoice {invoice.number}")
    db.session.commit()
    flash(f"Draft {invoice.number} is saved.", "success")
    return redirect(url_for("console.invoice", invoice_id=invoice.id))


def _pick_customer():
    query = (request.args.get("q") or "").strip()[:200]
    matches = []
    if query:
        matches = db.session.scalars(
            select(Customer)
            .where(search_condition(query))
            .order_by(Customer.name, Customer.id)
            .limit(PER_PAGE)
        ).all()
    return render_template("console/invoices/pick_customer.html", query=query, matches=matches)


def _new_draft(customer: Customer, form: InvoiceForm, number: str) -> Invoice:
    invoice = Invoice(customer_id=customer.id, currency=current_business().currency, status="draft",
                      number=number, tax_rounding=current_business().policy("tax_rounding"))
    form.fill(invoice)
    return invoice


def _numbered(make) -> Invoice:
    """The invoice ``make(number)`` returns, added under the business's next number (its counter is locked
    until this transaction ends, so two staff never get the same one)."""
    prefix = db.session.get(Business, current_business().id).invoice_prefix
    invoice = make(next_invoice_number(prefix))
    db.session.add(invoice)
    db.session.flush()
    return invoice


def _invoice_form(invoice: Invoice | None = None, *, currency: str, rounding: str) -> InvoiceForm:
    """The form, filled from ``invoice`` on a GET, from the request on a POST."""
    keep = {line.tax_rate_id for line in invoice.lines if line.tax_rate_id} if invoice else set()
    catalog = Catalog(keep_rate_ids=keep)
    if request.method == "GET" and invoice is not None:
        return InvoiceForm(data=invoice_form_data(invoice), currency=currency, catalog=catalog,
                           rounding=rounding)
    return InvoiceForm(currency=currency, catalog=catalog, rounding=rounding)


def _ready_to_save(form: InvoiceForm) -> bool:
    """True for a valid post of "Save"; "Add a line" adds an empty row and "Work out the totals" shows
    them, both saving nothing (the page's script does both without a round trip)."""
    if form.is_submitted() and form.add_line.data:
        form.validate()
        form.add_blank_line()
        return False
    if form.is_submitted() and form.recalculate.data:
        form.validate()
        return False
    return form.validate_on_submit()


def _form_page(form: InvoiceForm, *, customer: Customer, invoice: Invoice | None, correcting: bool = False):
    asked = form.add_line.data or form.recalculate.data
    status = 400 if form.is_submitted() and not asked else 200
    if asked:  # only a saving post shows what is wrong; these only show the figures as they are
        _forget_errors(form)
    page = render_template("console/invoices/form.html", form=form, customer=customer, invoice=invoice,
                           correcting=correcting, catalog=form.catalog)
    return page, status


def _forget_errors(form: InvoiceForm) -> None:
    form.form_errors.clear()
    for field in form:
        if field.type == "FieldList":
            for entry in field:
                for sub in entry.form:
                    sub.errors = []
        else:
            field.errors = []


@bp.route("/invoices/<int:invoice_id>/edit", methods=["GET", "POST"])
@requires_permission("invoices.manage")
def edit_invoice(invoice_id: int):
    """A draft is edited freely; a sent invoice with nothing paid is corrected (its history keeps what
    changed, and the customer may be emailed the corrected invoice with the link they have)."""
    invoice = _invoice_or_404(invoice_id)
    correcting = invoice.status == "open"
    if invoice.status != "draft" and not can_correct(invoice):
        flash("This invoice can't be changed: only drafts, and sent invoices with nothing paid on them. "
              "Void it and make a new one, or duplicate it.", "error")
        return redirect(url_for("console.invoice", invoice_id=invoice.id))
    form = _invoice_form(invoice, currency=invoice.currency, rounding=invoice.tax_rounding)
    if not _ready_to_save(form):
        return _form_page(form, customer=invoice.customer, invoice=invoice, correcting=correcting)
    if not correcting:
        form.fill(invoice)
        audit("invoice.updated", f"invoice {invoice.number}")
        db.session.commit()
        flash("Saved.", "success")
        return redirect(url_for("console.invoice", invoice_id=invoice.id))
    try:
        changed = correct_invoice(invoice, form.fill, notify=form.notify.data)
    except InvoiceStateError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("console.invoice", invoice_id=invoice_id))
    db.session.commit()
    if not changed:
        flash("Nothing was changed.", "success")
    elif form.notify.data and invoice.customer.primary_email:
        flash(f"Invoice {invoice.number} is corrected and on its way to {invoice.customer.primary_email} "
              "with the same pay link. Payment pages opened for the old amount are closed.", "success")
    else:
        flash(f"Invoice {invoice.number} is corrected; the customer was not emailed. Payment pages opened "
              "for the old amount are closed.", "success")
    return redirect(url_for("console.invoice", invoice_id=invoice_id))


@bp.post("/invoices/totals")
@requires_permission("invoices.manage")
def invoice_totals():
    """The figures of the invoice form as typed (the page's script asks as staff type): each line's amount
    and the totals block, or what is wrong, as JSON. Saves nothing."""
    invoice_id = request.args.get("invoice", type=int)
    invoice = _invoice_or_404(invoice_id) if invoice_id else None
    rounding = invoice.tax_rounding if invoice else current_business().policy("tax_rounding")
    form = _invoice_form(invoice, currency=invoice.currency if invoice else current_business().currency,
                         rounding=rounding)
    valid = form.validate()
    errors = sorted({error for field in form for error in _errors_of(field)} | set(form.form_errors))
    totals = form.totals
    lines = []
    if totals is not None:
        amounts = iter(totals.lines)
        lines = ["" if entry.form.is_blank() else format_money(next(amounts).amount, form.currency)
                 for entry in form.lines]
    html = render_template("console/invoices/_form_totals.html", totals=totals, currency=form.currency)
    return jsonify(valid=valid, errors=errors, lines=lines, totals_html=html)


def _errors_of(field) -> list[str]:
    if field.type == "FieldList":
        return [error for entry in field for sub in entry.form for error in sub.errors]
    return list(field.errors)


@bp.post("/invoices/<int:invoice_id>/duplicate")
@requires_permission("invoices.manage")
def duplicate(invoice_id: int):
    """A new draft with the same customer, lines, discount, deposit and memo."""
    source = _invoice_or_404(invoice_id)
    copy = _numbered(lambda number: duplicate_invoice(source, number))
    db.session.commit()
    flash(f"Draft {copy.number} is a copy of {source.number}: check the lines and due date, then send it.",
          "success")
    return redirect(url_for("console.invoice", invoice_id=copy.id))


def _invoice_or_404(invoice_id: int) -> Invoice:
    invoice = db.session.scalar(
        select(Invoice)
        .where(Invoice.id == invoice_id)
        .options(joinedload(Invoice.customer).selectinload(Customer.emails), selectinload(Invoice.lines))
    )
    if invoice is None:
        abort(404)
    return invoice


@dataclass(frozen=True)
class CheckoutOpened:
    """A payment page a customer opened, shown in the invoice's history beside its audit entries (never as a
    payment: it moved no money)."""

    at: datetime
    actor: str
    target: str
    details: dict
    action: str = "payment.checkout_opened"


def _money_and_attempts(payments: list[Payment]) -> tuple[list[Payment], list[CheckoutOpened]]:
    """Payments that moved money (or were a charge of a saved card), and the payment pages opened."""
    money, attempts = [], []
    for payment in payments:
        if payment.status in (*CAPTURED_STATUSES, "reversed") or payment.saved_method_id is not None:
            money.append(payment)
            continue
        outcome = {"pending": "still open", "expiring": "being closed", "canceled": "left without paying",
                   "failed": "card declined"}.get(payment.status, payment.status)
        attempts.append(CheckoutOpened(payment.created_at, payment.source_label, "",
                                       {"amount": payment.amount, "currency": payment.currency,
                                        "outcome": outcome}))
    return money, attempts


@bp.get("/invoices/<int:invoice_id>")
@requires_permission("invoices.view")
def invoice(invoice_id: int):
    record = _invoice_or_404(invoice_id)
    payments, attempts = _money_and_attempts(db.session.scalars(
        select(Payment)
        .options(joinedload(Payment.saved_method))
        .where(Payment.invoice_id == invoice_id)
        .order_by(Payment.created_at.desc(), Payment.id.desc())
    ).all())
    history = sorted([*entries_about(f"invoice {record.number}", HISTORY_SHOWN), *attempts],
                     key=lambda entry: entry.at, reverse=True)[:HISTORY_SHOWN]
    token = live_pay_link(record) if record.status == "open" else None
    return render_template(
        "console/invoices/detail.html",
        invoice=record,
        views=db.session.scalars(
            select(InvoiceView)
            .where(InvoiceView.invoice_id == invoice_id)
            .order_by(InvoiceView.viewed_at.desc(), InvoiceView.id.desc())
            .limit(VIEWS_SHOWN)
        ).all(),
        payments=payments,
        saved_methods=db.session.scalars(
            select(SavedPaymentMethod).where(
                SavedPaymentMethod.customer_id == record.customer_id, SavedPaymentMethod.detached_at.is_(None)
            )
        ).all(),
        pay_link=public_url_for("paylink.show", token=token) if token else None,
        autopay_attempts=db.session.scalars(
            select(AutopayAttempt).where(AutopayAttempt.invoice_id == invoice_id)
            .order_by(AutopayAttempt.number)
        ).all(),
        save_card_text=save_card_wording(current_business().name),
        link_form=PayLinkForm(timezone=current_business().timezone, formdata=None),
        offline_form=OfflinePaymentForm(formdata=None, received_on=business_today(),
                                        amount=to_major_text(record.amount_due, record.currency)),
        history=history,
    )


@bp.post("/invoices/<int:invoice_id>/send")
@requires_permission("invoices.manage")
def send(invoice_id: int):
    invoice = _invoice_or_404(invoice_id)
    try:
        send_invoice(invoice)
    except InvoiceStateError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("console.invoice", invoice_id=invoice_id))
    db.session.commit()
    flash(f"Invoice {invoice.number} is on its way to {invoice.customer.primary_email}.", "success")
    return redirect(url_for("console.invoice", invoice_id=invoice_id))


@bp.route("/invoices/<int:invoice_id>/void", methods=["GET", "POST"])
@requires_permission("invoices.manage")
def void(invoice_id: int):
    invoice = _invoice_or_404(invoice_id)
    form = VoidForm()
    if form.validate_on_submit():
        try:
            void_invoice(invoice, reason=(form.reason.data or "").strip())
        except InvoiceStateError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("console.invoice", invoice_id=invoice_id))
        db.session.commit()
        flash(f"Invoice {invoice.number} is void and its pay links no longer work.", "success")
        return redirect(url_for("console.invoice", invoice_id=invoice_id))
    status = 400 if form.is_submitted() else 200
    return render_template("console/invoices/void.html", invoice=invoice, form=form), status
