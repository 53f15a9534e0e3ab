"""Fixtures of the SMS plugin's tests, on top of core's kit: a business with Twilio set up against the local
Twilio stand-in (driven by the real ``twilio`` SDK), customers with phones, and texts delivered by the outbox.

Like every test of the plugin, these import nothing from core but ``core.plugin_api`` and ``core.testing``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.plugin_api import Customer, CustomerEmail, CustomerPhone, business_context, db, utcnow
from core.testing.records import save_plugin_settings
from core.testing.twilio_server import ACCOUNT_SID, AUTH_TOKEN, PHONE_NUMBER
from plugins.sms_twilio.models import SmsMessage
from plugins.sms_twilio.settings import API_BASE_SETTING


@pytest.fixture
def twilio(app, twilio_server, monkeypatch):
    """The Twilio stand-in, emptied, with the app's test mode pointed at it."""
    twilio_server.reset()
    monkeypatch.setitem(app.config, API_BASE_SETTING, twilio_server.base_url)
    return twilio_server


@pytest.fixture
def acme(app, make_business, twilio):
    """A business with the SMS plugin on and its Twilio test account, saved through the plugins page's
    rules."""
    business = make_business("acme", plugins=["sms_twilio"], name="Acme Plumbing",
                             timezone="America/New_York", phone="+1 212 555 0100")
    save_plugin_settings(app, business, "sms_twilio", {"mode": "test", "account_sid": ACCOUNT_SID,
                                                       "auth_token": AUTH_TOKEN, "sender": PHONE_NUMBER})
    return business


@pytest.fixture
def add_customer(app):
    """``add_customer(business, name, verified=[...], unverified=[...], email=...)``: a customer with those
    phone numbers (E.164); returns the customer's id."""

    def add(business, name: str, *, verified=(), unverified=(), email: str | None = None) -> int:
        with app.app_context(), business_context(business.id):
            customer = Customer(name=name, phones=[
                *(CustomerPhone(number=n, label="mobile", verified_at=utcnow()) for n in verified),
                *(CustomerPhone(number=n, label="home") for n in unverified)])
            if email:
                customer.emails.append(CustomerEmail(email=email, is_primary=True))
            db.session.add(customer)
            db.session.commit()
            return customer.id

    return add


@pytest.fixture
def ann(acme, add_customer) -> int:
    """Ann's id: a customer with a verified mobile (+12125550142), an unverified home number (+12125550143)
    and an email address."""
    return add_customer(acme, "Ann Lee", verified=["+12125550142"], unverified=["+12125550143"],
                        email="ann@example.test")


@pytest.fixture
def phone_of(app):
    """``phone_of(business, number)``: the phone row, detached, as it is now."""

    def phone(business, number: str) -> CustomerPhone:
        with app.app_context(), business_context(business.id):
            row = db.session.scalar(select(CustomerPhone).where(CustomerPhone.number == number))
            db.session.expunge_all()
            return row

    return phone


@pytest.fixture
def texts_of(app):
    """``texts_of(business)``: the plugin's records of texts, oldest first, detached."""

    def texts(business) -> list[SmsMessage]:
        with app.app_context(), business_context(business.id):
            rows = db.session.scalars(select(SmsMessage).order_by(SmsMessage.id)).all()
            db.session.expunge_all()
            return rows

    return texts
