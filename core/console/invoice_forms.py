"""The console's invoice forms: the invoice with its lines (saved items, tax rates, discounts, a deposit),
pay links, voiding, payments recorded by hand, refunds, and the business's tax rates and saved items.

Amounts are typed in major units ("125.50") and rates in percent ("8.875"); a discount or deposit is either
("10%" or "25.00"). Figures are worked out by :mod:`core.money.totals` on the server, whether the form is
saved or only asked for its totals as staff type; bad input gets a message beside the field and nothing is
saved.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from core.extensions import db
from core.models import INVOICE_KINDS, InvoiceLine, SavedItem, TaxRate
from core.money.amounts import LARGEST_AMOUNT, parse_decimal, to_major_text, to_minor_units
from core.money.payments.wording import OFFLINE_METHODS
from core.money.totals import (
    RATE_PLACES,
    LineFigures,
    Totals,
    percent_text,
    percent_to_bp,
    problems,
    work_out,
)
from core.tenancy import utcnow

LARGEST_QUANTITY = 1_000_000
NO_TAX = ""


def parse_percent(text: str) -> Decimal:
    """ "8.875" -> Decimal("887.5") basis points; ValueError with a message for staff."""
    value = parse_decimal(text.strip().removesuffix("%"), places=RATE_PLACES)
    if value > 100:
        raise ValueError("A rate is at most 100 %.")
    return percent_to_bp(value)


def parse_share(text: str, currency: str) -> tuple[int, Decimal | None]:
    """A discount or deposit as typed: "10%" -> (0, 1000 bp), "25.00" -> (2500, None), "" -> (0, None)."""
    text = (text or "").strip()
    if not text:
        return 0, None
    if text.endswith("%"):
        return 0, parse_percent(text)
    return to_minor_units(text, currency), None


def share_text(amount: int, rate_bp: Decimal | None, currency: str) -> str:
    """The other way round, to fill a form: (0, 1000) -> "10%", (2500, None) -> "25.00", (0, None) -> ""."""
    if rate_bp is not None:
        return f"{percent_text(rate_bp)}%"
    return to_major_text(amount, currency) if amount else ""


# -- tax rate and saved item choices ------------------------------------------------------------------------


class Catalog:
    """The business's tax rates and saved items, as the invoice form offers them. An archived rate is still
    offered on an invoice that uses it; a line's rate that is not one of the business's ("bp:825", from an
    invoice made before named rates) is offered as it is."""

    def __init__(self, *, keep_rate_ids: set[int] = frozenset()):
        self.rates = db.session.scalars(
            select(TaxRate).where(or_(TaxRate.archived_at.is_(None), TaxRate.id.in_(keep_rate_ids or [0])))
            .order_by(TaxRate.name)).all()
        self.items = db.session.scalars(
            select(SavedItem).where(SavedItem.archived_at.is_(None)).order_by(SavedItem.name)).all()
        self.default_rate = next((rate for rate in self.rates if rate.is_default and not rate.archived_at),
                                 None)

    @property
    def default_tax(self) -> str:
        return str(self.default_rate.id) if self.default_rate else NO_TAX

    def tax_choices(self, extra: list[str] = ()) -> dict[str, str]:
        choices = {NO_TAX: "No tax"}
        choices |= {str(rate.id): f"{rate.name} {percent_text(rate.rate_bp)} %" for rate in self.rates}
        for value in extra:
            rate_bp = _unnamed_rate(value)
            if rate_bp is not None:
                choices[value] = f"{percent_text(rate_bp)} %"
        return choices

    def item_choices(self) -> dict[str, str]:
        return {"": "—"} | {str(item.id): item.name for item in self.items}

    def tax_of(self, value: str) -> tuple[int | None, str | None, Decimal]:
        """(rate id, name, basis points) for a tax choice; ValueError for one that is not offered."""
        if not value:
            return None, None, Decimal(0)
        unnamed = _unnamed_rate(value)
        if unnamed is not None:
            return None, None, unnamed
        rate = next((rate for rate in self.rates if str(rate.id) == value), None)
        if rate is None:
            raise ValueError("Choose one of the tax rates.")
        return rate.id, rate.name, rate.rate_bp

    def item(self, value: str) -> SavedItem | None:
        return next((item for item in self.items if str(item.id) == value), None)


def _unnamed_rate(value: str) -> Decimal | None:
    """The basis points of a "bp:825" tax choice, or None for any other value."""
    if not value.startswith("bp:"):
        return None
    try:
        rate_bp = parse_decimal(value[3:], places=1)
    except ValueError:
        return None
    return rate_bp if rate_bp <= 10000 else None


def tax_value(line: InvoiceLine) -> str:
    """The tax choice that stands for a saved line's tax."""
    if line.tax_rate_id is not None:
        return str(line.tax_rate_id)
    return f"bp:{Decimal(line.tax_rate_bp).normalize():f}" if line.tax_rate_bp else NO_TAX


