"""Invoices: list, draft form with lines, detail page, and the life-cycle actions (send, links, void)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from core.activity import audit
from core.console.audit import entries_about
from core.console.blueprint import bp
from core.console.customers import search_condition
from core.console.forms import InvoiceForm, PayLinkForm, VoidForm
from core.extensions import db
from core.identity.roles import requires_permission
from core.models import AutopayAttempt, Business, Customer, Invoice, InvoiceView, Payment, SavedPaymentMethod
from core.models.invoice import INVOICE_STATUSES
from core.money.amounts import to_major_text
from core.money.invoicing import (
    InvoiceStateError,
    issue_pay_link,
    next_invoice_number,
    revoke_pay_links,
    send_invoice,
    void_invoice,
)
from core.money.payments.wording import save_card_wording
from core.tenancy.state import current_business
from core.tenancy.urls import public_url_for

PER_PAGE = 25
VIEWS_SHOWN = 50
HISTORY_SHOWN = 20
# Two people numbering invoices at the same moment collide on the unique number; the loser tries again.
NUMBERING_ATTEMPTS = 3


@bp.get("/invoices")
@requires_permission("invoices.view")
def invoices():
    status = request.args.get("status", "")
    statement = (
        select(Invoice)
        .options(joinedload(Invoice.customer))
        .order_by(Invoice.created_at.desc(), Invoice.id.desc())
    )
    if status in INVOICE_STATUSES:
        statement = statement.where(Invoice.status == status)
    else:
        status = ""
    page = db.paginate(statement, per_page=PER_PAGE, error_out=False)
    return render_template("console/invoices/list.html", page=page, status=status, statuses=INVOICE_STATUSES)


@bp.route("/invoices/new", methods=["GET", "POST"])
@requires_permission("invoices.manage")
def new_invoice():
    """Without a customer: pick one (searchable). With one: the draft form."""
    customer_id = request.args.get("customer", type=int)
    if customer_id is None:
        return _pick_customer()
    customer = db.get_or_404(Customer, customer_id)
    form = InvoiceForm(currency=current_business().currency)
    if _wants_another_line(form) or not form.validate_on_submit():
        return _form_page(form, customer=customer, invoice=None)
    invoice = _create_draft(customer, form)
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


def _create_draft(customer: Customer, form: InvoiceForm) -> Invoice:
    prefix = db.session.get(Business, current_business().id).invoice_prefix
    for attempt in range(1, NUMBERING_ATTEMPTS + 1):
        invoice = Invoice(
            customer_id=customer.id,
            currency=current_business().currency,
            status="draft",
            number=next_invoice_number(prefix),
        )
        _fill(invoice, form)
        db.session.add(invoice)
        try:
            db.session.flush()
            break
        except IntegrityError:
            db.session.rollback()
            if attempt == NUMBERING_ATTEMPTS:
                raise
    audit("invoice.created", f"invoice {invoice.number}")
    db.session.commit()
    return invoice


@bp.route("/invoices/<int:invoice_id>/edit", methods=["GET", "POST"])
@requires_permission("invoices.manage")
def edit_invoice(invoice_id: int):
    invoice = _invoice_or_404(invoice_id)
    if invoice.status != "draft":
        flash("Only drafts can be edited. Void this invoice and create a new one instead.", "error")
        return redirect(url_for("console.invoice", invoice_id=invoice.id))
    if request.method == "GET":
        form = InvoiceForm(data=_form_data(invoice), currency=invoice.currency)
    else:
        form = InvoiceForm(currency=invoice.currency)
    if _wants_another_line(form) or not form.validate_on_submit():
        return _form_page(form, customer=invoice.customer, invoice=invoice)
    _fill(invoice, form)
    audit("invoice.updated", f"invoice {invoice.number}")
    db.session.commit()
    flash("Saved.", "success")
    return redirect(url_for("console.invoice", invoice_id=invoice.id))


def _wants_another_line(form: InvoiceForm) -> bool:
    """The "Add a line" button: show the same form with one more empty row, saving nothing."""
    if form.is_submitted() and form.add_line.data:
        form.lines.append_entry()
        return True
    return False


def _form_page(form: InvoiceForm, *, customer: Customer, invoice: Invoice | None):
    status = 400 if form.is_submitted() and not form.add_line.data else 200
    return render_template(
        "console/invoices/form.html", form=form, customer=customer, invoice=invoice
    ), status


def _form_data(invoice: Invoice) -> dict:
    return {
        "kind": invoice.kind,
        "due_date": invoice.due_date,
        "memo": invoice.memo,
        "internal_notes": invoice.internal_notes,
        "lines": [
            {
                "description": line.description,
                "quantity": f"{line.quantity.normalize():f}",
                "unit_price": to_major_text(line.unit_price, invoice.currency),
                "tax_rate": f"{(line.tax_rate_bp / 100):g}",
                "unit_cost": to_major_text(line.unit_cost, invoice.currency),
            }
            for line in invoice.lines
        ],
    }


def _fill(invoice: Invoice, form: InvoiceForm) -> None:
    invoice.kind = form.kind.data
    invoice.due_date = form.due_date.data
    invoice.memo = (form.memo.data or "").strip() or None
    invoice.internal_notes = (form.internal_notes.data or "").strip() or None
    invoice.lines = form.invoice_lines
    invoice.recompute_totals()


def _invoice_or_404(invoice_id: int) -> Invoice:
    invoice = db.session.scalar(
        select(Invoice)
        .where(Invoice.id == invoice_id)
        .options(joinedload(Invoice.customer).selectinload(Customer.emails), selectinload(Invoice.lines))
    )
    if invoice is None:
        abort(404)
    return invoice


@bp.get("/invoices/<int:invoice_id>")
@requires_permission("invoices.view")
def invoice(invoice_id: int):
    record = _invoice_or_404(invoice_id)
    return render_template(
        "console/invoices/detail.html",
        invoice=record,
        views=db.session.scalars(
            select(InvoiceView)
            .where(InvoiceView.invoice_id == invoice_id)
            .order_by(InvoiceView.viewed_at.desc(), InvoiceView.id.desc())
            .limit(VIEWS_SHOWN)
        ).all(),
        payments=db.session.scalars(
            select(Payment)
            .options(joinedload(Payment.saved_method))
            .where(Payment.invoice_id == invoice_id)
            .order_by(Payment.created_at.desc(), Payment.id.desc())
        ).all(),
        saved_methods=db.session.scalars(
            select(SavedPaymentMethod).where(
                SavedPaymentMethod.customer_id == record.customer_id, SavedPaymentMethod.detached_at.is_(None)
            )
        ).all(),
        autopay_attempts=db.session.scalars(
            select(AutopayAttempt).where(AutopayAttempt.invoice_id == invoice_id)
            .order_by(AutopayAttempt.number)
        ).all(),
        save_card_text=save_card_wording(current_business().name),
        link_form=PayLinkForm(timezone=current_business().timezone, formdata=None),
        history=entries_about(f"invoice {record.number}", HISTORY_SHOWN),
    )


@bp.post("/invoices/<int:invoice_id>/send")
@requires_permission("invoices.manage")
def send(invoice_id: int):
    invoice = _invoice_or_404(invoice_id)
    try:
        token = send_invoice(invoice)
    except InvoiceStateError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("console.invoice", invoice_id=invoice_id))
    db.session.commit()
    _flash_new_link(f"Invoice {invoice.number} is on its way to {invoice.customer.primary_email}.", token)
    return redirect(url_for("console.invoice", invoice_id=invoice_id))


@bp.post("/invoices/<int:invoice_id>/links")
@requires_permission("invoices.manage")
def new_pay_link(invoice_id: int):
    invoice = _invoice_or_404(invoice_id)
    form = PayLinkForm(timezone=current_business().timezone)
    if invoice.status != "open":
        flash("Pay links are only for open invoices.", "error")
    elif not form.validate_on_submit():
        flash(" ".join(form.expires_at.errors) or "Check the expiry and try again.", "error")
    else:
        token = issue_pay_link(invoice, expires_at=form.expiry_utc())
        audit("invoice.link_issued", f"invoice {invoice.number}")
        db.session.commit()
        _flash_new_link("A new pay link is ready.", token)
    return redirect(url_for("console.invoice", invoice_id=invoice_id))


def _flash_new_link(message: str, token: str) -> None:
    # The token is stored only as a hash: this is the one time staff can see and copy the link.
    link = public_url_for("paylink.show", token=token)
    flash(f"{message} Pay link (copy it now, it is shown only once): {link}", "success")


@bp.post("/invoices/<int:invoice_id>/links/revoke")
@requires_permission("invoices.manage")
def revoke_links(invoice_id: int):
    invoice = _invoice_or_404(invoice_id)
    count = revoke_pay_links(invoice)
    audit("invoice.links_revoked", f"invoice {invoice.number}", count=count)
    db.session.commit()
    flash(f"Pay links revoked: {count}.", "success")
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
