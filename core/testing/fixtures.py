"""Pytest fixtures for Suprata and its plugins: real database, real SMTP server, real Stripe test server.

Choose the database with ``--db=sqlite`` (default) or ``--db=postgresql`` (a throwaway cluster is started),
or point ``SUPRATA_TEST_DATABASE_URL`` at an existing empty database. Choose how its schema is built with
``--schema=models`` (default: ``create_all`` from the models, fast) or ``--schema=migrations`` (core's and
every installed plugin's Alembic branch, upgraded to their heads, so a broken migration fails the run);
``SUPRATA_TEST_SCHEMA`` sets the default.

Fixtures: ``app``, ``client``, ``db`` (emptied after each test), ``make_business``, ``business``,
``in_business``, ``register_plugin``, ``pay_invoice`` (the sandbox processor), ``http_server`` (a local
endpoint that records requests), ``mailbox``, ``stripe_server``, ``twilio_server``, ``redis_server``.
Helpers that need no set-up are functions: :mod:`core.testing.helpers` (forms, signing in, the command
line), :mod:`core.testing.records` (customers, invoices, plugin switches and settings),
:mod:`core.testing.background` (running queued work and the outbox).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import flask_migrate
import pytest
from flask import has_app_context
from sqlalchemy import text

from core.migrations import table_owners
from core.tenancy import business_context
from core.testing.http import RecordingServer
from core.testing.plugins import SANDBOX_PLUGIN, SandboxPayments, pay_through_sandbox
from core.testing.records import switch_plugin


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        default=os.environ.get("SUPRATA_TEST_DB", "sqlite"),
        choices=("sqlite", "postgresql"),
        help="database the suite runs on",
    )
    parser.addoption(
        "--schema",
        default=os.environ.get("SUPRATA_TEST_SCHEMA", "models"),
        choices=("models", "migrations"),
        help="build the test database from the models (create_all) or through every branch's migrations",
    )


@pytest.fixture(autouse=True)
def _push_request_context():
    """Replaces pytest-flask's fixture of this name, which keeps one request context open for a whole test.

    While it is open, every test-client request reuses its app context and so its ``g``: Flask-Login's cached
    user and the resolved business would leak from one request into the next, and a realm check could pass
    without testing anything. Each request here gets a fresh context, as in production.
    """
    yield


@pytest.fixture
def client(app):
    """Replaces pytest-flask's client, which is opened with ``with``: that keeps each request's context
    pushed until the next request, and a second client's request would then run in the first one's ``g``
    (logged in as its user). This client leaves nothing behind, as a browser's request does."""
    return app.test_client()


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory) -> Iterator[str]:
    url = os.environ.get("SUPRATA_TEST_DATABASE_URL")
    if url:
        yield url
        return
    if request.config.getoption("--db") == "postgresql":
        from core.testing.postgres import ThrowawayPostgres

        cluster = ThrowawayPostgres()
        cluster.start()
        try:
            yield cluster.create_database("suprata_test")
        finally:
            cluster.stop()
        return
    yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'suprata.db'}"


@pytest.fixture(scope="session")
def mailbox():
    """A real SMTP server on 127.0.0.1; every email the app sends lands in ``mailbox.messages``."""
    from core.testing.mailbox import SMTPMailbox

    box = SMTPMailbox().start()
    yield box
    box.stop()


@pytest.fixture(scope="session")
def stripe_server():
    """The local stateful Stripe server, driven by the real ``stripe`` SDK."""
    from core.testing.stripe_server import StripeTestServer

    server = StripeTestServer()
    server.start()
    yield server
    server.stop()


