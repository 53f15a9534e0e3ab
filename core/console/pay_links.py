"""Pay links staff hand out: the invoice page shows the live link with "Copy link"; here a fresh link is
made when none is live (or one with an expiry), and every link is revoked after a confirmation that says
what the customer will see."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from core.activity import audit
from core.console.blueprint import bp
from core.console.invoice_forms import ConfirmForm, PayLinkForm
from core.extensions import db
from core.identity.roles import requires_permission
from core.models import Invoice
from core.money.invoicing import issue_pay_link, pay_link_to_share, revoke_pay_links
from core.tenancy.state import current_business


def _open_invoice_or_back(invoice_id: int) -> Invoice | None:
    invoice = db.get_or_404(Invoice, invoice_id)
    if invoice.status != "open":
        flash("Pay links are only for open invoices.", "error")
        return None
    return invoice


def _to_the_link(invoice_id: int):
    return redirect(url_for("console.invoice", invoice_id=invoice_id, _anchor="pay-link"))


@bp.post("/invoices/<int:invoice_id>/links/share")
@requires_permission("invoices.manage")
def share_pay_link(invoice_id: int):
    """A live link to copy: the newest one, or a fresh one when none is live."""
    invoice = _open_invoice_or_back(invoice_id)
    if invoice is not None:
        pay_link_to_share(invoice)
        db.session.commit()
    return _to_the_link(invoice_id)


@bp.post("/invoices/<int:invoice_id>/links")
@requires_permission("invoices.manage")
def new_pay_link(invoice_id: int):
    """Another link, expiring when staff say; the invoice page shows it (the newest) to copy."""
    invoice = _open_invoice_or_back(invoice_id)
    form = PayLinkForm(timezone=current_business().timezone)
    if invoice is None:
        return _to_the_link(invoice_id)
    if not form.validate_on_submit():
        flash(" ".join(form.expires_at.errors) or "Check the expiry and try again.", "error")
        return _to_the_link(invoice_id)
    issue_pay_link(invoice, expires_at=form.expiry_utc())
    audit("invoice.link_issued", f"invoice {invoice.number}")
    db.session.commit()
    flash("A new pay link is ready: copy it below.", "success")
    return _to_the_link(invoice_id)


@bp.route("/invoices/<int:invoice_id>/links/revoke", methods=["GET", "POST"])
@requires_permission("invoices.manage")
def revoke_links(invoice_id: int):
    """Every pay link of the invoice stops working, after a confirmation."""
    invoice = db.get_or_404(Invoice, invoice_id)
    form = ConfirmForm()
    form.confirm.label.text = "Yes, revoke the links"
    if form.validate_on_submit():
        count = revoke_pay_links(invoice)
        audit("invoice.links_revoked", f"invoice {invoice.number}", count=count)
        db.session.commit()
        flash(f"Pay links revoked: {count}. A customer who opens one now sees that the link is not valid.",
              "success")
        return redirect(url_for("console.invoice", invoice_id=invoice_id))
    status = 400 if form.is_submitted() else 200
    return render_template("console/invoices/revoke_links.html", invoice=invoice, form=form), status
