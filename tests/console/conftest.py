"""Fixtures for the staff console's tests: a business, its staff member logged in, and a probe plugin."""

from __future__ import annotations

import pytest
from flask import url_for

from core import create_app
from core.extensions import db as _db
from core.identity.tokens import hash_token
from core.models import AuthSession, Customer, CustomerEmail, TaxRate
from core.plugin_api import MenuItem, Setting, hookimpl, staff_blueprint
from core.tenancy import business_context
from core.testing.fixtures import base_test_config
from core.testing.helpers import create_staff, login_staff, submit_form

PASSWORD = "correct horse battery"


@pytest.fixture
def password() -> str:
    """Every console test's staff password."""
    return PASSWORD


@pytest.fixture
def acme(make_business):
    return make_business("acme", name="Acme Plumbing", timezone="America/New_York")


@pytest.fixture
def staff(app, acme):
    return create_staff(app, acme, email="dana@acme.test", password=PASSWORD, name="Dana Ortiz")


@pytest.fixture
def console(client, acme, staff):
    """The test client, logged in to Acme's console as Dana."""
    response = login_staff(client, acme, email=staff.email, password=PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def customer_id(in_business, acme, db) -> int:
    with in_business(acme):
        customer = Customer(
            name="Jordan Rivera", emails=[CustomerEmail(email="jordan@example.com", is_primary=True)]
        )
        db.session.add(customer)
        db.session.commit()
        return customer.id


@pytest.fixture
def sales_tax(in_business, acme, db) -> int:
    """Acme's default tax rate, "Sales tax" at 8.25 %; returns its id (the form's choice for it)."""
    with in_business(acme):
        rate = TaxRate(name="Sales tax", rate_bp=825, is_default=True)
        db.session.add(rate)
        db.session.commit()
        return rate.id


@pytest.fixture
def draft_id(console, customer_id, sales_tax) -> int:
    """A draft created through the form: two lines, one taxed."""
    response = submit_form(
        console,
        f"/b/acme/console/invoices/new?customer={customer_id}",
        {
            "kind": "one_off",
            "memo": "Thanks for your business",
            "internal_notes": "Parts from the Elm St job",
            "lines-0-description": "Water heater",
            "lines-0-quantity": "1",
            "lines-0-unit_price": "1,250.50",
            "lines-0-tax": str(sales_tax),
            "lines-0-unit_cost": "800",
            "lines-1-description": "Labour (hours)",
            "lines-1-quantity": "2.5",
            "lines-1-unit_price": "90",
            "lines-1-tax": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


@pytest.fixture
def session_row(app, db):
    """``session_row(business, token)``: the server-side session behind a cookie value."""

    def find(business, token: str) -> AuthSession | None:
        with app.app_context(), business_context(business.id):
            row = db.session.scalar(db.select(AuthSession).where(AuthSession.token_hash == hash_token(token)))
            if row is not None:
                db.session.expunge(row)
            return row

    return find


@pytest.fixture
def staff_cookie():
    """``staff_cookie(client, business)``: the staff session token the client holds for that business."""

    def value(client, business) -> str | None:
        cookie = client.get_cookie("suprata_staff", path=f"/b/{business.slug}/")
        return cookie.value if cookie else None

    return value


class ProbePlugin:
    """Probe: a staff page, a console menu item and settings of every kind, for the console's tests."""

    def __init__(self):
        self.bp = staff_blueprint("probe", __name__, url_prefix="/probe", permission="customers")
        self.bp.add_url_rule("/", "page", lambda: "probe page")

    @hookimpl
    def register_blueprints(self, app):
        app.register_blueprint(self.bp)

    @hookimpl
    def render_console_menu(self, staff_user):
        return MenuItem(title="Probe tools", url=url_for("probe.page"))

    @hookimpl
    def plugin_settings(self):
        return [
            Setting("api_key", "API key", kind="secret", required=True),
            Setting("greeting", "Greeting", default="Hello", required=True),
            Setting("retries", "Retries", kind="int", default=3),
            Setting(
                "mode", "Mode", kind="choice", default="test", choices=(("test", "Test"), ("live", "Live"))
            ),
            Setting("loud", "Loud", kind="bool", default=False),
        ]

    @hookimpl
    def plugin_settings_problems(self, settings):
        if settings["mode"] == "live" and settings["greeting"] == "Hello":
            return {"greeting": "Live mode needs a greeting of your own."}
        return None


@pytest.fixture(scope="session")
def probe_app(database_url, tmp_path_factory, mailbox):
    """A second app on the same database with the probe plugin installed (plugins add routes at start)."""
    config = base_test_config(database_url, tmp_path_factory.mktemp("probe"), mailbox.port)
    application = create_app(config, plugins=[("probe", ProbePlugin())])
    yield application
    with application.app_context():
        _db.engine.dispose()
