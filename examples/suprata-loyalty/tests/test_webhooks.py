"""Points earned are posted to the business's webhook in the background: signed, once committed, retried
while the endpoint fails, and shown to staff when it keeps failing. The endpoint is a real HTTP server the
test starts (``http_server``)."""

import hashlib
import hmac
from datetime import timedelta

import pytest

from core.testing.background import run_background_work
from core.testing.helpers import sign_in_staff
from core.testing.records import create_customer, save_plugin_settings

SECRET = "loyalty-test-secret"  # noqa: S105 - a test value


@pytest.fixture
def ann(app, acme):
    return create_customer(app, acme, "Ann Lee", email="ann@example.test")


@pytest.fixture
def hooked(app, acme, http_server):
    """Acme, with its webhook pointed at the test's HTTP server."""
    save_plugin_settings(app, acme, "loyalty", {"points_per_unit": 1, "webhook_secret": SECRET,
                                                 "webhook_url": http_server.url + "points"})
    return acme


def test_points_earned_are_posted_signed_in_the_background(app, client, hooked, ann, paid, http_server):
    payment_id = paid(hooked, ann.id, 12_345)
    assert http_server.requests == []  # the payment did not wait for the webhook

    assert run_background_work(app).tasks == 1

    [request] = http_server.wait_for(1)
    assert (request.method, request.path) == ("POST", "/points")
    assert request.json() == {
        "event": "loyalty.points_earned", "business": "acme",
        "customer": {"id": ann.id, "name": "Ann Lee", "email": "ann@example.test"},
        "invoice": "INV-0001", "payment_id": payment_id, "points": 123,
    }
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Loyalty-Signature"] == f"sha256={expected}"
    sign_in_staff(app, client, hooked)
    assert "<td>Sent " in client.get("/b/acme/console/loyalty/").get_data(as_text=True)


def test_without_a_webhook_nothing_is_queued(app, acme, ann, paid, http_server):
    paid(acme, ann.id, 5_000)
    assert run_background_work(app).tasks == 0
    assert http_server.requests == []


def test_a_failing_endpoint_gets_the_same_news_again_later(app, hooked, ann, paid, http_server):
    http_server.fail_next(503)
    paid(hooked, ann.id, 2_000)

    run_background_work(app)
    assert run_background_work(app).tasks == 0  # waiting out its backoff
    assert run_background_work(app, later=timedelta(minutes=5)).tasks == 1

    first, second = http_server.wait_for(2)
    assert first.body == second.body
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert run_background_work(app, later=timedelta(hours=1)).tasks == 0  # accepted: done


def test_an_endpoint_that_keeps_failing_is_shown_to_staff(app, client, hooked, ann, paid, http_server):
    http_server.answer(500)
    paid(hooked, ann.id, 2_000)

    for _ in range(6):
        run_background_work(app, later=timedelta(hours=2))

    assert len(http_server.requests) == 6
    assert run_background_work(app, later=timedelta(days=1)).tasks == 0  # given up
    sign_in_staff(app, client, hooked)
    page = client.get("/b/acme/console/plugins").get_data(as_text=True)
    assert "<code>post_points</code>" in page
    assert "HTTP Error 500" in page
    assert "Not sent" in client.get("/b/acme/console/loyalty/").get_data(as_text=True)


def test_staff_are_told_when_the_webhook_address_is_not_one(app, client, acme):
    sign_in_staff(app, client, acme, "admin")
    page = client.get("/b/acme/console/plugins").get_data(as_text=True)
    assert 'name="loyalty-setting_webhook_url"' in page
    with pytest.raises(AssertionError, match="Enter an address starting with https://"):
        save_plugin_settings(app, acme, "loyalty", {"points_per_unit": 1, "webhook_url": "file:///etc/passwd"})
