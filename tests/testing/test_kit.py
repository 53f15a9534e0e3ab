"""The kit core ships for plugin authors' tests does what its docstrings say."""

from __future__ import annotations

import pytest
import requests
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text

from core.extensions import db, migrate
from core.migrations import plugin_version_locations
from core.models import AuthSession, Invoice, Payment, StaffUser
from core.tenancy import business_context
from core.testing.background import run_background_work
from core.testing.helpers import run_cli, sign_in_customer, sign_in_staff
from core.testing.plugins import HookRecorder
from core.testing.records import create_customer, issue_invoice, save_plugin_settings, switch_plugin


@pytest.fixture
def acme(make_business):
    return make_business("acme", name="Acme Plumbing")


@pytest.fixture
def recorder(app, acme, register_plugin):
    recorder = register_plugin(HookRecorder(), "hook_recorder")
    switch_plugin(app, acme, "hook_recorder")
    return recorder


@pytest.mark.parametrize("role", ["owner", "support"])
def test_sign_in_staff_gives_a_console_login_with_that_role(app, client, acme, role):
    user = sign_in_staff(app, client, acme, role)

    assert client.get("/b/acme/console/").status_code == 200
    with app.app_context(), business_context(acme.id):
        assert db.session.get(StaffUser, user.id).role == role


def test_staff_sign_in_defaults_to_the_owner(app, client, acme):
    assert sign_in_staff(app, client, acme).role == "owner"


def test_sign_in_customer_gives_a_customer_login_not_a_staff_one(app, client, acme):
    user = sign_in_customer(app, client, acme, email="ann@example.test", name="Ann Lee")

    assert user.email_confirmed_at is not None
    with app.app_context(), business_context(acme.id):
        [session] = db.session.scalars(select(AuthSession)).all()
        assert (session.realm, session.user_id) == ("customer", user.id)
    assert client.get("/b/acme/console/").status_code == 302  # the console wants a staff login


def test_a_customer_and_an_invoice_sent_to_them(app, acme, mailbox):
    customer = create_customer(app, acme, "Ann Lee", email="ann@example.test", phone="+15550100")
    assert [e.email for e in customer.emails] == ["ann@example.test"]
    assert [p.number for p in customer.phones] == ["+15550100"]

    invoice = issue_invoice(app, acme, customer_id=customer.id)

    with app.app_context(), business_context(acme.id):
        row = db.session.get(Invoice, invoice.id)
        assert (row.status, row.customer_id, row.total) == ("open", customer.id, 20892)
    assert run_background_work(app).messages == 1
    [email] = mailbox.wait_for(1)
    assert f"/b/acme/pay/{invoice.token}" in mailbox.text_of(email)


def test_pay_invoice_pays_through_core_and_the_hooks_see_it(app, acme, recorder, pay_invoice, mailbox):
    invoice = issue_invoice(app, acme)

    payment_id = pay_invoice(acme, invoice.id)

    assert recorder.named("on_payment_captured") == [("on_payment_captured", payment_id, invoice.id)]
    with app.app_context(), business_context(acme.id):
        assert db.session.get(Invoice, invoice.id).status == "paid"
        assert db.session.get(Payment, payment_id).processor == "sandbox"
    run_background_work(app)
    subjects = [str(m["Subject"]) for m in mailbox.wait_for(2)]
    assert any("Receipt" in subject or "receipt" in subject for subject in subjects), subjects


def test_pay_invoice_can_decline(app, acme, recorder, pay_invoice):
    invoice = issue_invoice(app, acme)

    payment_id = pay_invoice(acme, invoice.id, decline="insufficient_funds")

    assert recorder.named("on_payment_failed") == [("on_payment_failed", payment_id, "insufficient_funds")]
    with app.app_context(), business_context(acme.id):
        assert db.session.get(Invoice, invoice.id).status == "open"


def test_plugin_settings_are_saved_through_their_validation(app, acme):
    with pytest.raises(AssertionError, match="Choose one of the options"):
        save_plugin_settings(app, acme, "payments_stripe", {"mode": "sideways"})


def test_run_cli_runs_a_command_of_the_app(app, db):
    result = run_cli(app, "suprata", "create-business", "bolt", "--name", "Bolt Electric")
    assert result.exit_code == 0, result.output
    assert "Created Bolt Electric (bolt) at http://suprata.test/b/bolt/." in result.output


def test_the_http_server_records_requests_and_fails_when_told(http_server):
    http_server.fail_next(503)
    first = requests.post(http_server.url + "hook", json={"n": 1}, timeout=5)
    second = requests.post(http_server.url + "hook", json={"n": 2}, timeout=5)

    assert (first.status_code, second.status_code) == (503, 200)
    assert [r.json() for r in http_server.wait_for(2)] == [{"n": 1}, {"n": 2}]
    assert http_server.requests[0].path == "/hook"


def test_the_schema_is_built_the_way_the_run_asked(app, request):
    """``--schema=migrations`` builds it through every branch, so the tables are at each branch's head."""
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        if request.config.getoption("--schema") == "models":
            assert "alembic_version" not in tables
            return
        versions = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
        heads = set(ScriptDirectory.from_config(migrate.get_config()).get_heads())
    assert versions == heads
    assert len(heads) == 1 + len(plugin_version_locations(app))  # core's branch and each plugin's
