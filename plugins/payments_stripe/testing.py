"""Test support for the Stripe plugin and for tests that pay through it, against the local Stripe server.

Import the fixtures into a ``conftest.py``; they build on core's (``app``, ``client``, ``make_business``,
``register_plugin``, ``stripe_server``)::

    from plugins.payments_stripe.testing import hooks, inbox, shop, stripe_api  # noqa: F401

Webhooks: the Stripe test server signs and POSTs every event to a :class:`WebhookInbox` (a local endpoint in
the test process), and tests hand those exact bytes and signatures to the app with :func:`deliver`. So a
test decides when an event arrives, how often and in which order, with the server's real signatures.

Like the plugin, this imports from core only :mod:`core.plugin_api` and :mod:`core.testing`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests
import stripe

from core.plugin_api import CardDetails, Consent, business_context, db, record_card_saved, utcnow
from core.testing.helpers import submit_form
from core.testing.http import ReceivedRequest, RecordingServer
from core.testing.plugins import HookRecorder
from core.testing.records import save_plugin_settings, switch_plugin
from plugins.payments_stripe.processor import NAME

PLUGIN = "payments_stripe"
# Known to the local test server only.
TEST_SECRET_KEY = "sk_test_suprata_tests"  # noqa: S105
WEBHOOK_SECRET = "whsec_suprata_tests"  # noqa: S105
GOOD_CARD = "4242424242424242"


@dataclass(frozen=True)
class SignedWebhook:
    """One webhook POST as the Stripe server made it."""

    body: bytes
    signature: str
    event: stripe.Event


def _signed(request: ReceivedRequest) -> SignedWebhook:
    signature = request.headers.get("Stripe-Signature")
    return SignedWebhook(request.body, signature,
                         stripe.Webhook.construct_event(request.body, signature, WEBHOOK_SECRET))


class WebhookInbox:
    """Receives the Stripe test server's signed webhooks so tests can deliver them to the app at will."""

    def __init__(self):
        self._server = RecordingServer()
        self.url = self._server.url

    @property
    def deliveries(self) -> list[SignedWebhook]:
        return [_signed(request) for request in self._server.requests]

    def stop(self) -> None:
        self._server.stop()

    def wait_for(self, event_type: str, object_id: str, timeout: float = 10) -> SignedWebhook:
        """The first delivery of ``event_type`` about the Stripe object ``object_id``."""

        def about(request: ReceivedRequest) -> bool:
            event = _signed(request).event
            return event.type == event_type and event.data.object.id == object_id

        found = self._server.wait_for(1, timeout, where=about)
        if not found:
            raise AssertionError(f"no {event_type} webhook for {object_id}")
        return _signed(found[0])


def deliver(client, business, webhook: SignedWebhook, *, body: bytes | None = None,
            signature: str | None = None):
    """POST a webhook to the business's endpoint the way Stripe does; ``body``/``signature`` override."""
    return client.post(
        f"/b/{business.slug}/stripe/webhook",
        data=webhook.body if body is None else body,
        headers={"Stripe-Signature": webhook.signature if signature is None else signature,
                 "Content-Type": "application/json; charset=utf-8"},
    )


def connect_stripe(app, business) -> None:
    """Enter test keys and the webhook secret in the business's Stripe settings."""
    save_plugin_settings(app, business, PLUGIN, {"mode": "test", "test_secret_key": TEST_SECRET_KEY,
                                                 "webhook_secret": WEBHOOK_SECRET})


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


def keep_card(app, business, stripe_api, customer_id: int, number: str = GOOD_CARD) -> int:
    """A card the customer saved earlier, with consent, as Stripe and Suprata hold it; returns its row id."""
    stripe_customer = stripe_api.v1.customers.create(params={"email": "pat@example.com"})
    card = stripe_api.v1.payment_methods.create(params={
        "type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}})
    stripe_api.v1.payment_methods.attach(card.id, params={"customer": stripe_customer.id})
    consent = Consent(at=utcnow(), text=f"Save this card for future payments to {business.name}.",
                      ip="203.0.113.9", user_agent="x")
    with app.app_context(), business_context(business.id):
        method = record_card_saved(NAME, customer_id, CardDetails(card.id, "visa", number[-4:], 12, 2034),
                                   consent)
        db.session.commit()
        return method.id


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
    business = make_business("acme", plugins=[PLUGIN], name="Acme Plumbing",
                             timezone="America/New_York", phone="+1 555 0100")
    connect_stripe(app, business)
    return business


@pytest.fixture
def hooks(app, shop, register_plugin):
    """A :class:`core.testing.plugins.HookRecorder` switched on for the shop."""
    recorder = register_plugin(HookRecorder(), "hook_recorder")
    switch_plugin(app, shop, "hook_recorder")
    return recorder
