"""The invoice list: search by number or customer, a date range and a status, CSV export, bulk sending and
bulk reminders; the customers' CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import select, update

from core.models import Customer, CustomerEmail, Invoice, OutboxMessage
from core.testing.helpers import csrf_token_from
from core.testing.records import issue_invoice

LIST = "/b/acme/console/invoices"


def _rows(response) -> list[dict]:
    assert response.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def _dated(db, invoice_id: int, issued: date) -> None:
    db.session.execute(update(Invoice).where(Invoice.id == invoice_id).values(issue_date=issued))
    db.session.commit()


def test_search_by_number_or_customer_dates_and_status_and_the_same_as_csv(app, db, acme, console,
                                                                         in_business):
    first, _ = issue_invoice(app, acme, email="ann@example.com")
    with in_business(acme):
        bea = Customer(name="=HYPERLINK(\"x\") Bea", emails=[CustomerEmail(email="bea@example.com",
                                                                            is_primary=True)])
        db.session.add(bea)
        db.session.commit()
        bea_id = bea.id
    second, _ = issue_invoice(app, acme, customer_id=bea_id)
    with in_business(acme):
        _dated(db, first, date(2026, 1, 10))
        _dated(db, second, date(2026, 3, 5))

    by_number = console.get(f"{LIST}?q=0002").get_data(as_text=True)
    assert "INV-0002" in by_number and "INV-0001" not in by_number
    by_email = console.get(f"{LIST}?q=ann@").get_data(as_text=True)
    assert "INV-0001" in by_email and "INV-0002" not in by_email
    by_dates = console.get(f"{LIST}?from=2026-02-01&to=2026-03-31&status=open").get_data(as_text=True)
    assert "INV-0002" in by_dates and "INV-0001" not in by_dates
    assert "/invoices.csv?" in by_dates and "from=2026-02-01" in by_dates

    rows = _rows(console.get("/b/acme/console/invoices.csv?from=2026-02-01"))
    assert [(r["number"], r["customer"], r["issued"], r["total"], r["balance"]) for r in rows] == [
        ("INV-0002", "'=HYPERLINK(\"x\") Bea", "2026-03-05", "208.92", "208.92")]  # no formula in Excel
    assert len(_rows(console.get("/b/acme/console/invoices.csv"))) == 2


def test_bulk_send_and_bulk_reminders_act_on_each_ticked_invoice(app, db, acme, console, customer_id,
                                                                 in_business, draft_id):
    open_id, _ = issue_invoice(app, acme, customer_id=customer_id)
    token = csrf_token_from(console.get(LIST).get_data(as_text=True))
    sent = console.post(f"{LIST}/bulk", data={"csrf_token": token, "action": "send",
                                               "invoice": [str(draft_id)], "back": f"{LIST}?status=draft"})
    assert sent.headers["Location"] == f"{LIST}?status=draft"
    reminded = console.post(f"{LIST}/bulk", data={"csrf_token": token, "action": "remind",
                                                   "invoice": [str(draft_id), str(open_id)],
                                                   "back": "https://evil.example/"}, follow_redirects=True)
    page = reminded.get_data(as_text=True)
    assert "2 invoices reminded: INV-0001, INV-0002." in page
    with in_business(acme):
        assert db.session.get(Invoice, draft_id).status == "open"
        keys = db.session.scalars(select(OutboxMessage.template_key).order_by(OutboxMessage.id)).all()
        assert keys.count("invoice_reminder") == 2
        reminder = db.session.scalar(select(OutboxMessage)
                                     .where(OutboxMessage.template_key == "invoice_reminder"))
        assert reminder.context["pay_url"].startswith("http://suprata.test/b/acme/pay/")
    nothing = console.post(f"{LIST}/bulk", data={"csrf_token": token, "action": "remind"},
                           follow_redirects=True)
    assert "Tick the invoices to act on first." in nothing.get_data(as_text=True)


def test_a_paid_invoice_is_not_reminded(app, db, acme, console, customer_id, pay_invoice):
    invoice_id, _ = issue_invoice(app, acme, customer_id=customer_id)
    pay_invoice(acme, invoice_id)
    token = csrf_token_from(console.get(LIST).get_data(as_text=True))
    page = console.post(f"{LIST}/bulk",
                        data={"csrf_token": token, "action": "remind", "invoice": [str(invoice_id)]},
                        follow_redirects=True).get_data(as_text=True)
    assert "Not reminded: INV-0001: INV-0001 is not waiting for a payment." in page


def test_customers_export_as_csv(app, db, acme, console, customer_id):
    rows = _rows(console.get("/b/acme/console/customers.csv"))
    assert [(r["name"], r["email"]) for r in rows] == [("Jordan Rivera", "jordan@example.com")]
    assert _rows(console.get("/b/acme/console/customers.csv?q=nobody")) == []
