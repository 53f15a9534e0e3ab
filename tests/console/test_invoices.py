"""Invoices in the console: drafts with lines and server-side totals, sending, pay links, voiding."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.identity.tokens import hash_token
from core.models import Customer, CustomerEmail, Invoice, InvoiceView, OutboxMessage, PayLink
from core.notifications.outbox import deliver_due
from core.tenancy import business_context
from core.testing.helpers import csrf_token_from, submit_form


def _invoice(app, db, business, invoice_id) -> Invoice:
    with app.app_context(), business_context(business.id):
        invoice = db.session.get(Invoice, invoice_id)
        _ = invoice.lines, invoice.customer
        db.session.expunge_all()
        return invoice


def _post_button(client, page_url: str, action_url: str, **data):
    token = csrf_token_from(client.get(page_url).get_data(as_text=True))
    return client.post(action_url, data={"csrf_token": token, **data})


def test_new_invoice_totals_are_computed_on_the_server(app, db, acme, draft_id, console):
    invoice = _invoice(app, db, acme, draft_id)
    assert (invoice.status, invoice.number, invoice.currency) == ("draft", "INV-0001", "USD")
    lines = [
        (
            line.description,
            line.quantity,
            line.unit_price,
            line.tax_rate_bp,
            line.unit_cost,
            line.amount,
            line.tax_amount,
        )
        for line in invoice.lines
    ]
    assert lines == [
        ("Water heater", Decimal("1"), 125050, Decimal(825), 80000, 125050, 10317),
        ("Labour (hours)", Decimal("2.5"), 9000, 0, None, 22500, 0),
    ]
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (147550, 10317, 157867)
    page = console.get(f"/b/acme/console/invoices/{draft_id}").get_data(as_text=True)
    assert "$1,578.67" in page and "Parts from the Elm St job" in page


def test_posted_totals_are_ignored(app, db, acme, console, customer_id):
    response = submit_form(
        console,
        f"/b/acme/console/invoices/new?customer={customer_id}",
        {
            "kind": "one_off",
            "lines-0-description": "Inspection",
            "lines-0-quantity": "1",
            "lines-0-unit_price": "100.00",
            "lines-0-tax": "",
            "total": "1",
            "subtotal": "1",
            "lines-0-amount": "1",
        },
    )
    invoice = _invoice(app, db, acme, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert invoice.total == 10000


@pytest.mark.parametrize(
    ("fields", "field_name", "message"),
    [
        ({"lines-0-unit_price": "12.345"}, "unit_price", "Use at most 2 decimal places."),
        ({"lines-0-unit_price": "abc"}, "unit_price", "Enter a number, like 125.50."),
        ({"lines-0-unit_price": "NaN"}, "unit_price", "Enter a number, like 125.50."),
        ({"lines-0-unit_price": "1e5"}, "unit_price", "Enter a number, like 125.50."),
        ({"lines-0-unit_price": "99999999999"}, "unit_price", "That amount is too large."),
        ({"lines-0-quantity": "0"}, "quantity", "Enter a quantity above zero."),
        ({"lines-0-quantity": "-2"}, "quantity", "Enter a number that is not negative."),
        ({"lines-0-tax": "999"}, None, "Choose one of the tax rates."),
        ({"lines-0-tax": "bp:825.25"}, None, "Choose one of the tax rates."),
        ({"lines-0-discount": "12.345"}, "discount", "Use at most 2 decimal places."),
        ({"lines-0-discount": "10.0001%"}, "discount", "Use at most 3 decimal places."),
        ({"lines-0-discount": "150.00"}, "discount", "The discount is larger than the line."),
        ({"lines-0-discount": "120%"}, "discount", "A rate is at most 100 %."),
        ({"lines-0-quantity": "1.0005"}, "quantity", "Use at most 3 decimal places."),
        ({"discount": "101"}, None, "The discount is larger than the invoice&#39;s lines."),
        ({"deposit": "150"}, None, "The deposit is larger than the invoice&#39;s total."),
        ({"deposit": "-5"}, None, "Enter a number that is not negative."),
        ({"lines-0-unit_cost": "-5"}, "unit_cost", "Enter a number that is not negative."),
        ({"lines-0-description": ""}, "description", "Describe the work or item."),
        ({"lines-0-unit_price": "-50"}, None, "The invoice total can&#39;t be negative."),
        (
            {"lines-0-quantity": "1000000", "lines-0-unit_price": "9000000"},
            None,
            "That line&#39;s amount is too large.",
        ),
        (
            {"lines-0-unit_price": "6000000", "lines-1-description": "More", "lines-1-quantity": "1",
             "lines-1-unit_price": "6000000"},
            None,
            "The invoice total is too large.",
        ),
        ({"lines-0-description": "", "lines-0-unit_price": ""}, None, "Add at least one line."),
        ({"kind": "barter"}, None, "Not a valid choice."),
        ({"due_date": "next tuesday"}, None, "Not a valid date value."),
    ],
)
def test_invalid_invoice_input_gives_field_errors(
    app, db, acme, console, customer_id, fields, field_name, message
):
    data = {
        "kind": "one_off",
        "lines-0-description": "Inspection",
        "lines-0-quantity": "1",
        "lines-0-unit_price": "100",
        "lines-0-tax": "",
        **fields,
    }
    response = submit_form(console, f"/b/acme/console/invoices/new?customer={customer_id}", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    if field_name:  # the message sits under the field it is about
        assert re.search(
            rf'name="lines-0-{field_name}"[^>]*>\s*<div class="field-error">{re.escape(message)}', page
        )
    with app.app_context(), business_context(acme.id):
        assert db.session.scalar(select(Invoice)) is None


def test_add_a_line_shows_another_row_and_saves_nothing(app, db, acme, console, customer_id):
    response = submit_form(
        console,
        f"/b/acme/console/invoices/new?customer={customer_id}",
        {
            "kind": "one_off",
            "lines-0-description": "Inspection",
            "lines-0-unit_price": "100",
            "add_line": "Add a line",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'name="lines-1-description"' in page and 'value="Inspection"' in page
    with app.app_context(), business_context(acme.id):
        assert db.session.scalar(select(Invoice)) is None


def test_drafts_are_edited_and_sent_ones_corrected(app, db, acme, console, draft_id):
    edit = f"/b/acme/console/invoices/{draft_id}/edit"
    form = console.get(edit).get_data(as_text=True)
    assert 'value="1250.50"' in form and 'value="2.5"' in form
    assert re.search(r'<option selected value="\d+">Sales tax 8.25 %</option>', form)
    response = submit_form(
        console,
        edit,
        {
            "kind": "service_agreement",
            "lines-0-description": "Annual service",
            "lines-0-quantity": "1",
            "lines-0-unit_price": "300",
            "lines-0-tax": "",
        },
    )
    assert response.status_code == 302
    invoice = _invoice(app, db, acme, draft_id)
    assert (invoice.kind, invoice.total, len(invoice.lines)) == ("service_agreement", 30000, 1)

    _post_button(console, f"/b/acme/console/invoices/{draft_id}", f"/b/acme/console/invoices/{draft_id}/send")
    assert "Correct invoice INV-0001" in console.get(edit).get_data(as_text=True)


def test_sending_emails_a_pay_link_built_from_the_configured_address(
    app, db, acme, console, draft_id, mailbox
):
    page = f"/b/acme/console/invoices/{draft_id}"
    token = csrf_token_from(console.get(page).get_data(as_text=True))
    for name, path in (("session", "/"), ("suprata_staff", "/b/acme/")):  # what a browser sends to that host
        console.set_cookie(name, console.get_cookie(name, path=path).value, domain="evil.example", path=path)
    response = console.post(f"{page}/send", data={"csrf_token": token}, headers={"Host": "evil.example"})
    assert response.status_code == 302

    with app.app_context(), business_context(acme.id):
        message = db.session.scalar(select(OutboxMessage))
        pay_url = message.context["pay_url"]
        assert (message.template_key, message.recipient) == ("invoice_sent", "jordan@example.com")
        assert db.session.get(Invoice, draft_id).status == "open"
    assert pay_url.startswith("http://suprata.test/b/acme/pay/")
    forged = {"Host": "evil.example"}
    assert pay_url in console.get(page, headers=forged).get_data(as_text=True)  # there to copy

    with app.app_context():
        deliver_due()
    mailbox.wait_for(1)
    assert pay_url in mailbox.text_of(mailbox.messages[0])
    assert "evil.example" not in mailbox.text_of(mailbox.messages[0])


def test_resend_makes_a_new_link_and_keeps_the_old_one(app, db, acme, console, draft_id):
    page = f"/b/acme/console/invoices/{draft_id}"
    _post_button(console, page, f"{page}/send")
    detail = console.get(page).get_data(as_text=True)
    assert "Re-send" in detail
    _post_button(console, page, f"{page}/send")
    with app.app_context(), business_context(acme.id):
        assert len(db.session.scalars(select(PayLink)).all()) == 2
        assert len(db.session.scalars(select(OutboxMessage)).all()) == 2


def _link_token(flashed_page: str) -> str:
    return re.search(r"/pay/([A-Za-z0-9_\-]+)", flashed_page).group(1)


def test_new_link_with_an_expiry_in_business_time(app, db, acme, console, draft_id):
    page = f"/b/acme/console/invoices/{draft_id}"
    _post_button(console, page, f"{page}/send")
    console.get(page)
    response = _post_button(console, page, f"{page}/links", expires_at="2099-01-15T09:30")
    assert response.status_code == 302
    token = _link_token(console.get(page).get_data(as_text=True))
    with app.app_context(), business_context(acme.id):
        link = db.session.scalar(select(PayLink).where(PayLink.token_hash == hash_token(token)))
        # 9:30 in New York in January is 14:30 UTC.
        assert link.expires_at.isoformat() == "2099-01-15T14:30:00+00:00"


def test_a_link_cannot_expire_in_the_past(app, db, acme, console, draft_id):
    page = f"/b/acme/console/invoices/{draft_id}"
    _post_button(console, page, f"{page}/send")
    console.get(page)
    _post_button(console, page, f"{page}/links", expires_at="2020-01-01T00:00")
    assert "Choose a time in the future." in console.get(page).get_data(as_text=True)
    with app.app_context(), business_context(acme.id):
        assert len(db.session.scalars(select(PayLink)).all()) == 1


def test_revoking_links_stops_every_link(app, db, acme, console, draft_id):
    page = f"/b/acme/console/invoices/{draft_id}"
    _post_button(console, page, f"{page}/send")
    token = _link_token(console.get(page).get_data(as_text=True))
    assert console.get(f"/b/acme/pay/{token}").status_code == 200
    _post_button(console, f"{page}/links/revoke", f"{page}/links/revoke", confirm="y")
    assert console.get(f"/b/acme/pay/{token}").status_code == 404


def test_views_of_the_pay_link_are_listed_in_business_time(app, db, acme, console, draft_id):
    page = f"/b/acme/console/invoices/{draft_id}"
    _post_button(console, page, f"{page}/send")
    with app.app_context(), business_context(acme.id):
        db.session.add(
            InvoiceView(
                invoice_id=draft_id, viewed_at=datetime(2026, 1, 15, 14, 30, tzinfo=UTC), ip="203.0.113.9"
            )
        )
        db.session.commit()
    detail = console.get(page).get_data(as_text=True)
    assert "Jan 15, 2026 at 9:30 AM EST" in detail and "203.0.113.9" in detail


def test_void_needs_a_confirmation(app, db, acme, console, draft_id):
    page = f"/b/acme/console/invoices/{draft_id}"
    _post_button(console, page, f"{page}/send")
    token = _link_token(console.get(page).get_data(as_text=True))

    unconfirmed = submit_form(console, f"{page}/void", {"reason": "duplicate"})
    assert unconfirmed.status_code == 400
    assert "Tick the box to confirm." in unconfirmed.get_data(as_text=True)
    assert _invoice(app, db, acme, draft_id).status == "open"

    confirmed = submit_form(console, f"{page}/void", {"reason": "duplicate", "confirm": "y"})
    assert confirmed.status_code == 302
    assert _invoice(app, db, acme, draft_id).status == "void"
    assert console.get(f"/b/acme/pay/{token}").status_code == 404
    assert "Re-send" not in console.get(page).get_data(as_text=True)


def test_the_list_filters_by_status(console, draft_id, customer_id):
    submit_form(
        console,
        f"/b/acme/console/invoices/new?customer={customer_id}",
        {
            "kind": "one_off",
            "lines-0-description": "Second",
            "lines-0-unit_price": "5",
            "lines-0-quantity": "1",
            "lines-0-tax": "",
        },
    )
    _post_button(console, f"/b/acme/console/invoices/{draft_id}", f"/b/acme/console/invoices/{draft_id}/send")
    open_only = console.get("/b/acme/console/invoices?status=open").get_data(as_text=True)
    assert "INV-0001" in open_only and "INV-0002" not in open_only
    everything = console.get("/b/acme/console/invoices?status=nonsense").get_data(as_text=True)
    assert "INV-0001" in everything and "INV-0002" in everything


def test_new_invoice_starts_by_finding_the_customer(console, customer_id):
    page = console.get("/b/acme/console/invoices/new?q=jordan").get_data(as_text=True)
    assert f"/b/acme/console/invoices/new?customer={customer_id}" in page


def test_another_business_invoices_are_not_found(app, db, console, make_business, in_business):
    bolt = make_business("bolt")
    with in_business(bolt):
        customer = Customer(
            name="Bolt customer", emails=[CustomerEmail(email="b@example.com", is_primary=True)]
        )
        db.session.add(customer)
        db.session.flush()
        invoice = Invoice(customer_id=customer.id, number="B-1", currency="USD", status="open")
        db.session.add(invoice)
        db.session.commit()
        ids = customer.id, invoice.id
    customer_of_bolt, invoice_of_bolt = ids
    assert console.get(f"/b/acme/console/invoices/{invoice_of_bolt}").status_code == 404
    assert console.get(f"/b/acme/console/invoices/{invoice_of_bolt}/edit").status_code == 404
    assert console.get(f"/b/acme/console/invoices/new?customer={customer_of_bolt}").status_code == 404
    page = console.get("/b/acme/console/invoices").get_data(as_text=True)
    token = csrf_token_from(console.get("/b/acme/console/customers/new").get_data(as_text=True))
    for action in ("send", "void", "links", "links/revoke"):
        response = console.post(
            f"/b/acme/console/invoices/{invoice_of_bolt}/{action}", data={"csrf_token": token}
        )
        assert response.status_code == 404, action
    assert "B-1" not in page
    with in_business(bolt):
        assert db.session.get(Invoice, invoice_of_bolt).status == "open"
