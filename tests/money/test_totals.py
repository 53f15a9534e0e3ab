"""An invoice's figures under one stated rounding rule: tax per invoice by default, per line if chosen; the
discounts, the deposit and what a form must refuse."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.money.totals import LineFigures, percent_text, percent_to_bp, problems, share, work_out

NY = Decimal("887.5")  # New York City's 8.875 %, in basis points


def _lines(*amounts: int, rate=NY, name="NY sales tax") -> list[LineFigures]:
    return [LineFigures(Decimal(1), amount, tax_name=name, tax_rate_bp=rate) for amount in amounts]


def test_342_dollars_at_8_875_percent_is_30_35():
    # 342.00 x 0.08875 = 30.3525, which rounds to 30.35.
    assert Decimal("342.00") * Decimal("0.08875") == Decimal("30.3525")
    totals = work_out(_lines(34200))
    assert (totals.subtotal, totals.tax_total, totals.total) == (34200, 3035, 37235)
    taxes = [(tax.label, tax.base, tax.amount) for tax in totals.taxes]
    assert taxes == [("NY sales tax 8.875 %", 34200, 3035)]


def test_per_invoice_rounding_rounds_once_where_per_line_rounding_adds_up_its_roundings():
    # Six lines of $57.00 are also $342.00; each line's tax is 57.00 x 0.08875 = 5.05875.
    assert Decimal("57.00") * Decimal("0.08875") == Decimal("5.05875")
    six = _lines(*[5700] * 6)
    per_invoice = work_out(six)
    per_line = work_out(six, rounding="line")
    assert per_invoice.tax_total == 3035  # round(6 x 5.05875 = 30.3525) = 30.35
    assert per_line.tax_total == 6 * 506 == 3036  # 6 x round(5.05875) = 6 x 5.06 = 30.36
    # Either way the lines' shares add up to the invoice's tax.
    assert sum(line.tax for line in per_invoice.lines) == per_invoice.tax_total
    assert sum(line.tax for line in per_line.lines) == per_line.tax_total


def test_each_rate_is_rounded_on_its_own_and_untaxed_lines_carry_none():
    lines = [*_lines(10000), *_lines(5000, rate=Decimal(600), name="Parts tax"),
             LineFigures(Decimal("2.5"), 9000)]
    totals = work_out(lines)
    assert [(tax.label, tax.amount) for tax in totals.taxes] == [("NY sales tax 8.875 %", 888),
                                                                  ("Parts tax 6 %", 300)]
    assert [line.tax for line in totals.lines] == [888, 300, 0]
    assert totals.total == 10000 + 5000 + 22500 + 888 + 300


def test_line_discounts_by_rate_or_amount_and_an_invoice_discount_before_tax():
    lines = [LineFigures(Decimal(2), 10000, discount_rate_bp=Decimal(1000), tax_name="NY", tax_rate_bp=NY),
             LineFigures(Decimal(1), 5000, discount=500, tax_name="NY", tax_rate_bp=NY)]
    totals = work_out(lines, discount_rate_bp=Decimal(500))
    assert [(line.gross, line.discount, line.amount) for line in totals.lines] == [(20000, 2000, 18000),
                                                                                  (5000, 500, 4500)]
    assert totals.subtotal == 22500
    assert totals.discount == 1125  # 5 % of the subtotal
    # Tax on what is left: 21375 x 8.875 % = 1897.03125
    assert (totals.taxes[0].base, totals.tax_total) == (21375, 1897)
    assert totals.total == 22500 - 1125 + 1897


def test_a_deposit_by_rate_or_amount():
    assert work_out(_lines(10000), deposit_rate_bp=Decimal(2500)).deposit == 2722  # 25 % of 108.875 -> 27.22
    assert work_out(_lines(10000), deposit=5000).deposit == 5000


@pytest.mark.parametrize(("line", "invoice", "expected"), [
    (LineFigures(Decimal(1), 1000, discount=1500), {},
     (0, "discount", "The discount is larger than the line.")),
    (LineFigures(Decimal(1), -1000, discount=100), {}, (0, "discount",
                                                        "Only a line above zero can have a discount.")),
    (LineFigures(Decimal(1), 1000), {"discount": 2000},
     (None, "discount", "The discount is larger than the invoice's lines.")),
    (LineFigures(Decimal(1), 1000), {"deposit": 2000},
     (None, "deposit", "The deposit is larger than the invoice's total.")),
    (LineFigures(Decimal(1), -1000), {}, (None, "total", "The invoice total can't be negative.")),
])
def test_what_a_form_must_refuse(line, invoice, expected):
    found = problems(work_out([line], **invoice), largest=1_000_000_000)
    assert [(problem.line, problem.field, problem.message) for problem in found] == [expected]


def test_rates_are_written_as_people_write_them():
    assert percent_to_bp(Decimal("8.875")) == Decimal("887.5")
    assert percent_text(Decimal("887.5")) == "8.875" and percent_text(800) == "8"
    assert share(34200, NY) == 3035
