"""The pay-link page: one invoice, no login, every view recorded, Pay Now only with a connected processor."""

from datetime import timedelta

from sqlalchemy import select

from core.extensions import db
from core.models import ActivityEvent, Invoice, InvoiceView
from core.money.invoicing import issue_pay_link, revoke_pay_links, void_invoice
from core.tenancy import utcnow
from core.testing.records import issue_invoice


def test_the_page_shows_the_invoice_and_nothing_for_staff_only(app, client, shop, in_business):
    invoice_id, token = issue_invoice(app, shop)
    with in_business(shop):
        invoice = db.session.get(Invoice, invoice_id)
        invoice.internal_notes = "Customer haggles; cost us $40"
        invoice.memo = "Thanks for choosing Acme!"
        invoice.lines[0].unit_cost = 4099
        db.session.commit()

    page = client.get(f"/b/acme/pay/{token}")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Invoice INV-0001" in html and "Acme Plumbing" in html and "Pat Jones" in html
    assert "Water heater flush" in html and "Anode rod" in html
    # 125.00 + 2 x 34.00 = 193.00; tax 8.25 % of each line: 10.31 + 5.61.
    assert "$193.00" in html and "$15.92" in html and "$208.92" in html
    assert "Pay $208.92 now" in html
    assert "Thanks for choosing Acme!" in html
    assert "haggles" not in html and "$40.99" not in html
    assert "last viewed" not in html


def test_each_view_is_recorded_and_the_page_tells_the_previous_one_in_business_time(app, client, shop,
                                                                                    in_business):
    invoice_id, token = issue_invoice(app, shop)
    client.get(f"/b/acme/pay/{token}", headers={"User-Agent": "Phone browser"})
    with in_business(shop):
        first = db.session.scalar(select(InvoiceView).where(InvoiceView.invoice_id == invoice_id))
        first.viewed_at = utcnow().replace(year=2026, month=3, day=4, hour=17, minute=5, second=0)
        db.session.commit()

    html = client.get(f"/b/acme/pay/{token}", headers={"User-Agent": "Laptop browser"}).get_data(as_text=True)

    # 17:05 UTC on March 4th is 12:05 PM in New York (EST).
    assert "You last viewed this invoice on Mar 4, 2026 at 12:05 PM EST." in html
    with in_business(shop):
        views = db.session.scalars(select(InvoiceView).order_by(InvoiceView.id)).all()
        assert [(v.invoice_id, v.user_agent) for v in views] == [(invoice_id, "Phone browser"),
                                                                 (invoice_id, "Laptop browser")]
        assert views[0].ip == "127.0.0.1"


def test_the_first_view_fires_on_invoice_viewed_once_and_goes_on_the_timeline(app, client, shop, hooks,
                                                                             in_business):
    invoice_id, token = issue_invoice(app, shop)

    for _ in range(3):
        assert client.get(f"/b/acme/pay/{token}").status_code == 200

    assert hooks.named("on_invoice_viewed") == [("on_invoice_viewed", invoice_id)]
    with in_business(shop):
        events = db.session.scalars(select(ActivityEvent).where(ActivityEvent.kind == "invoice.viewed")).all()
        assert [(e.surface, e.summary) for e in events] == [
            ("pay_link", "Opened invoice INV-0001 for the first time")]


def test_a_paid_invoice_shows_when_it_was_paid_and_its_receipt_instead_of_pay_now(app, client, shop,
                                                                                   in_business):
    invoice_id, token = issue_invoice(app, shop)
    with in_business(shop):
        invoice = db.session.get(Invoice, invoice_id)
        invoice.amount_paid, invoice.status = invoice.total, "paid"
        invoice.paid_at = utcnow().replace(year=2026, month=5, day=2, hour=15)
        db.session.commit()

    html = client.get(f"/b/acme/pay/{token}").get_data(as_text=True)

    assert "Paid on May 2, 2026." in html
    assert f"/b/acme/pay/{token}/receipt" in html
    assert "Pay $" not in html and "save_card" not in html


def test_a_void_invoice_cannot_be_paid(app, client, shop, in_business):
    invoice_id, token = issue_invoice(app, shop)
    with in_business(shop):
        void_invoice(db.session.get(Invoice, invoice_id), reason="duplicate")
        db.session.commit()

    # Voiding revokes the invoice's links: the page, and paying through it, are gone.
    assert client.get(f"/b/acme/pay/{token}").status_code == 404
    assert client.post(f"/b/acme/pay/{token}/checkout").status_code in (400, 404)


def test_without_a_connected_processor_there_is_no_pay_now(app, client, make_business):
    business = make_business("acme", plugins=["payments_stripe"], phone="+1 555 0100")
    _, token = issue_invoice(app, business)

    html = client.get(f"/b/acme/pay/{token}").get_data(as_text=True)

    assert "Online payment isn't available for this invoice" in html
    assert "Pay $" not in html


def test_a_new_link_works_after_the_old_ones_were_revoked_and_expiry_is_honoured(app, client, shop,
                                                                                in_business):
    invoice_id, old_token = issue_invoice(app, shop)
    with in_business(shop):
        invoice = db.session.get(Invoice, invoice_id)
        revoke_pay_links(invoice)
        new_token = issue_pay_link(invoice)
        expiring = issue_pay_link(invoice, expires_at=utcnow() + timedelta(seconds=1))
        expired = issue_pay_link(invoice, expires_at=utcnow() - timedelta(seconds=1))
        db.session.commit()

    assert client.get(f"/b/acme/pay/{old_token}").status_code == 404
    assert client.get(f"/b/acme/pay/{new_token}").status_code == 200
    assert client.get(f"/b/acme/pay/{expiring}").status_code == 200
    assert client.get(f"/b/acme/pay/{expired}").status_code == 404


def test_the_printable_version_shows_the_invoice_without_pay_now(app, client, shop):
    _, token = issue_invoice(app, shop)

    page = client.get(f"/b/acme/pay/{token}/print")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Invoice INV-0001" in html and "$208.92" in html and "data-print" in html
    assert "Pay $" not in html
