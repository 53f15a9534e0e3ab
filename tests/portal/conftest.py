"""Fixtures for the customer login and the portal: Acme with the portal (and Stripe) on, a customer with an
email address on file and a login, and helpers that read the links the app emails."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.extensions import db as _db
from core.models import Customer, CustomerEmail, OutboxMessage
from core.testing.helpers import create_customer_login, create_staff, login_customer
from plugins.payments_stripe.testing import inbox, stripe_api  # noqa: F401  (fixtures)

PASSWORD = "correct horse battery"


@pytest.fixture
def acme(make_business):
    return make_business("acme", plugins=["portal", "payments_stripe"], name="Acme Plumbing",
                         timezone="America/New_York", phone="+1 212 555 0100")


@pytest.fixture
def globex(make_business):
    """A second business, to check nothing crosses between businesses."""
    return make_business("globex", plugins=["portal", "payments_stripe"], name="Globex Heating")


def add_customer(in_business, business, name: str, *emails: str) -> int:
    with in_business(business):
        customer = Customer(name=name, emails=[CustomerEmail(email=email, is_primary=i == 0)
                                               for i, email in enumerate(emails)])
        _db.session.add(customer)
        _db.session.commit()
        return customer.id


@pytest.fixture
def maria(in_business, acme) -> int:
    """A customer of Acme's with an address on file and no login."""
    return add_customer(in_business, acme, "Maria Garcia", "maria@example.com", "maria@work.example.com")


@pytest.fixture
def maria_login(app, acme, maria):
    return create_customer_login(app, acme, maria, email="maria@example.com", password=PASSWORD)


@pytest.fixture
def portal(client, acme, maria_login):
    """The test client, logged in as Maria."""
    response = login_customer(client, acme, email="maria@example.com", password=PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def staff_member(app, acme):
    return create_staff(app, acme)


@pytest.fixture
def emailed(in_business, acme):
    """``emailed(template_key)``: the outbox messages of that template, oldest first, as (recipient,
    context) pairs."""

    def read(template_key: str, business=None):
        with in_business(business or acme):
            rows = _db.session.scalars(select(OutboxMessage).where(OutboxMessage.template_key == template_key)
                                       .order_by(OutboxMessage.id)).all()
            return [(row.recipient, dict(row.context)) for row in rows]

    return read


def local(url: str) -> str:
    """One of our public links, as a path for the test client."""
    return url.removeprefix("http://suprata.test")
