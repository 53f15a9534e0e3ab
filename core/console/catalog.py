"""What the business bills from: its named tax rates (Settings) and its saved items (services and parts).

A rate or item is archived rather than deleted: it is offered no more, and invoices that use it keep it.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from sqlalchemy import func, select, update

from core.activity import audit
from core.console.blueprint import bp
from core.console.invoice_forms import Catalog, SavedItemForm, TaxRateForm
from core.extensions import db
from core.identity.roles import requires_permission
from core.models import SavedItem, TaxRate
from core.money.totals import percent_text
from core.tenancy import utcnow
from core.tenancy.state import current_business


def _name_taken(model, name: str) -> bool:
    return db.session.scalar(select(model.id).where(func.lower(model.name) == name.lower())) is not None


@bp.route("/settings/tax-rates", methods=["GET", "POST"])
@requires_permission("settings")
def tax_rates():
    form = TaxRateForm()
    if form.validate_on_submit():
        name = form.name.data.strip()
        if _name_taken(TaxRate, name):
            form.name.errors.append("There is a rate with this name already.")
        else:
            rate = TaxRate(name=name, rate_bp=form.rate_bp, is_default=False)
            db.session.add(rate)
            db.session.flush()
            if form.is_default.data:
                _make_default(rate)
            audit("business.tax_rate_added", f"tax rate {name}", rate=f"{percent_text(rate.rate_bp)} %",
                  default="yes" if form.is_default.data else "no")
            db.session.commit()
            flash(f"{name} ({percent_text(rate.rate_bp)} %) is added.", "success")
            return redirect(url_for("console.tax_rates"))
    rates = db.session.scalars(select(TaxRate).order_by(TaxRate.archived_at.is_not(None), TaxRate.name)).all()
    status = 400 if form.errors else 200
    return render_template("console/tax_rates.html", form=form, rates=rates), status


def _make_default(rate: TaxRate) -> None:
    db.session.execute(update(TaxRate).where(TaxRate.id != rate.id).values(is_default=False)
                       .execution_options(synchronize_session=False))
    rate.is_default = True


@bp.post("/settings/tax-rates/<int:rate_id>/default")
@requires_permission("settings")
def default_tax_rate(rate_id: int):
    rate = db.get_or_404(TaxRate, rate_id)
    if rate.archived_at is None:
        _make_default(rate)
        audit("business.tax_rate_default", f"tax rate {rate.name}")
        db.session.commit()
        flash(f"New lines are taxed at {rate.name} unless staff choose otherwise.", "success")
    return redirect(url_for("console.tax_rates"))


@bp.post("/settings/tax-rates/<int:rate_id>/archive")
@requires_permission("settings")
def archive_tax_rate(rate_id: int):
    rate = db.get_or_404(TaxRate, rate_id)
    if rate.archived_at is None:
        rate.archived_at, rate.is_default = utcnow(), False
        audit("business.tax_rate_archived", f"tax rate {rate.name}")
        db.session.commit()
        flash(f"{rate.name} is no longer offered; invoices that use it keep it.", "success")
    return redirect(url_for("console.tax_rates"))


@bp.route("/items", methods=["GET", "POST"])
@requires_permission("invoices.manage")
def saved_items():
    form = SavedItemForm(currency=current_business().currency, catalog=Catalog())
    if form.validate_on_submit():
        name = form.name.data.strip()
        if _name_taken(SavedItem, name):
            form.name.errors.append("There is an item with this name already.")
        else:
            db.session.add(SavedItem(name=name, unit_price=form.price_minor, tax_rate_id=form.tax_rate_id,
                                     unit_cost=form.cost_minor))
            audit("invoice.item_saved", f"item {name}")
            db.session.commit()
            flash(f"{name} is saved: choose it on any invoice line.", "success")
            return redirect(url_for("console.saved_items"))
    items = db.session.scalars(select(SavedItem).where(SavedItem.archived_at.is_(None))
                               .order_by(SavedItem.name)).all()
    status = 400 if form.errors else 200
    return render_template("console/saved_items.html", form=form, items=items), status


@bp.post("/items/<int:item_id>/archive")
@requires_permission("invoices.manage")
def archive_saved_item(item_id: int):
    item = db.get_or_404(SavedItem, item_id)
    if item.archived_at is None:
        item.archived_at = utcnow()
        audit("invoice.item_archived", f"item {item.name}")
        db.session.commit()
        flash(f"{item.name} is no longer offered.", "success")
    return redirect(url_for("console.saved_items"))
