"""The whole way, over real HTTP: the Stripe test server POSTs its webhooks to the running app itself.

The app is served from a thread of the test process (werkzeug's server) rather than pytest-flask's
``live_server``, which forks the session's process while its SMTP and Stripe server threads are running.
"""

import threading
import time

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from core.extensions import db
from core.models import Invoice
from core.testing.helpers import csrf_token_from
from core.testing.records import issue_invoice
from plugins.payments_stripe.models import StripeEvent
from plugins.payments_stripe.testing import WEBHOOK_SECRET, pay_on_hosted_page


@pytest.fixture
def live_url(app, shop, stripe_server):
    """The app on a real port, with the Stripe test server delivering the shop's webhooks to it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.port}"
    webhook_id = stripe_server.register_webhook(f"{url}/b/acme/stripe/webhook", WEBHOOK_SECRET)
    yield url
    stripe_server.unregister_webhook(webhook_id)
    server.shutdown()
    thread.join()


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_customer_pays_and_stripes_webhooks_mark_the_invoice_paid(app, shop, live_url, in_business):
    invoice_id, token = issue_invoice(app, shop)
    browser = requests.Session()
    page = browser.get(f"{live_url}/b/acme/pay/{token}", timeout=10)
    assert page.headers["Cache-Control"] == "no-store"

    checkout = browser.post(f"{live_url}/b/acme/pay/{token}/checkout", allow_redirects=False, timeout=10,
                            data={"csrf_token": csrf_token_from(page.text)})
    paid = pay_on_hosted_page(checkout.headers["Location"])

    assert paid.status_code == 303  # back to our return page, which the customer has not opened yet

    def recorded_events():
        with in_business(shop):
            return set(db.session.scalars(select(StripeEvent.type)))

    wait_until(lambda: recorded_events() == {"checkout.session.completed", "payment_intent.succeeded"})
    with in_business(shop):
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.status, invoice.amount_paid) == ("paid", invoice.total)
