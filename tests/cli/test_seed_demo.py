"""`suprata seed-demo`: two branded businesses with every kind of record, idempotent, with live pay links."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.identity.passwords import verify_password
from core.models import (
    Agreement,
    AppointmentRequest,
    Business,
    Customer,
    CustomerEmail,
    CustomerUser,
    Invoice,
    Job,
    Reservation,
    StaffUser,
)
from core.models.invoice import INVOICE_KINDS, INVOICE_STATUSES
from core.money.invoicing import find_pay_link
from core.plugins.settings import settings_for
from core.testing.background import run_background_work
from core.testing.postgres import free_port
from demo.seed import ACME, HARBOR, PORTAL_PASSWORD, demo_webhook_id, minimal_pdf

PAY_LINK = re.compile(r"pay link for (\S+): (http\S+/b/(\w+)/\S+)")
COUNTED = (Customer, Invoice, Job, AppointmentRequest, Agreement, Reservation, StaffUser, CustomerUser)


def seed(app, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["suprata", "seed-demo", *args])
    assert result.exit_code == 0, result.output
    return result.output


def demo_businesses(app) -> dict[str, Business]:
    with app.app_context():
        rows = db.session.scalars(select(Business).order_by(Business.slug)).all()
        db.session.expunge_all()
    return {b.slug: b for b in rows}


def counts(in_business, business) -> dict[str, int]:
    with in_business(business):
        return {model.__name__: db.session.scalar(select(func.count(model.id))) for model in COUNTED}


def test_seeds_two_differently_branded_businesses(app, db):
    seed(app)
    businesses = demo_businesses(app)
    assert sorted(businesses) == ["acme", "harbor"]
    acme, harbor = businesses["acme"], businesses["harbor"]
    assert (acme.name, acme.timezone, acme.currency) == ("Acme Plumbing", "America/New_York", "USD")
    assert (harbor.name, harbor.timezone, harbor.currency) == ("Harbor HVAC", "America/Los_Angeles", "USD")
    assert acme.brand_color != harbor.brand_color
    assert harbor.theme == "harbor"  # themes/harbor exists in this repository


def test_every_invoice_kind_and_status_with_the_rest_of_the_records(app, db, in_business):
    seed(app)
    for business in demo_businesses(app).values():
        with in_business(business):
            invoices = db.session.scalars(select(Invoice)).all()
            assert {i.kind for i in invoices} == set(INVOICE_KINDS)
            assert {i.status for i in invoices} == set(INVOICE_STATUSES)
            assert all(i.total > 0 and i.lines for i in invoices)
            assert all(i.amount_due == 0 for i in invoices if i.status == "paid")
            customers = db.session.scalars(select(Customer)).all()
            assert len(customers) == 8
            assert any(len(c.emails) > 1 for c in customers) and any(len(c.phones) > 1 for c in customers)
            verified = {e.verified_at is not None for e in db.session.scalars(select(CustomerEmail))}
            assert verified == {True, False}
            assert db.session.scalar(select(func.count(AppointmentRequest.id))) >= 1
            reservations = db.session.scalars(select(Reservation)).all()
            assert reservations and all(r.balance > 0 for r in reservations)
            for agreement in db.session.scalars(select(Agreement)):
                assert agreement.document.startswith(b"%PDF-")
                assert agreement.document_mime == "application/pdf"


def test_logins_printed_by_the_seed_work(app, db, in_business):
    output = seed(app)
    businesses = demo_businesses(app)
    for demo in (ACME, HARBOR):
        assert demo.staff[0][3] == "owner"  # a business's first staff member is its owner
        for name, email, password, role in demo.staff:
            assert f"staff ({role}) login: {email} / {password}" in output
            with in_business(businesses[demo.slug]):
                staff = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
                assert staff.name == name and staff.role == role
                assert verify_password(staff.password_hash, password)
        with in_business(businesses[demo.slug]):
            portal = db.session.scalar(select(CustomerUser))
            portal_has_pages = "portal" in app.extensions["suprata"].plugins.blueprint_owner.values()
            assert (f"portal login: {portal.email} / {PORTAL_PASSWORD}" in output) == portal_has_pages
            assert portal.email_confirmed_at is not None
            assert verify_password(portal.password_hash, PORTAL_PASSWORD)


def test_printed_pay_links_open_open_invoices_of_their_business(app, db, in_business):
    output = seed(app)
    businesses = demo_businesses(app)
    links = PAY_LINK.findall(output)
    assert {slug for _, _, slug in links} == {"acme", "harbor"}
    for number, url, slug in links:
        token = url.rsplit("/", 1)[1]
        with in_business(businesses[slug]):
            link, _ = find_pay_link(token)
            assert link is not None and link.invoice.number == number and link.invoice.status == "open"


def test_stripe_uses_the_demo_test_keys(app, db, in_business):
    seed(app)
    for business in demo_businesses(app).values():
        with in_business(business):
            stripe = settings_for("payments_stripe")
            assert stripe["mode"] == "test" and stripe["test_secret_key"].startswith("sk_test_")
            assert stripe["webhook_secret"].startswith("whsec_")


def test_webhooks_are_registered_at_the_stripe_test_server(app, db, stripe_server):
    output = seed(app, "--stripe-test-server", stripe_server.base_url)
    urls = [f"http://suprata.test/b/{slug}/stripe/webhook" for slug in ("acme", "harbor")]
    try:
        for url in urls:
            assert f"Stripe test events go to {url}" in output
    finally:
        for url in urls:
            stripe_server.unregister_webhook(demo_webhook_id(url))


def test_the_example_plugin_posts_the_seeded_payments_points_to_the_webhook_catcher(app, db, http_server):
    if "loyalty" not in app.extensions["suprata"].plugins.plugin_names():
        pytest.skip("the example plugin is not installed (pip install -e examples/suprata-loyalty)")
    output = seed(app, "--webhook-catcher", http_server.url + "webhooks")
    assert f"loyalty points are posted in the background to {http_server.url}webhooks/acme-loyalty" in output

    assert run_background_work(app).tasks > 0

    posted = {request.path for request in http_server.wait_for(2)}
    assert posted == {"/webhooks/acme-loyalty", "/webhooks/harbor-loyalty"}


def test_an_unreachable_stripe_test_server_is_reported_and_seeding_goes_on(app, db):
    output = seed(app, "--stripe-test-server", f"http://127.0.0.1:{free_port()}")
    assert output.count("did not take the webhook") == 2
    assert sorted(demo_businesses(app)) == ["acme", "harbor"]


def test_seeding_again_keeps_the_data_and_issues_fresh_pay_links(app, db, in_business):
    first_output = seed(app)
    businesses = demo_businesses(app)
    before = {slug: counts(in_business, b) for slug, b in businesses.items()}
    second_output = seed(app)
    assert demo_businesses(app).keys() == businesses.keys()
    assert {slug: counts(in_business, b) for slug, b in businesses.items()} == before
    assert second_output.count("already seeded, kept") == 2
    assert set(PAY_LINK.findall(second_output)).isdisjoint(PAY_LINK.findall(first_output))
    for _, url, slug in PAY_LINK.findall(first_output):
        with in_business(businesses[slug]):
            assert find_pay_link(url.rsplit("/", 1)[1]) is not None  # earlier links still work


def test_reset_seeds_from_scratch(app, db, in_business):
    seed(app)
    before = demo_businesses(app)
    output = seed(app, "--reset")
    after = demo_businesses(app)
    assert output.count("(seeded)") == 2
    assert {b.id for b in after.values()}.isdisjoint(b.id for b in before.values())
    assert counts(in_business, after["acme"])["Invoice"] == len(ACME.invoices)


def test_agreement_documents_are_well_formed_pdfs():
    pdf = minimal_pdf(["Service agreement (annual)", "Price: $420.00 \\ visit"])
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF\n")
    xref_at = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[xref_at:].startswith(b"xref\n0 6\n")
    entries = pdf[xref_at:].split(b"\n")[3:8]
    for number, entry in enumerate(entries, start=1):
        offset = int(entry.split(b" ")[0])
        assert pdf[offset:].startswith(b"%d 0 obj" % number)
    assert b"(Service agreement \\(annual\\)) Tj" in pdf and b"$420.00 \\\\ visit" in pdf


def test_the_portal_is_ready_to_try(app, in_business, db):
    output = seed(app)
    businesses = demo_businesses(app)
    from plugins.portal.models import PortalApplication

    assert "portal login: maria.garcia@example.test / demo-pass-portal" in output
    assert "is waiting for approval" in output and "/b/harbor/account/login" in output
    with in_business(businesses["harbor"]):
        [waiting] = db.session.scalars(select(PortalApplication)).all()
        assert (waiting.status, waiting.email) == ("pending", "olivia.park@example.test")
    with in_business(businesses["acme"]):
        assert db.session.scalars(select(PortalApplication)).all() == []
    assert businesses["harbor"].policy("unknown_signup_policy") == "queue"
    assert businesses["acme"].policy("unknown_signup_policy") == "reject"
