"""An invoice's figures: line amounts, discounts, tax by rate, total and deposit, under one rounding rule.

Money is integer minor units; rates (tax, discount, deposit) are basis points to a tenth (887.5 is 8.875 %).
Every amount is rounded half up to the minor unit. The rule for tax (:data:`ROUNDING`):

- ``"invoice"`` (the default, as most tax authorities expect): the tax of each rate is worked out on the
  invoice's whole amount at that rate and rounded once. $342.00 at 8.875 % is $30.3525, so $30.35.
- ``"line"``: each line's tax is rounded on its own and the rounded amounts are added up. Six lines of $57.00
  at 8.875 % (also $342.00) are $5.05875 each, so 6 x $5.06 = $30.36.

A discount on the whole invoice comes off before tax, shared among the lines in proportion to their amounts.
Nothing here reads the database or a request: the console's live totals, the saved invoice and the tests all
call :func:`work_out`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ROUNDING = {
    "invoice": "Once per tax rate, on the whole invoice",
    "line": "On each line, then added up",
}
BASIS_POINTS = Decimal(10000)  # in 100 %
RATE_PLACES = 3  # decimals of a percentage: 8.875
_ONE = Decimal(1)


def round_money(value: Decimal) -> int:
    """An exact amount in minor units, rounded half up to a whole minor unit."""
    return int(value.quantize(_ONE, rounding=ROUND_HALF_UP))


def percent_to_bp(percent: Decimal) -> Decimal:
    """8.875 (percent) -> Decimal("887.5") (basis points, the stored unit)."""
    return (percent * 100).normalize()


def bp_to_percent(rate_bp: Decimal | int | None) -> Decimal:
    """Decimal("887.5") -> Decimal("8.875"); None is 0."""
    return (Decimal(rate_bp or 0) / 100).normalize()


def percent_text(rate_bp: Decimal | int | None) -> str:
    """The rate as people write it, without trailing zeros: 887.5 -> "8.875", 800 -> "8"."""
    return f"{bp_to_percent(rate_bp):f}"


def share(amount: int, rate_bp: Decimal) -> int:
    """``rate_bp`` of ``amount``, rounded: share(34200, 887.5) == 3035."""
    return round_money(Decimal(amount) * Decimal(rate_bp) / BASIS_POINTS)


@dataclass(frozen=True)
class LineFigures:
    """What a line's figures are made of: quantity x unit price, less a discount (a rate of the line, or a
    fixed amount when ``discount_rate_bp`` is None), taxed at ``tax_rate_bp`` under ``tax_name``."""

    quantity: Decimal
    unit_price: int
    discount_rate_bp: Decimal | None = None
    discount: int = 0
    tax_name: str | None = None
    tax_rate_bp: Decimal = Decimal(0)


@dataclass(frozen=True)
class LineResult:
    gross: int  # quantity x unit price
    discount: int
    amount: int  # gross less discount
    tax: int  # the line's share of the tax, so the lines' shares add up to the invoice's tax


@dataclass(frozen=True)
class TaxFigure:
    """The tax of one rate on the invoice: "NY sales tax 8.875 % on $342.00: $30.35"."""

    name: str | None
    rate_bp: Decimal
    base: int
    amount: int

    @property
    def label(self) -> str:
        rate = f"{percent_text(self.rate_bp)} %"
        return f"{self.name} {rate}" if self.name else f"Tax {rate}"


@dataclass(frozen=True)
class Totals:
    lines: list[LineResult]
    subtotal: int  # the lines' amounts
    discount: int  # off the whole invoice, before tax
    taxes: list[TaxFigure]
    tax_total: int
    total: int
    deposit: int  # asked for first; 0 for none


def work_out(lines: list[LineFigures], *, discount_rate_bp: Decimal | None = None, discount: int = 0,
             deposit_rate_bp: Decimal | None = None, deposit: int = 0, rounding: str = "invoice") -> Totals:
    """Every figure of an invoice. Checks nothing: :func:`problems` says what a form must refuse."""
    results_before_tax = []
    for line in lines:
        gross = round_money(Decimal(line.quantity) * line.unit_price)
        line_discount = (share(gross, line.discount_rate_bp) if line.discount_rate_bp is not None
                         else line.discount or 0)
        results_before_tax.append((gross, line_discount, gross - line_discount))
    subtotal = sum(amount for _, _, amount in results_before_tax)
    invoice_discount = share(subtotal, discount_rate_bp) if discount_rate_bp is not None else discount or 0

    # Each line's taxable amount, exactly: its amount less its part of the invoice's discount.
    taxable = [Decimal(amount) - (Decimal(invoice_discount) * amount / subtotal if subtotal else 0)
               for _, _, amount in results_before_tax]
    exact_tax = [base * Decimal(line.tax_rate_bp) / BASIS_POINTS for base, line in zip(taxable, lines,
                                                                                       strict=True)]
    groups: dict[tuple[str | None, Decimal], list[int]] = {}
    for index, line in enumerate(lines):
        if line.tax_rate_bp:
            groups.setdefault((line.tax_name, Decimal(line.tax_rate_bp).normalize()), []).append(index)
    line_tax = [0] * len(lines)
    taxes = []
    for (name, rate_bp), members in groups.items():
        if rounding == "line":
            for index in members:
                line_tax[index] = round_money(exact_tax[index])
            amount = sum(line_tax[index] for index in members)
        else:
            amount = round_money(sum(exact_tax[index] for index in members))
            _spread(amount, members, exact_tax, line_tax)
        base = round_money(sum(taxable[index] for index in members))
        taxes.append(TaxFigure(name, rate_bp, base, amount))
    tax_total = sum(tax.amount for tax in taxes)
    total = subtotal - invoice_discount + tax_total
    requested_deposit = share(total, deposit_rate_bp) if deposit_rate_bp is not None else deposit or 0
    results = [LineResult(gross, line_discount, amount, tax)
               for (gross, line_discount, amount), tax in zip(results_before_tax, line_tax, strict=True)]
    return Totals(results, subtotal, invoice_discount, taxes, tax_total, total, requested_deposit)


def _spread(amount: int, members: list[int], exact: list[Decimal], into: list[int]) -> None:
    """Share a rounded tax among its lines by largest remainder, so the shares add up to it exactly."""
    floors = {index: int(exact[index].to_integral_value(rounding="ROUND_FLOOR")) for index in members}
    left = amount - sum(floors.values())
    by_remainder = sorted(members, key=lambda index: exact[index] - floors[index], reverse=True)
    for position, index in enumerate(by_remainder):
        into[index] = floors[index] + (1 if position < left else 0)


@dataclass(frozen=True)
class Problem:
    """Something a form must refuse: ``line`` is the line's position (None: the invoice), ``field`` one of
    "discount", "deposit" or "total"."""

    line: int | None
    field: str
    message: str


def problems(totals: Totals, *, largest: int) -> list[Problem]:
    """What makes these figures unsaveable, in the words staff read on the form: the lines' own problems
    first, then the invoice's discount, then its total and deposit (a later one would only echo an
    earlier)."""
    found = []
    for index, result in enumerate(totals.lines):
        if result.discount < 0:
            found.append(Problem(index, "discount", "A discount can't be negative."))
        elif result.discount and result.gross <= 0:
            found.append(Problem(index, "discount", "Only a line above zero can have a discount."))
        elif result.discount and result.discount > result.gross:
            found.append(Problem(index, "discount", "The discount is larger than the line."))
        if abs(result.gross) > largest:
            found.append(Problem(index, "total", "That line's amount is too large."))
    if found:
        return found
    if totals.discount < 0:
        return [Problem(None, "discount", "A discount can't be negative.")]
    if totals.discount > max(totals.subtotal, 0):
        return [Problem(None, "discount", "The discount is larger than the invoice's lines.")]
    if totals.total < 0:
        return [Problem(None, "total", "The invoice total can't be negative.")]
    if totals.total > largest:
        return [Problem(None, "total", "The invoice total is too large.")]
    if totals.deposit < 0:
        return [Problem(None, "deposit", "A deposit can't be negative.")]
    if totals.deposit > totals.total:
        return [Problem(None, "deposit", "The deposit is larger than the invoice's total.")]
    return []
