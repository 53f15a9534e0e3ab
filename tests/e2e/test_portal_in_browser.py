"""The portal as a new customer uses it, in headless Chromium at desktop and phone sizes: sign up with the
address on file, confirm it from the mailbox, see the invoices, pay one on the processor's hosted page,
request an appointment and download an agreement; every page passes an accessibility scan (axe-core) with
no serious or critical violation."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import Agreement, AppointmentRequest, Customer, CustomerEmail, Invoice, Job
from core.notifications.outbox import deliver_due
from core.tenancy import business_context
from core.testing.browser import assert_accessible
from core.testing.records import issue_invoice
from demo.seed import minimal_pdf
from plugins.payments_stripe.testing import WEBHOOK_SECRET, connect_stripe

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
SIGNUP_LINK = re.compile(r"https?://\S+/portal/signup/[A-Za-z0-9_\-]+")


@pytest.fixture
def live_portal(app, make_business, served_app, stripe_server, stripe_api, monkeypatch):
    """Acme with the portal and Stripe on, links pointing at the served app, and Pat's records."""
    monkeypatch.setitem(app.config, "SUPRATA_PUBLIC_URL", served_app.url)
    business = make_business("acme", plugins=["portal", "payments_stripe"], name="Acme Plumbing",
                             timezone="America/New_York", phone="+1 212 555 0100")
    connect_stripe(app, business)
    webhook = stripe_server.register_webhook(f"{served_app.url}/b/acme/stripe/webhook", WEBHOOK_SECRET)
    with app.app_context(), business_context(business.id):
        email = CustomerEmail(email="pat@example.com", is_primary=True)
        customer = Customer(name="Pat Jones", emails=[email])
        db.session.add(customer)
        db.session.flush()
        start = datetime.now(UTC) + timedelta(days=4)
        db.session.add(Job(customer_id=customer.id, title="Boiler service", status="scheduled",
                           scheduled_start=start, scheduled_end=start + timedelta(hours=2)))
        db.session.add(Agreement(customer_id=customer.id, title="Boiler care plan", status="active",
                                 signed_at=datetime.now(UTC) - timedelta(days=20), starts_on=date.today(),
                                 document_name="boiler-care-plan.pdf", document_mime="application/pdf",
                                 document=minimal_pdf(["Boiler care plan", "Signed by Pat Jones"])))
        db.session.commit()
        customer_id = customer.id
    issue_invoice(app, business, customer_id=customer_id)
    yield business
    stripe_server.unregister_webhook(webhook)


@pytest.mark.parametrize("size", sorted(SIZES))
def test_a_new_customer_signs_up_pays_books_and_downloads(app, live_portal, served_app, browser, mailbox,
                                                          tmp_path, size):
    context = browser.new_context(viewport=SIZES[size], accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    base = f"{served_app.url}/b/acme"

    page.goto(f"{base}/account/login")
    assert_accessible(page, "login")
    page.click("text=Sign up")
    page.fill("input[name=email]", "pat@example.com")
    assert_accessible(page, "sign-up")
    page.click("button:has-text('Email me the link')")
    page.wait_for_selector("text=Check your email")

    with app.app_context():
        deliver_due()
    [message] = [m for m in mailbox.wait_for(2) if "Confirm" in str(m["Subject"])]
    link = SIGNUP_LINK.search(mailbox.text_of(message)).group(0)
    page.goto(link)
    page.fill("input[name=new_password]", "a long passphrase of mine")
    page.fill("input[name=confirm_password]", "a long passphrase of mine")
    assert_accessible(page, "choose a password")
    page.click("button:has-text('Create my account')")

    page.wait_for_selector("#invoice-list")
    assert "INV-0001" in page.inner_text("#invoice-list")
    assert_accessible(page, "invoices")
    page.click("#invoice-list a:has-text('INV-0001')")
    assert_accessible(page, "invoice")
    page.click("#pay-now")
    page.wait_for_selector("#pay")  # the processor's hosted page
    page.click("#pay")
    page.wait_for_selector("#payment-status:has-text('Paid')", timeout=20_000)
    assert_accessible(page, "payment return")

    page.goto(f"{base}/portal/jobs")
    assert "Boiler service" in page.inner_text("#job-list")
    assert_accessible(page, "jobs")
    page.click("#request-appointment")
    page.fill("input[name=service]", "Leaking shower valve")
    page.fill("input[name='preferences-0-day']", (date.today() + timedelta(days=3)).isoformat())
    page.select_option("select[name='preferences-0-window']", "morning")
    page.fill("textarea[name=notes]", "Side door; the buzzer is broken.")
    assert_accessible(page, "request an appointment")
    page.click("#send-request")
    page.wait_for_selector("#appointment-requests:has-text('Leaking shower valve')")

    page.goto(f"{base}/portal/agreements")
    assert_accessible(page, "agreements")
    with page.expect_download() as download:
        page.click("text=Download boiler-care-plan.pdf")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "boiler-care-plan.pdf" and saved.read_bytes().startswith(b"%PDF-")

    for tab in ("reservations", "activity", "payment-methods/"):
        page.goto(f"{base}/portal/{tab}")
        assert_accessible(page, tab)
    context.close()

    with app.app_context(), business_context(live_portal.id):
        assert db.session.scalar(select(Invoice.status)) == "paid"
        assert db.session.scalar(select(AppointmentRequest.service)) == "Leaking shower valve"
