"""Customers in the console: search, pagination with bounded queries, the record form, the detail page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.models import (
    ActivityEvent,
    Agreement,
    Customer,
    CustomerEmail,
    CustomerPhone,
    Invoice,
    Job,
    OutboxMessage,
    Payment,
    Reservation,
    SavedPaymentMethod,
)
from core.tenancy import utcnow
from core.testing.helpers import sql_statements, submit_form


@pytest.fixture
def add_customer(in_business, acme, db):
    """``add_customer(name, emails=[...], phones=[...], **fields)`` in Acme; returns its id."""

    def add(name: str, *, emails=(), phones=(), business=None, **fields) -> int:
        with in_business(business or acme):
            customer = Customer(
                name=name,
                emails=[CustomerEmail(email=e, is_primary=i == 0) for i, e in enumerate(emails)],
                phones=[CustomerPhone(number=p) for p in phones],
                **fields,
            )
            db.session.add(customer)
            db.session.commit()
            return customer.id

    return add


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("ann", ["Ann Lee"]),
        ("BOLT", ["Bo Diaz"]),
        ("bo@example", ["Bo Diaz"]),
        ("(555) 010-2030", ["Ann Lee"]),
        ("%", []),
        ("", ["Ann Lee", "Bo Diaz", "Cy Park"]),
    ],
)
def test_search_finds_customers_by_name_company_email_or_phone(console, add_customer, query, found):
    add_customer("Ann Lee", emails=["ann@example.com"], phones=["+15550102030"])
    add_customer("Bo Diaz", company="Bolt Electric", emails=["bo@example.com"])
    add_customer("Cy Park", emails=["cy@example.com"])
    page = _text(console.get("/b/acme/console/customers", query_string={"q": query}))
    listed = [name for name in ("Ann Lee", "Bo Diaz", "Cy Park") if name in page]
    assert listed == found


def test_the_list_is_paged_with_the_same_number_of_queries_for_any_page_size(app, console, add_customer):
    add_customer("Only One", emails=["one@example.com"], phones=["+15550200001"])
    with sql_statements(app) as few:
        assert console.get("/b/acme/console/customers").status_code == 200
    for i in range(30):
        add_customer(
            f"Customer {i:02d}",
            emails=[f"c{i}@example.com", f"c{i}b@example.com"],
            phones=[f"+1555010{i:04d}"],
        )
    with sql_statements(app) as many:
        first = _text(console.get("/b/acme/console/customers"))
    assert len(many) == len(few)
    assert "Page 1 of 2" in first
    second = _text(console.get("/b/acme/console/customers?page=2"))
    assert "Only One" in second and "Customer 29" in second
    assert console.get("/b/acme/console/customers?page=99").status_code == 200


def test_staff_create_a_customer_with_emails_and_phones(app, console, acme, in_business, db):
    response = submit_form(
        console,
        "/b/acme/console/customers/new",
        {
            "name": "Jordan Rivera",
            "company": "Rivera Farms",
            "address": "1 Orchard Lane",
            "internal_notes": "Dog in the yard",
            "emails-0-email": "Jordan@Example.com",
            "emails-0-verified": "y",
            "emails-1-email": "office@rivera.test",
            "emails-1-primary": "y",
            "phones-0-number": "(212) 555-0142",
            "phones-0-label": "mobile",
            "phones-1-number": "",
        },
    )
    assert response.status_code == 302
    with in_business(acme):
        customer = db.session.scalar(select(Customer))
        assert (customer.name, customer.company, customer.internal_notes) == (
            "Jordan Rivera",
            "Rivera Farms",
            "Dog in the yard",
        )
        emails = {e.email: (e.is_primary, e.verified_at is not None) for e in customer.emails}
        assert emails == {"jordan@example.com": (False, True), "office@rivera.test": (True, False)}
        assert [(p.number, p.label) for p in customer.phones] == [("+12125550142", "mobile")]
        assert response.headers["Location"] == f"/b/acme/console/customers/{customer.id}"


def test_editing_keeps_when_an_address_was_verified(console, add_customer, in_business, acme, db):
    customer_id = add_customer("Ann Lee", emails=["ann@example.com"])
    verified_at = utcnow() - timedelta(days=30)
    with in_business(acme):
        db.session.scalar(select(CustomerEmail)).verified_at = verified_at
        db.session.commit()
    edit = f"/b/acme/console/customers/{customer_id}/edit"
    page = _text(console.get(edit))
    assert 'value="ann@example.com"' in page
    response = submit_form(
        console,
        edit,
        {
            "name": "Ann Lee-Park",
            "emails-0-email": "ann@example.com",
            "emails-0-verified": "y",
            "emails-1-email": "ann.work@example.com",
        },
    )
    assert response.status_code == 302
    with in_business(acme):
        rows = {e.email: e for e in db.session.scalars(select(CustomerEmail))}
        assert rows["ann@example.com"].verified_at == verified_at
        assert rows["ann@example.com"].is_primary
        assert rows["ann.work@example.com"].verified_at is None
        assert db.session.get(Customer, customer_id).name == "Ann Lee-Park"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"emails-0-email": "not-an-email"}, "Enter a valid email."),
        ({"emails-0-email": "bo@example.com"}, "Already on file for Bo Diaz."),
        ({"emails-0-email": "x@example.com", "emails-1-email": "X@example.com"}, "This is listed twice."),
        (
            {
                "emails-0-email": "x@example.com",
                "emails-0-primary": "y",
                "emails-1-email": "y@example.com",
                "emails-1-primary": "y",
            },
            "Mark only one email as primary.",
        ),
        ({"phones-0-number": "555-0102"}, "555-0102 is not a valid phone number: check the digits and the "
                                          "country code."),
        ({"phones-0-number": "+1 555 010 9999"}, "+1 555 010 9999 is not a valid phone number"),
        ({"phones-0-number": "call me"}, "Enter a phone number like (201) 555-0123, or with its country "
                                         "code."),
        ({"phones-0-number": "+1 212 555 0199"}, "Already on file for Bo Diaz."),
    ],
)
def test_invalid_customer_input_gives_field_errors(console, add_customer, fields, message):
    add_customer("Bo Diaz", emails=["bo@example.com"], phones=["+12125550199"])
    response = submit_form(console, "/b/acme/console/customers/new", {"name": "New Person", **fields})
    assert response.status_code == 400
    assert message in _text(response)


def test_detail_shows_everything_about_the_customer_newest_first(
    app, console, add_customer, in_business, acme, db
):
    customer_id = add_customer(
        "Ann Lee", emails=["ann@example.com"], phones=["+15550102030"], internal_notes="Gate code 1234"
    )
    with in_business(acme):
        invoice = Invoice(
            customer_id=customer_id, number="INV-0007", currency="USD", status="open", total=12550
        )
        db.session.add(invoice)
        db.session.flush()
        now = utcnow()
        db.session.add_all(
            [
                Payment(
                    invoice_id=invoice.id,
                    customer_id=customer_id,
                    processor="stripe",
                    amount=5000,
                    currency="USD",
                    status="succeeded",
                    captured_at=now,
                ),
                SavedPaymentMethod(
                    customer_id=customer_id,
                    processor="stripe",
                    processor_ref="pm_1",
                    brand="visa",
                    last4="4242",
                    exp_month=4,
                    exp_year=2031,
                    consent_at=now,
                    consent_text="yes",
                ),
                Job(customer_id=customer_id, title="Replace water heater", status="scheduled"),
                Agreement(
                    customer_id=customer_id,
                    title="Annual service plan",
                    signed_at=now,
                    document_name="plan.pdf",
                    document_mime="application/pdf",
                    document=b"%PDF-1.4 signed",
                ),
                Reservation(
                    customer_id=customer_id,
                    title="Lift rental",
                    starts_on=date(2026, 7, 1),
                    currency="USD",
                    total=30000,
                    amount_paid=10000,
                ),
                ActivityEvent(
                    customer_id=customer_id,
                    surface="portal",
                    kind="login",
                    summary="Older event",
                    at=now - timedelta(hours=2),
                ),
                ActivityEvent(
                    customer_id=customer_id,
                    surface="pay_link",
                    kind="invoice.viewed",
                    summary="Newer event",
                    at=now - timedelta(hours=1),
                ),
                OutboxMessage(
                    channel="email",
                    template_key="invoice_sent",
                    recipient="ann@example.com",
                    customer_id=customer_id,
                    status="failed",
                    last_error="mailbox full",
                ),
            ]
        )
        db.session.commit()

    page = _text(console.get(f"/b/acme/console/customers/{customer_id}"))

    for expected in (
        "ann@example.com",
        "+15550102030",
        "Gate code 1234",
        "INV-0007",
        "$125.50",
        "$50.00",
        "Visa ending 4242",
        "04/2031",
        "Replace water heater",
        "Annual service plan",
        "Lift rental",
        "$200.00",
        "mailbox full",
        "invoice_sent",
    ):
        assert expected in page, expected
    assert page.index("Newer event") < page.index("Older event")
    assert "· Pay link</div>" in page and "· Portal</div>" in page  # where each happened, in words
    download = console.get(f"/b/acme/console/customers/{customer_id}/agreements/1/document")
    assert download.status_code == 200
    assert download.data == b"%PDF-1.4 signed"
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_detail_page_queries_do_not_grow_with_the_records(app, console, add_customer, in_business, acme, db):
    customer_id = add_customer("Ann Lee", emails=["ann@example.com"])

    def add_records(count: int):
        with in_business(acme):
            for i in range(count):
                invoice = Invoice(customer_id=customer_id, number=f"N-{count}-{i}", currency="USD")
                db.session.add(invoice)
                db.session.flush()
                db.session.add(
                    Payment(
                        invoice_id=invoice.id,
                        customer_id=customer_id,
                        processor="stripe",
                        amount=100,
                        currency="USD",
                    )
                )
                db.session.add(
                    ActivityEvent(customer_id=customer_id, surface="console", kind="x", summary="x")
                )
            db.session.commit()

    add_records(1)
    with sql_statements(app) as few:
        console.get(f"/b/acme/console/customers/{customer_id}")
    add_records(10)
    with sql_statements(app) as many:
        console.get(f"/b/acme/console/customers/{customer_id}")
    assert len(many) == len(few)


def test_another_business_customers_are_not_found(console, add_customer, make_business):
    bolt = make_business("bolt")
    theirs = add_customer("Bolt's customer", emails=["theirs@example.com"], business=bolt)
    their_page = f"/b/acme/console/customers/{theirs}"
    assert console.get(their_page).status_code == 404
    assert console.get(f"{their_page}/edit").status_code == 404
    assert console.get(f"{their_page}/agreements/1/document").status_code == 404
    assert "Bolt&#39;s customer" not in _text(console.get("/b/acme/console/customers?q=Bolt"))
    not_found = console.get("/b/acme/console/customers/999999")
    assert not_found.status_code == 404
    assert "Page not found" in _text(not_found)
