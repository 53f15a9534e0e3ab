"""The invoice list: search by number or customer, a date range and a status; the same selection as a CSV
file; and sending or reminding many invoices at once.

Bulk reminders are staff's "remind these now"; reminders on a schedule belong to the follow-up of unpaid
invoices, not to this page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from core.console.blueprint import bp
from core.console.customers import search_condition
from core.console.exports import csv_download
from core.extensions import db
from core.identity.roles import requires_permission
from core.models import Customer, Invoice
from core.models.invoice import INVOICE_STATUSES
from core.money.amounts import to_major_text
from core.money.invoicing import InvoiceStateError, send_invoice, send_reminder

PER_PAGE = 25
# One bulk action works on what one page of the list shows, at most.
BULK_LIMIT = 100


@dataclass(frozen=True)
class InvoiceFilter:
    """What the list is narrowed to, from the page's query string."""

    query: str = ""
    status: str = ""
    issued_from: date | None = None
    issued_to: date | None = None

    @classmethod
    def from_request(cls) -> InvoiceFilter:
        status = request.args.get("status", "")
        return cls(query=(request.args.get("q") or "").strip()[:200],
                   status=status if status in INVOICE_STATUSES else "",
                   issued_from=_date(request.args.get("from")), issued_to=_date(request.args.get("to")))

    def arguments(self) -> dict:
        """The query string that gives this filter again (for pagination and the CSV link)."""
        values = {"q": self.query, "status": self.status,
                  "from": self.issued_from.isoformat() if self.issued_from else "",
                  "to": self.issued_to.isoformat() if self.issued_to else ""}
        return {name: value for name, value in values.items() if value}

    def statement(self):
        statement = (select(Invoice).options(joinedload(Invoice.customer).selectinload(Customer.emails))
                     .order_by(Invoice.created_at.desc(), Invoice.id.desc()))
        if self.query:
            statement = statement.where(or_(
                Invoice.number.icontains(self.query, autoescape=True),
                Invoice.customer_id.in_(select(Customer.id).where(search_condition(self.query))),
            ))
        if self.status:
            statement = statement.where(Invoice.status == self.status)
        # A draft has no issue date yet: it is dated by when it was made.
        if self.issued_from:
            statement = statement.where(Invoice.issue_date >= self.issued_from)
        if self.issued_to:
            statement = statement.where(Invoice.issue_date <= self.issued_to)
        return statement


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@bp.get("/invoices")
@requires_permission("invoices.view")
def invoices():
    selection = InvoiceFilter.from_request()
    page = db.paginate(selection.statement(), per_page=PER_PAGE, error_out=False)
    return render_template("console/invoices/list.html", page=page, selection=selection,
                           statuses=INVOICE_STATUSES)


@bp.get("/invoices.csv")
@requires_permission("invoices.view")
def invoices_csv():
    """Every invoice the list's filter selects, one a row, amounts in major units."""
    rows = db.session.scalars(InvoiceFilter.from_request().statement()).unique()
    header = ["number", "customer", "email", "status", "kind", "issued", "due", "currency", "subtotal",
              "discount", "tax", "total", "paid", "refunded", "balance"]
    return csv_download("invoices.csv", header, (
        [invoice.number, invoice.customer.name, invoice.customer.primary_email or "", invoice.status,
         invoice.kind, invoice.issue_date or "", invoice.due_date or "", invoice.currency,
         *(to_major_text(amount, invoice.currency) for amount in (
             invoice.subtotal, invoice.discount, invoice.tax_total, invoice.total, invoice.amount_paid,
             invoice.amount_refunded, invoice.balance))]
        for invoice in rows))


@bp.post("/invoices/bulk")
@requires_permission("invoices.manage")
def bulk_invoices():
    """Send the ticked drafts (or re-send the ticked open invoices), or remind the customers of the ticked
    open invoices; each invoice on its own, so one that cannot be sent does not hold back the others."""
    action = request.form.get("action")
    ids = [int(value) for value in request.form.getlist("invoice") if value.isdigit()][:BULK_LIMIT]
    listing = url_for("console.invoices")
    wanted = request.form.get("back") or ""
    back = redirect(wanted if wanted.startswith(listing) else listing)  # never elsewhere
    if action not in ("send", "remind"):
        flash("Choose what to do with the ticked invoices.", "error")
        return back
    if not ids:
        flash("Tick the invoices to act on first.", "error")
        return back
    done, refused = [], []
    chosen = db.session.scalars(select(Invoice).where(Invoice.id.in_(ids))
                                .options(selectinload(Invoice.lines)).order_by(Invoice.number)).all()
    for invoice in chosen:
        try:
            if action == "send":
                send_invoice(invoice, resend=False)
            else:
                send_reminder(invoice)
        except InvoiceStateError as exc:
            db.session.rollback()
            refused.append(f"{invoice.number}: {exc}")
            continue
        db.session.commit()
        done.append(invoice.number)
    verb = "sent" if action == "send" else "reminded"
    if done:
        flash(f"{len(done)} invoice{'s' if len(done) != 1 else ''} {verb}: {', '.join(done)}.", "success")
    for problem in refused:
        flash(f"Not {verb}: {problem}", "error")
    return back
