"""Liveness, readiness, request ids, metrics, logging, and the 503 page while the database is away."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import update

from core import create_app
from core.models import Customer, Invoice, OutboxMessage, Payment
from core.money.payments.ledger import record_payment_failed
from core.notifications.outbox import enqueue
from core.observability.logs import JsonFormatter, PlainFormatter, RepeatFilter
from core.plugin_api import hookimpl
from core.plugins.settings import set_enabled
from core.tenancy import utcnow
from core.testing.fixtures import base_test_config
from core.testing.postgres import free_port

TOKEN = "metrics-test-token"


@pytest.fixture
def unreachable_database_app(tmp_path, mailbox):
    """An app whose PostgreSQL server is down: nothing listens on its port."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/suprata"
    return create_app(base_test_config(url, tmp_path, mailbox.port))


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_while_the_database_is_down_pages_answer_503_readiness_says_why_and_liveness_holds(
        unreachable_database_app, caplog):
    client = unreachable_database_app.test_client()
    with caplog.at_level(logging.ERROR):
        page = client.get("/b/acme/pay/some-token")
        console = client.get("/b/acme/console/login")

    for response in (page, console):
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        text = response.get_data(as_text=True)
        assert "right back" in text and "Nothing you entered was lost" in text and "Traceback" not in text
    assert caplog.text.count("database unavailable") == 2
    assert "Traceback" not in caplog.text

    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.headers["Retry-After"] == "30"
    assert ready.json["status"] == "unavailable"
    assert ready.json["checks"]["database"] == "not reachable: pages cannot be served"
    assert "127.0.0.1" not in ready.get_data(as_text=True)  # addresses stay in the logs
    assert client.get("/healthz").status_code == 200


def test_a_healthy_installation_is_ready(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    checks = {"database": "ok", "queue": "ok", "rate limits": "ok"}
    assert response.json == {"status": "ready", "checks": checks}
    assert response.headers["Cache-Control"] == "no-store"


def test_every_response_carries_a_request_id_which_only_a_trusted_proxy_may_choose(client, db, app_config):
    first = client.get("/healthz")
    second = client.get("/healthz", headers={"X-Request-ID": "from-a-stranger"})
    assert len(first.headers["X-Request-ID"]) == 16
    assert second.headers["X-Request-ID"] not in ("from-a-stranger", first.headers["X-Request-ID"])

    behind_proxy = create_app({**app_config, "SUPRATA_TRUSTED_PROXIES": 1})
    response = behind_proxy.test_client().get("/healthz", headers={"X-Request-ID": "nginx-4f2a"})
    assert response.headers["X-Request-ID"] == "nginx-4f2a"
    odd = behind_proxy.test_client().get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert odd.headers["X-Request-ID"] != "<script>alert(1)</script>"


def test_metrics_need_the_token_and_show_latency_by_route_and_the_outbox(app, client, db, business,
                                                                       in_business, monkeypatch):
    assert client.get("/metrics").status_code == 404  # no token configured: not served
    monkeypatch.setitem(app.config, "SUPRATA_METRICS_TOKEN", TOKEN)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    with in_business(business):
        message = enqueue("portal_invitation", to="jordan@example.com",
                          context={"customer_name": "Jordan", "invite_url": "http://suprata.test/x"})
        db.session.flush()
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id)
                           .values(created_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
    client.get("/b/acme/pay/not-a-token")

    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 200
    text = response.get_data(as_text=True)
    count = 'suprata_http_request_duration_seconds_count{method="GET",route="/pay/<token>",status="404"}'
    assert count in text
    assert "not-a-token" not in text
    assert 'suprata_outbox_depth{status="pending"} 1.0' in text
    oldest = float(text.split("\nsuprata_outbox_oldest_age_seconds ")[1].split()[0])
    assert 299 < oldest < 400


def test_a_failed_charge_is_counted_once_its_transaction_commits(app, db, business, in_business):
    before = sample("suprata_failed_charges_total", processor="stripe")
    with in_business(business):
        customer = Customer(name="Pat")
        invoice = Invoice(customer=customer, number="INV-1", currency="USD", status="open", total=1000)
        db.session.add(invoice)
        db.session.flush()
        payment = Payment(invoice_id=invoice.id, customer_id=customer.id, processor="stripe",
                          processor_ref="pi_1", amount=1000, currency="USD")
        db.session.add(payment)
        db.session.commit()
        record_payment_failed("stripe", "pi_1", code="card_declined", message="declined")
        db.session.rollback()
        assert sample("suprata_failed_charges_total", processor="stripe") == before
        record_payment_failed("stripe", "pi_1", code="card_declined", message="declined")
        db.session.commit()
    assert sample("suprata_failed_charges_total", processor="stripe") == before + 1


def test_a_plugin_that_raises_is_counted_by_name(app, db, business, in_business, register_plugin):
    class Broken:
        @hookimpl
        def render_site_links(self, customer):
            raise RuntimeError("broken")

    register_plugin(Broken(), "broken_links")
    before = sample("suprata_plugin_errors_total", plugin="broken_links")
    host = app.extensions["suprata"].plugins
    with in_business(business):
        set_enabled("broken_links", True)
        db.session.commit()
        app.extensions["suprata"].businesses.forget(business.id)
        assert host.call("render_site_links", customer=None) == []
    assert sample("suprata_plugin_errors_total", plugin="broken_links") == before + 1


def record(message: str, *args, level=logging.WARNING, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("suprata.test", level, __file__, 1, message, args, exc_info)


def test_a_record_is_one_line_in_either_format_with_its_traceback():
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        failure = record("could not %s", "work", level=logging.ERROR, exc_info=sys.exc_info())
    failure.request_id = "abc123"

    plain = PlainFormatter().format(failure)
    entry = json.loads(JsonFormatter().format(failure))

    assert "\n" not in plain
    assert " ERROR pid=" in plain and "req=abc123 suprata.test: could not work | Traceback" in plain
    assert "ValueError: bad | value" in plain
    assert (entry["level"], entry["request_id"], entry["message"]) == ("ERROR", "abc123", "could not work")
    assert entry["exception"].startswith("Traceback") and entry["time"].endswith("Z")


def test_repeated_warnings_are_written_once_a_minute_with_a_count():
    now = [0.0]
    repeats = RepeatFilter(window=60, clock=lambda: now[0])

    passed = [repeats.filter(record("database unavailable: %s", n)) for n in range(100)]
    assert passed == [True] + [False] * 99
    assert all(repeats.filter(record("GET %s", n, level=logging.INFO)) for n in range(5))
    now[0] = 61
    later = record("database unavailable: %s", "back?")
    assert repeats.filter(later) and later.repeats == 99
    assert "(and 99 more like this in the last 60 s)" in PlainFormatter().format(later)


def test_logging_is_configured_once_per_process():
    program = ("import logging; from core.observability.logs import configure_logging; "
               "print(configure_logging('INFO', 'json'), configure_logging('DEBUG', 'plain')); "
               "logging.getLogger('suprata.x').info('one'); logging.getLogger('suprata.x').debug('hidden')")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,  # noqa: S603
                            timeout=60, check=True)
    assert result.stdout.split() == ["True", "False"]
    [line] = result.stderr.splitlines()
    assert json.loads(line)["message"] == "one"
