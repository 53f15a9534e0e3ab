"""Named tax rates to three decimals with a default, saved items, discounts and a deposit on the invoice
form, and the totals the page's script asks for as staff type."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.models import Invoice, SavedItem, TaxRate
from core.testing.helpers import csrf_token_from, submit_form

RATES = "/b/acme/console/settings/tax-rates"
ITEMS = "/b/acme/console/items"


def _rates(app, db, in_business, acme):
    with in_business(acme):
        rates = db.session.scalars(select(TaxRate).order_by(TaxRate.id))
        return [(rate.name, rate.rate_bp, rate.is_default) for rate in rates]


def test_a_rate_with_three_decimals_is_kept_and_becomes_the_default(app, db, acme, console, in_business):
    assert submit_form(console, RATES, {"name": "NY sales tax", "rate": "8.875", "is_default": "y"}
                       ).status_code == 302
    assert submit_form(console, RATES, {"name": "Parts", "rate": "4"}).status_code == 302
    assert _rates(app, db, in_business, acme) == [("NY sales tax", 887.5, True), ("Parts", 400, False)]
    page = console.get(RATES).get_data(as_text=True)
    assert "8.875 %" in page and "default</span>" in page
    for rate, message in (("8.8755", "Use at most 3 decimal places."), ("101", "A rate is at most 100 %."),
                          ("-1", "Enter a number that is not negative."), ("eight", "Enter a number")):
        response = submit_form(console, RATES, {"name": f"Bad {rate}", "rate": rate})
        assert response.status_code == 400 and message in response.get_data(as_text=True), rate
    taken = submit_form(console, RATES, {"name": "ny SALES tax", "rate": "1"})
    assert "There is a rate with this name already." in taken.get_data(as_text=True)
    assert len(_rates(app, db, in_business, acme)) == 2


def _ny_and_item(console, app, db, in_business, acme) -> tuple[int, int]:
    submit_form(console, RATES, {"name": "NY sales tax", "rate": "8.875", "is_default": "y"})
    with in_business(acme):
        rate_id = db.session.scalar(select(TaxRate.id))
    assert submit_form(console, ITEMS, {"name": "Drain cleaning", "unit_price": "342.00", "tax": str(rate_id),
                                        "unit_cost": "40"}).status_code == 302
    with in_business(acme):
        return rate_id, db.session.scalar(select(SavedItem.id))


def test_an_invoice_with_8_875_percent_a_discount_and_a_saved_item(app, db, acme, console, customer_id,
                                                                   in_business):
    rate_id, item_id = _ny_and_item(console, app, db, in_business, acme)
    new = f"/b/acme/console/invoices/new?customer={customer_id}"
    form = console.get(new).get_data(as_text=True)
    assert re.search(rf'<option selected value="{rate_id}">NY sales tax 8.875 %</option>', form)  # default
    assert 'data-name="Drain cleaning" data-price="342.00"' in form  # for the script to fill the line

    # Without the script: the saved item fills its line when the form comes back ("Work out the totals").
    shown = submit_form(console, new, {"kind": "one_off", "lines-0-item": str(item_id),
                                       "lines-0-quantity": "1", "lines-0-tax": str(rate_id),
                                       "recalculate": "y"}).get_data(as_text=True)
    assert 'value="Drain cleaning"' in shown and 'value="342.00"' in shown and "$30.35" in shown

    response = submit_form(console, new, {
        "kind": "one_off", "lines-0-item": str(item_id), "lines-0-quantity": "1", "lines-0-tax": str(rate_id),
        "lines-1-description": "Call-out", "lines-1-quantity": "1", "lines-1-unit_price": "100",
        "lines-1-discount": "10%", "lines-1-tax": str(rate_id), "discount": "20.00", "deposit": "25%"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with in_business(acme):
        invoice = db.session.scalar(select(Invoice))
        assert [(line.description, line.amount, line.discount, line.tax_name) for line in invoice.lines] == [
            ("Drain cleaning", 34200, 0, "NY sales tax"), ("Call-out", 9000, 1000, "NY sales tax")]
        # 342 + 90 = 432, less 20 = 412 taxed at 8.875 % = 36.565 -> 36.57, once for the invoice
        figures = invoice.subtotal, invoice.discount, invoice.tax_total, invoice.total
        assert figures == (43200, 2000, 3657, 44857)
        assert (invoice.deposit, invoice.amount_due, invoice.tax_rounding) == (11214, 11214, "invoice")
        assert invoice.lines[0].unit_cost == 4000
    page = console.get(f"/b/acme/console/invoices/{invoice.id}").get_data(as_text=True)
    assert "NY sales tax 8.875 %" in page and "Deposit asked for first" in page and "−$20.00" in page


def test_totals_as_staff_type_come_from_the_server_and_save_nothing(app, db, acme, console, customer_id,
                                                                    in_business):
    rate_id, _ = _ny_and_item(console, app, db, in_business, acme)
    token = csrf_token_from(console.get(f"/b/acme/console/invoices/new?customer={customer_id}").get_data(
        as_text=True))
    answer = console.post("/b/acme/console/invoices/totals", data={
        "csrf_token": token, "kind": "one_off", "lines-0-description": "Visit", "lines-0-quantity": "1",
        "lines-0-unit_price": "342", "lines-0-tax": str(rate_id)}).get_json()
    assert answer["valid"] and answer["lines"] == ["$342.00"]
    assert "NY sales tax 8.875 %</span><span>$30.35" in answer["totals_html"]
    assert "$372.35" in answer["totals_html"]
    wrong = console.post("/b/acme/console/invoices/totals", data={
        "csrf_token": token, "kind": "one_off", "lines-0-description": "Visit", "lines-0-unit_price": "10",
        "lines-0-quantity": "1", "lines-0-discount": "12"}).get_json()
    assert not wrong["valid"] and wrong["errors"] == ["The discount is larger than the line."]
    no_token = console.post("/b/acme/console/invoices/totals", data={"kind": "one_off"})
    assert no_token.status_code == 400  # CSRF
    with in_business(acme):
        assert db.session.scalar(select(Invoice)) is None