# -- the invoice --------------------------------------------------------------------------------------------


class LineEntry(Form):
    item = SelectField("Saved item", validate_choice=False)
    description = StringField("Description", validators=[Optional(), Length(max=500)])
    quantity = StringField("Qty", default="1")
    unit_price = StringField("Unit price")
    discount = StringField("Discount")
    tax = SelectField("Tax", validate_choice=False)
    unit_cost = StringField("Unit cost (staff only)")

    def is_blank(self) -> bool:
        return not any((f.data or "").strip() for f in (self.description, self.unit_price, self.unit_cost,
                                                        self.item))

    def fill_from_item(self, item: SavedItem, currency: str) -> None:
        """A saved item chosen without the page's script: its description, price, tax and cost fill the
        fields left blank."""
        if not (self.description.data or "").strip():
            self.description.data = item.name
        if not (self.unit_price.data or "").strip():
            self.unit_price.data = to_major_text(item.unit_price, currency)
            self.tax.data = str(item.tax_rate_id) if item.tax_rate_id else NO_TAX
        if not (self.unit_cost.data or "").strip() and item.unit_cost is not None:
            self.unit_cost.data = to_major_text(item.unit_cost, currency)

    def to_line(self, currency: str, catalog: Catalog) -> InvoiceLine | None:
        """The line these fields describe (not yet in the session), or None with field errors set."""
        values = {}
        if not (self.description.data or "").strip():
            self.description.errors.append("Describe the work or item.")
        parsers = {
            "quantity": lambda text: _bounded(parse_decimal(text, places=3), LARGEST_QUANTITY, "quantity"),
            "unit_price": lambda text: to_minor_units(text, currency, allow_negative=True),
            "discount": lambda text: parse_share(text, currency),
            "tax": catalog.tax_of,
            "unit_cost": lambda text: to_minor_units(text, currency) if (text or "").strip() else None,
        }
        for name, parse in parsers.items():
            try:
                values[name] = parse(self[name].data or "")
            except ValueError as exc:
                self[name].errors.append(str(exc))
        if "quantity" in values and values["quantity"] == 0:
            self.quantity.errors.append("Enter a quantity above zero.")
        if any(field.errors for field in self):
            return None
        discount, discount_rate_bp = values["discount"]
        tax_rate_id, tax_name, tax_rate_bp = values["tax"]
        return InvoiceLine(description=self.description.data.strip(), quantity=values["quantity"],
                           unit_price=values["unit_price"], discount=discount,
                           discount_rate_bp=discount_rate_bp, tax_rate_id=tax_rate_id, tax_name=tax_name,
                           tax_rate_bp=tax_rate_bp, unit_cost=values["unit_cost"])


def _bounded(value, largest, what: str):
    if value > largest:
        raise ValueError(f"That {what} is too large.")
    return value


def figures_of(line: InvoiceLine) -> LineFigures:
    return LineFigures(line.quantity, line.unit_price, line.discount_rate_bp, line.discount, line.tax_name,
                       line.tax_rate_bp)


