"""Fixtures and helpers for tests that take payments: the Stripe plugin against the local Stripe server.

Import the fixtures into a ``conftest.py``; they build on core's (``app``, ``client``, ``make_business``,
``stripe_server``)::

    from core.testing.payments import hooks, inbox, shop, stripe_api  # noqa: F401

Webhooks: the Stripe test server signs and POSTs every event to :class:`WebhookInbox` (a small HTTP endpoint
in the test process), and tests hand those exact bytes and signatures to the app with :func:`deliver`. So a
test decides when an event arrives, how often and in which order, with the server's real signatures.
"""

from __future__ import annotations

import http.server
import threading
import time
from dataclasses import dataclass
from decimal import Decimal

import pytest
import requests
import stripe

from core.extensions import db
from core.models import Customer, CustomerEmail, Invoice, InvoiceLine
from core.money.invoicing import next_invoice_number, send_invoice
from core.money.payments.saved_methods import save_payment_method
from core.money.payments.types import Consent
from core.money.payments.wording import save_card_wording
from core.plugin_api import hookimpl
from core.plugins.settings import save_settings, set_enabled
from core.tenancy import business_context, utcnow
from core.testing.helpers import submit_form

# Known to the local test server only.
TEST_SECRET_KEY = "sk_test_suprata_tests"  # noqa: S105
WEBHOOK_SECRET = "whsec_suprata_tests"  # noqa: S105
GOOD_CARD = "4242424242424242"
DEFAULT_LINES = (("Water heater flush", "1", 12500, 825), ("Anode rod", "2", 3400, 825))


@dataclass(frozen=True)
class Delivery:
    """One webhook POST as the Stripe server made it."""

    body: bytes
    signature: str
    event: stripe.Event


class WebhookInbox:
    """Receives the Stripe test server's signed webhooks so tests can deliver them to the app at will."""

    def __init__(self):
        self.deliveries: list[Delivery] = []
        self._changed = threading.Condition()
        inbox = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's handler protocol
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signature = self.headers.get("Stripe-Signature")
                event = stripe.Webhook.construct_event(body, signature, WEBHOOK_SECRET)
                with inbox._changed:
                    inbox.deliveries.append(Delivery(body, signature, event))
                    inbox._changed.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def wait_for(self, event_type: str, object_id: str, timeout: float = 10) -> Delivery:
        """The first delivery of ``event_type`` about the Stripe object ``object_id``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for delivery in self.deliveries:
                    if delivery.event.type == event_type and delivery.event.data.object.id == object_id:
                        return delivery
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {event_type} webhook for {object_id}")
                self._changed.wait(remaining)


def deliver(client, business, delivery: Delivery, *, body: bytes | None = None, signature: str | None = None):
    """POST a webhook to the business's endpoint the way Stripe does; ``body``/``signature`` override."""
    return client.post(
        f"/b/{business.slug}/stripe/webhook",
        data=delivery.body if body is None else body,
        headers={"Stripe-Signature": delivery.signature if signature is None else signature,
                 "Content-Type": "application/json; charset=utf-8"},
    )


def connect_stripe(app, business) -> None:
    """Enter test keys and the webhook secret in the business's Stripe settings."""
    with app.app_context(), business_context(business.id):
        errors = save_settings("payments_stripe", {"mode": "test", "test_secret_key": TEST_SECRET_KEY,
                                                   "webhook_secret": WEBHOOK_SECRET})
        assert not errors, errors
        db.session.commit()
    app.extensions["suprata"].businesses.forget(business.id)


def issue_invoice(app, business, *, email: str = "pat@example.com", customer_id: int | None = None,
                  lines=DEFAULT_LINES, currency: str = "USD") -> tuple[int, str]:
    """A sent invoice for a new customer with ``email`` (or ``customer_id``); returns (id, pay token)."""
    with app.app_context(), business_context(business.id):
        if customer_id is None:
            customer = Customer(name="Pat Jones", emails=[CustomerEmail(email=email, is_primary=True)])
        else:
            customer = db.session.get(Customer, customer_id)
        invoice = Invoice(customer=customer, number=next_invoice_number("INV-"), currency=currency)
        for position, (description, quantity, unit_price, tax_rate_bp) in enumerate(lines):
            invoice.lines.append(InvoiceLine(position=position, description=description,
                                             quantity=Decimal(quantity), unit_price=unit_price,
                                             tax_rate_bp=tax_rate_bp))
        db.session.add(invoice)
        db.session.flush()
        token = send_invoice(invoice)
        db.session.commit()
        return invoice.id, token