def base_test_config(database_url: str, tmp_path, mail_port: int) -> dict:
    """The configuration every test app shares; pass to ``create_app`` for extra app instances."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SUPRATA_PUBLIC_URL": "http://suprata.test",
        "SUPRATA_QUEUE_URL": "memory",
        "SUPRATA_STATE_TTL": 0,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": mail_port,
        "MAIL_SUPPRESS_SEND": False,  # Flask-Mail would skip sending under TESTING otherwise
        "WTF_CSRF_ENABLED": True,
        "RATELIMIT_ENABLED": True,
        "SERVER_NAME": None,
        "SUPRATA_INSTANCE_TMP": str(tmp_path),
    }


@pytest.fixture(scope="session")
def app_config(database_url, tmp_path_factory, mailbox) -> dict:
    return base_test_config(database_url, tmp_path_factory.mktemp("instance"), mailbox.port)


def build_schema(app, how: str = "models") -> None:
    """Create the tables of an empty database: from the models, or (``"migrations"``) by upgrading core's
    and every loaded plugin's migration branch to its head. Tables no branch owns (models a test defines
    for itself) come from the models either way."""
    from core.extensions import db as _db

    with app.app_context():
        if how == "migrations":
            flask_migrate.upgrade(revision="heads")
            owned = set(table_owners(app))
            _db.metadata.create_all(_db.engine, tables=[t for t in _db.metadata.sorted_tables
                                                        if t.name not in owned])
        else:
            _db.create_all()


@pytest.fixture(scope="session")
def app(app_config, request):
    """The application, once per session (pytest-flask's live_server needs that); data is reset per test."""
    from core import create_app
    from core.extensions import db as _db

    application = create_app(dict(app_config))
    build_schema(application, request.config.getoption("--schema"))
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()


def wipe_database(app) -> None:
    """Delete every row of every table (schema stays), forget what processes cached about it, and drop the
    tasks waiting in the in-memory queue (they name rows that are gone)."""
    from core.extensions import db as _db
    from core.extensions import limiter

    with app.app_context():
        _db.session.remove()
        tables = list(reversed(_db.metadata.sorted_tables))
        with _db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(table.delete())
        app.extensions["suprata"].businesses.forget()
        if app.config["SUPRATA_QUEUE_URL"] == "memory":
            app.extensions["suprata"].queue.huey.flush()
        limiter.reset()


@pytest.fixture
def db(app, mailbox):
    """The database, emptied after each test; the SMTP mailbox is emptied too."""
    from core.extensions import db as _db

    mailbox.clear()
    yield _db
    # Test requests share pytest-flask's pushed context and its session; a read left open there would
    # hold locks that PostgreSQL's TRUNCATE waits for. (Tests that do without that context may have none.)
    if has_app_context():
        _db.session.remove()
    wipe_database(app)


@pytest.fixture
def make_business(app, db):
    """Factory: ``make_business("acme", plugins=["portal"])`` creates a business with those plugins on."""

    def factory(slug: str = "acme", *, plugins: tuple[str, ...] | list[str] = (), **fields):
        from core.tenancy.businesses import create_business

        with app.app_context():
            business = create_business(
                slug,
                plugins=plugins,
                name=fields.pop("name", slug.replace("-", " ").title()),
                email=fields.pop("email", f"office@{slug}.test"),
                billing_email=fields.pop("billing_email", f"billing@{slug}.test"),
                **fields,
            )
            db.session.refresh(business)  # loaded, so the test can read it after the context ends
            db.session.expunge(business)
            return business

    return factory


@pytest.fixture
def business(make_business):
    """One business, "Acme", with every bundled plugin switched on."""
    return make_business("acme", plugins=["payments_stripe", "sms_twilio", "helpdesk", "portal"],
                         name="Acme Plumbing", timezone="America/New_York")


@pytest.fixture
def in_business(app):
    """Context manager: ``with in_business(b):`` runs code (queries, factories) as that business."""

    @contextmanager
    def enter(business):
        with app.app_context(), business_context(business.id):
            yield

    return enter


@pytest.fixture
def cached_businesses(app, monkeypatch):
    """Business snapshots cached as in production (tests otherwise re-read them on every request), for
    tests that count a page's SQL statements."""
    monkeypatch.setattr(app.extensions["suprata"].businesses, "ttl", 60)


@pytest.fixture
def register_plugin(app):
    """Register a plugin object (module, class instance) with the app for one test; its hooks only.

    Plugins that add blueprints must be passed to ``create_app(..., plugins=[...])`` instead, because Flask
    takes no new routes once an app has served a request.
    """
    host = app.extensions["suprata"].plugins
    added = []

    def register(plugin, name: str):
        assert host.register(plugin, name), host.broken.get(name)
        added.append(name)
        return plugin

    yield register
    for name in added:
        host.pm.unregister(name=name)


@pytest.fixture(scope="session")
def redis_server():
    """A throwaway ``redis-server`` on 127.0.0.1 (``redis_server.url``), with ``kill()``/``restart()`` for
    outage tests. Tests share it: use keys of their own or flush the database they use."""
    from core.testing.redis_server import ThrowawayRedis

    server = ThrowawayRedis().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def twilio_server():
    """The local Twilio server, driven by the real ``twilio`` SDK: ``twilio_server.client()`` or
    ``http_client=twilio_server.http_client()``. Shared by the session: call ``reset()`` where a test needs
    an empty log, no opt-outs and no pending faults."""
    from core.testing.twilio_server import TwilioTestServer

    server = TwilioTestServer().start()
    yield server
    server.stop()


@pytest.fixture
def pay_invoice(app, register_plugin):
    """``pay_invoice(business, invoice_id, decline=None)``: pay what is due through the sandbox processor
    (switched on for that business), as a customer does from the pay link; returns the payment's id.

    Core's real checkout and ledger run, so ``on_payment_captured`` (or with ``decline="card_declined"``,
    ``on_payment_failed``) has reached the business's plugins when it returns.
    """
    register_plugin(SandboxPayments(), SANDBOX_PLUGIN)

    def pay(business, invoice_id: int, *, decline: str | None = None) -> int:
        switch_plugin(app, business, SANDBOX_PLUGIN)
        return pay_through_sandbox(app, business, invoice_id, decline=decline)

    return pay


@pytest.fixture
def http_server():
    """A :class:`core.testing.http.RecordingServer` on 127.0.0.1 for one test: point a webhook at
    ``http_server.url``, then read ``http_server.requests`` (or ``wait_for(n)``)."""
    server = RecordingServer()
    yield server
    server.stop()