class InvoiceForm(FlaskForm):
    """An invoice: a draft, or a correction of a sent one (``correcting``, with the choice to email it)."""

    kind = SelectField("Kind", choices=dict(INVOICE_KINDS))
    due_date = DateField("Due date", validators=[Optional()])
    lines = FieldList(FormField(LineEntry), min_entries=1, max_entries=100)
    discount = StringField("Discount on the whole invoice",
                           description="10% or an amount, taken off before tax. Blank for none.")
    deposit = StringField("Deposit asked for first",
                          description="25% or an amount of the total, paid before the rest. Blank for none.")
    memo = TextAreaField("Memo (the customer sees this)", validators=[Optional(), Length(max=5000)])
    internal_notes = TextAreaField("Internal notes (staff only)", validators=[Optional(), Length(max=20000)])
    notify = BooleanField("Email the corrected invoice to the customer, with the pay link they already have",
                          default=True)
    add_line = SubmitField("Add a line")
    recalculate = SubmitField("Work out the totals")

    def __init__(self, *args, currency: str, catalog: Catalog, rounding: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency, self.catalog, self.rounding = currency, catalog, rounding
        self.invoice_lines: list[InvoiceLine] = []
        self.totals: Totals | None = None
        self.shares: dict[str, tuple[int, Decimal | None]] = {}
        self.offer_choices()

    def offer_choices(self) -> None:
        """Give every line (those added since too) the business's items and tax rates to choose from."""
        posted = [entry.form.tax.data for entry in self.lines if entry.form.tax.data]
        for entry in self.lines:
            entry.form.item.choices = self.catalog.item_choices()
            entry.form.tax.choices = self.catalog.tax_choices(posted)
            if entry.form.tax.data is None:
                entry.form.tax.data = self.catalog.default_tax

    def add_blank_line(self) -> None:
        self.lines.append_entry()
        self.offer_choices()

    def fill_saved_items(self) -> None:
        for entry in self.lines:
            item = self.catalog.item(entry.form.item.data or "")
            if item is not None:
                entry.form.fill_from_item(item, self.currency)

    def validate(self, extra_validators=None) -> bool:
        self.fill_saved_items()
        valid = super().validate(extra_validators)
        return self._work_out() and valid

    def _work_out(self) -> bool:
        """Parse the filled-in lines and shares, work out the figures, and set what the figures refuse."""
        lines = []
        ok = True
        for entry in self.lines:
            if entry.form.is_blank():
                continue
            line = entry.form.to_line(self.currency, self.catalog)
            if line is None:
                ok = False
            else:
                line.position = len(lines)
                lines.append((entry, line))
        shares = {}
        for name in ("discount", "deposit"):
            try:
                shares[name] = parse_share(self[name].data, self.currency)
            except ValueError as exc:
                self[name].errors.append(str(exc))
                ok = False
        if not ok:
            return False
        if not lines:
            self.form_errors.append("Add at least one line.")
            return False
        figures = [figures_of(line) for _, line in lines]
        (discount, discount_rate_bp), (deposit, deposit_rate_bp) = shares["discount"], shares["deposit"]
        self.totals = work_out(figures, discount=discount, discount_rate_bp=discount_rate_bp, deposit=deposit,
                               deposit_rate_bp=deposit_rate_bp, rounding=self.rounding)
        for problem in problems(self.totals, largest=LARGEST_AMOUNT):
            if problem.line is not None:
                entry = lines[problem.line][0]
                field = entry.form.discount if problem.field == "discount" else entry.form.unit_price
                field.errors.append(problem.message)
            elif problem.field in ("discount", "deposit"):
                self[problem.field].errors.append(problem.message)
            else:
                self.form_errors.append(problem.message)
            ok = False
        if ok:
            self.invoice_lines = [line for _, line in lines]
            self.shares = shares
        return ok

    def fill(self, invoice) -> None:
        """Put what the form says on ``invoice`` (validated first); its figures are worked out again."""
        invoice.kind = self.kind.data
        invoice.due_date = self.due_date.data
        invoice.memo = (self.memo.data or "").strip() or None
        invoice.internal_notes = (self.internal_notes.data or "").strip() or None
        invoice.discount, invoice.discount_rate_bp = self.shares["discount"]
        invoice.deposit, invoice.deposit_rate_bp = self.shares["deposit"]
        invoice.lines = self.invoice_lines
        invoice.recompute_totals()


def invoice_form_data(invoice) -> dict:
    """What an invoice's form starts with."""
    currency = invoice.currency
    return {
        "kind": invoice.kind,
        "due_date": invoice.due_date,
        "memo": invoice.memo,
        "internal_notes": invoice.internal_notes,
        "discount": share_text(invoice.discount, invoice.discount_rate_bp, currency),
        "deposit": share_text(invoice.deposit, invoice.deposit_rate_bp, currency),
        "lines": [
            {
                "description": line.description,
                "quantity": f"{line.quantity.normalize():f}",
                "unit_price": to_major_text(line.unit_price, currency),
                "discount": share_text(line.discount, line.discount_rate_bp, currency),
                "tax": tax_value(line),
                "unit_cost": to_major_text(line.unit_cost, currency),
            }
            for line in invoice.lines
        ],
    }


# -- pay links, voiding, money ------------------------------------------------------------------------------


class PayLinkForm(FlaskForm):
    expires_at = DateTimeLocalField("Link expires (optional)", validators=[Optional()])

    def __init__(self, *args, timezone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone = timezone

    def expiry_utc(self):
        """The expiry typed in the business's time zone, in UTC (None for a link that does not expire)."""
        if self.expires_at.data is None:
            return None
        return self.expires_at.data.replace(tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)

    def validate_expires_at(self, _field):
        expiry = self.expiry_utc()
        if expiry is not None and expiry <= utcnow():
            raise ValidationError("Choose a time in the future.")


class VoidForm(FlaskForm):
    reason = TextAreaField("Reason (staff only)", validators=[Optional(), Length(max=500)])
    confirm = BooleanField("Yes, void this invoice", validators=[InputRequired("Tick the box to confirm.")])


class ConfirmForm(FlaskForm):
    """A step that only asks "are you sure?" (revoking pay links)."""

    confirm = BooleanField("Yes, do it", validators=[InputRequired("Tick the box to confirm.")])


class OfflinePaymentForm(FlaskForm):
    """Money received outside the payment processor."""

    method = SelectField("Paid by", choices=dict(OFFLINE_METHODS), default="cheque")
    amount = StringField("Amount received", validators=[DataRequired("Enter the amount received.")])
    received_on = DateField("Received on", validators=[DataRequired("Enter the date it was received.")])
    reference = StringField("Cheque number or reference", validators=[Optional(), Length(max=100)])
    note = TextAreaField("Note (staff only)", validators=[Optional(), Length(max=2000)])


class ReversalForm(FlaskForm):
    reason = TextAreaField("Why is it reversed?",
                           validators=[DataRequired("Say why: it goes in the history."), Length(max=500)])
    confirm = BooleanField("Yes, reverse this payment",
                           validators=[InputRequired("Tick the box to confirm.")])


class RefundForm(FlaskForm):
    """A refund: typed, then confirmed on a page that says how much goes back to which card."""

    amount = StringField("Amount to refund", description="Blank refunds everything not refunded yet.")
    reason = StringField("Reason (staff only)", validators=[Optional(), Length(max=255)])
    confirmed = HiddenField()


# -- the business's tax rates and saved items ----------------------------------------------------------------


class TaxRateForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)],
                       description="As customers read it on the invoice, like “NY sales tax”.")
    rate = StringField("Rate in %", validators=[DataRequired()], description="Up to 3 decimals, like 8.875.")
    is_default = BooleanField("The default for new lines")

    def validate_rate(self, field):
        try:
            self.rate_bp = parse_percent(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class SavedItemForm(FlaskForm):
    name = StringField("Service or part", validators=[DataRequired(), Length(max=500)],
                       description="What the invoice line says.")
    unit_price = StringField("Price", validators=[DataRequired()])
    tax = SelectField("Tax", validate_choice=False)
    unit_cost = StringField("Cost (staff only)")

    def __init__(self, *args, currency: str, catalog: Catalog, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency, self.catalog = currency, catalog
        self.tax.choices = catalog.tax_choices()
        if self.tax.data is None:
            self.tax.data = catalog.default_tax

    def validate_unit_price(self, field):
        try:
            self.price_minor = to_minor_units(field.data, self.currency)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate_unit_cost(self, field):
        try:
            typed = (field.data or "").strip()
            self.cost_minor = to_minor_units(typed, self.currency) if typed else None
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate_tax(self, field):
        try:
            self.tax_rate_id = self.catalog.tax_of(field.data or "")[0]
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