def keep_card(app, business, stripe_api, customer_id: int, number: str = GOOD_CARD) -> int:
    """A card the customer saved earlier, with consent, as Stripe and Suprata hold it; returns its row id."""
    stripe_customer = stripe_api.v1.customers.create(params={"email": "pat@example.com"})
    card = stripe_api.v1.payment_methods.create(params={
        "type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}})
    stripe_api.v1.payment_methods.attach(card.id, params={"customer": stripe_customer.id})
    consent = Consent(at=utcnow(), text=save_card_wording(business.name), ip="203.0.113.9", user_agent="x")
    with app.app_context(), business_context(business.id):
        method = save_payment_method(db.session.get(Customer, customer_id), "stripe", card.id, "visa",
                                     number[-4:], 12, 2034, consent)
        db.session.commit()
        return method.id


def pay_now(client, business, token: str, fields: dict | None = None, **kwargs):
    """Click Pay Now on the pay-link page, with extra form ``fields``; returns the POST's response (a 303 to
    Stripe's hosted page when all went well)."""
    page = f"/b/{business.slug}/pay/{token}"
    return submit_form(client, page, fields or {}, post_url=f"{page}/checkout", **kwargs)


def local_path(url: str) -> str:
    """The path of one of our public links, for the test client."""
    return url.removeprefix("http://suprata.test")


def pay_on_hosted_page(hosted_url: str, card: str = GOOD_CARD) -> requests.Response:
    """What the customer does on Stripe's page: submit a card. Not redirected, so tests see where it leads."""
    card_fields = {"card_number": card, "exp_month": "12", "exp_year": "2034", "cvc": "123"}
    return requests.post(f"{hosted_url}/pay", data=card_fields, allow_redirects=False, timeout=10)


@pytest.fixture(scope="session")
def inbox(stripe_server):
    """The webhook inbox, registered with the session's Stripe test server."""
    receiver = WebhookInbox()
    stripe_server.register_webhook(receiver.url, WEBHOOK_SECRET)
    yield receiver
    receiver.stop()


@pytest.fixture
def stripe_api(app, stripe_server, monkeypatch):
    """A Stripe client on the (emptied) test server, which the app is pointed at too."""
    stripe_server.reset()
    monkeypatch.setitem(app.config, "SUPRATA_STRIPE_API_BASE", stripe_server.base_url)
    return stripe.StripeClient(TEST_SECRET_KEY, base_addresses={"api": stripe_server.base_url},
                               max_network_retries=0)


@pytest.fixture
def shop(app, make_business, stripe_api):
    """Business "acme" with this plugin on and Stripe connected in test mode."""
    business = make_business("acme", plugins=["payments_stripe"], name="Acme Plumbing",
                             timezone="America/New_York", phone="+1 555 0100")
    connect_stripe(app, business)
    return business


class HookRecorder:
    """A plugin that remembers the payment and invoice hooks it receives (register and enable it)."""

    def __init__(self):
        self.calls: list[tuple] = []

    @hookimpl
    def on_payment_captured(self, payment, invoice):
        self.calls.append(("on_payment_captured", payment.id, invoice.id))

    @hookimpl
    def on_payment_failed(self, payment, invoice, reason):
        self.calls.append(("on_payment_failed", payment.id, reason))

    @hookimpl
    def on_invoice_viewed(self, invoice, when):
        self.calls.append(("on_invoice_viewed", invoice.id))

    def named(self, hook_name: str) -> list[tuple]:
        return [call for call in self.calls if call[0] == hook_name]


def enable_plugin(app, business, name: str) -> None:
    with app.app_context(), business_context(business.id):
        set_enabled(name, True)
        db.session.commit()
    app.extensions["suprata"].businesses.forget(business.id)


@pytest.fixture
def hooks(app, shop, register_plugin):
    """A :class:`HookRecorder` switched on for the shop."""
    recorder = register_plugin(HookRecorder(), "hook_recorder")
    enable_plugin(app, shop, "hook_recorder")
    return recorder
