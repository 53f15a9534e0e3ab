"""Fixtures for the staff console's tests: a business, its staff member logged in, and a probe plugin."""

from __future__ import annotations

import pytest
from flask import url_for

from core import create_app
from core.extensions import db as _db
from core.identity.tokens import hash_token
from core.models import AuthSession
from core.plugin_api import MenuItem, Setting, hookimpl, staff_blueprint
from core.tenancy import business_context
from core.testing.fixtures import base_test_config
from core.testing.helpers import create_staff, login_staff

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
        self.bp = staff_blueprint("probe", __name__, url_prefix="/probe")
        self.bp.add_url_rule("/", "page", lambda: "probe page")

    @hookimpl
    def register_blueprints(self, app):
        app.register_blueprint(self.bp)

    @hookimpl
    def console_menu_items(self, staff_user):
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


@pytest.fixture(scope="session")
def probe_app(database_url, tmp_path_factory, mailbox):
    """A second app on the same database with the probe plugin installed (plugins add routes at start)."""
    config = base_test_config(database_url, tmp_path_factory.mktemp("probe"), mailbox.port)
    application = create_app(config, plugins=[("probe", ProbePlugin())])
    yield application
    with application.app_context():
        _db.engine.dispose()
