"""The brief's workhorse, end to end in headless Chromium: staff send an invoice from the console, the
customer opens the emailed link, pays on the processor's hosted page, and both see it paid.

Everything is real: the app served on loopback, the `stripe` SDK against the local Stripe server (which
POSTs signed webhooks to the app), the SMTP server receiving mail, and the browser clicking.
"""

import re

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import Customer, CustomerEmail, Invoice, SavedPaymentMethod, TaxRate
from core.notifications.outbox import deliver_due
from core.tenancy import business_context
from core.testing.helpers import create_staff
from plugins.payments_stripe.testing import WEBHOOK_SECRET, connect_stripe

PAY_LINK = re.compile(r"https?://\S+/pay/[A-Za-z0-9_\-]+")


@pytest.fixture
def live_shop(app, make_business, served_app, stripe_server, stripe_api, monkeypatch):
    """Acme with Stripe connected, links pointing at the served app, webhooks posted to it."""
    monkeypatch.setitem(app.config, "SUPRATA_PUBLIC_URL", served_app.url)
    business = make_business("acme", plugins=["payments_stripe"], name="Acme Plumbing",
                             timezone="America/New_York")
    connect_stripe(app, business)
    webhook = stripe_server.register_webhook(f"{served_app.url}/b/acme/stripe/webhook", WEBHOOK_SECRET)
    create_staff(app, business)
    with app.app_context(), business_context(business.id):
        db.session.add(TaxRate(name="Sales tax", rate_bp=800, is_default=True))  # each new line's tax
        email = CustomerEmail(email="pat@example.com", is_primary=True)
        customer = Customer(name="Pat Jones", emails=[email])
        db.session.add(customer)
        db.session.commit()
        customer_id = customer.id
    yield business, customer_id
    stripe_server.unregister_webhook(webhook)


def run_worker_once(app) -> None:
    with app.app_context():
        deliver_due()


def test_staff_send_customer_pays_by_link(app, live_shop, served_app, browser, mailbox):
    business, customer_id = live_shop
    console = browser.new_context().new_page()
    base = f"{served_app.url}/b/acme"

    console.goto(f"{base}/console/login")
    console.fill("input[name=email]", "dana@acme.test")
    console.fill("input[name=password]", "correct horse battery")
    console.click("button:has-text('Log in')")
    console.goto(f"{base}/console/invoices/new?customer={customer_id}")
    console.fill("[aria-label=Description] >> nth=0", "Water heater flush")
    console.fill("[aria-label=Quantity] >> nth=0", "1")
    console.fill("[aria-label='Unit price'] >> nth=0", "125.00")
    console.click("button:has-text('Save draft')")
    console.click("button:has-text('Send')")
    assert "$135.00" in console.content()

    run_worker_once(app)
    invoice_mail = mailbox.wait_for(1)[0]
    assert invoice_mail["To"] == "pat@example.com"
    pay_url = PAY_LINK.search(mailbox.text_of(invoice_mail)).group(0)
    assert pay_url.startswith(base)

    customer = browser.new_context().new_page()
    customer.goto(pay_url)
    assert "Water heater flush" in customer.content()
    customer.reload()
    assert "You last viewed this invoice on" in customer.inner_text("#last-viewed")
    assert not customer.is_checked("#save-card")  # consent is never pre-ticked

    customer.click("#pay-now")
    customer.wait_for_selector("#pay")  # the processor's hosted page
    customer.click("#pay")
    customer.wait_for_selector("#payment-status:has-text('Paid')", timeout=20_000)

    run_worker_once(app)
    receipts = [m for m in mailbox.wait_for(2) if "receipt" in str(m["Subject"]).lower()]
    assert receipts and receipts[0]["To"] == "pat@example.com"

    console.reload()
    assert "Paid" in console.content()
    with app.app_context(), business_context(business.id):
        invoice = db.session.scalar(select(Invoice))
        assert (invoice.status, invoice.amount_paid) == ("paid", 13500)
        assert db.session.scalars(select(SavedPaymentMethod)).all() == []  # not ticked, not saved
