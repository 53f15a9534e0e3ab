"""The local Stripe test server, driven only through the real stripe SDK and plain HTTP."""


import pytest
import requests
import stripe

from core.testing.payments import WEBHOOK_SECRET, WebhookInbox
from core.testing.stripe_server import StripeTestServer


@pytest.fixture(scope="module")
def stripe_server():
    server = StripeTestServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def webhooks(stripe_server):
    receiver = WebhookInbox()
    webhook_id = stripe_server.register_webhook(receiver.url, WEBHOOK_SECRET)
    yield receiver
    stripe_server.unregister_webhook(webhook_id)
    receiver.stop()


@pytest.fixture
def client(stripe_server):
    stripe_server.reset()
    return stripe.StripeClient("sk_test_local", base_addresses={"api": stripe_server.base_url},
                               max_network_retries=0)


@pytest.fixture
def browser():
    with requests.Session() as session:
        yield session


def card(number):
    return {"card_number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"}


def create_session(client, **extra):
    params = {
        "mode": "payment",
        "line_items": [{"price_data": {"currency": "usd", "unit_amount": 12550,
                                       "product_data": {"name": "Invoice INV-7"}}, "quantity": 1}],
        "customer_email": "pat@example.com",
        "client_reference_id": "inv_7",
        "metadata": {"invoice": "INV-7"},
        "success_url": "https://shop.test/paid?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.test/invoice/7",
        "payment_intent_data": {"metadata": {"invoice": "INV-7", "tenant": "acme"}},
    }
    params.update(extra)
    return client.v1.checkout.sessions.create(params=params)


def card_payment_method(client, number):
    return client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}})


# --- Checkout Sessions ---------------------------------------------------------------------------

def test_checkout_session_create_retrieve_expire(client, stripe_server):
    session = create_session(client)

    assert session.object == "checkout.session"
    assert session.id.startswith("cs_test_")
    assert session.url == stripe_server.hosted_page_url(session.id)
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert (session.amount_total, session.currency) == (12550, "usd")
    assert session.metadata.to_dict() == {"invoice": "INV-7"}
    assert session.client_reference_id == "inv_7"
    assert session.payment_intent is None
    assert session.success_url.endswith("{CHECKOUT_SESSION_ID}")
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"

    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    events = client.v1.events.list(params={"type": "checkout.session.expired"})
    assert [e.data.object.id for e in events.data] == [session.id]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)


def test_checkout_session_rejects_what_stripe_rejects(client):
    with pytest.raises(stripe.InvalidRequestError, match="unknown parameter"):
        create_session(client, shipping_options=[{"shipping_rate": "shr_1"}])
    with pytest.raises(stripe.InvalidRequestError, match="line_items"):
        create_session(client, line_items=[])
    with pytest.raises(stripe.InvalidRequestError):
        create_session(client, customer="cus_missing", customer_email="")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.retrieve("cs_test_missing")


def test_hosted_page_shows_amount_and_a_prefilled_test_card(client, browser):
    session = create_session(client)

    page = browser.get(session.url)

    assert page.status_code == 200
    assert "125.50 USD" in page.text
    assert 'id="pay"' in page.text
    assert 'value="4242424242424242"' in page.text
    assert browser.get(session.url.replace(session.id, "cs_test_missing")).status_code == 404


def test_paying_completes_the_session_and_sends_signed_webhooks(client, browser, webhooks, stripe_server):
    session = create_session(client)

    paid = browser.post(session.url + "/pay", data=card("4242 4242 4242 4242"), allow_redirects=False)

    assert paid.status_code == 303
    assert paid.headers["Location"] == f"https://shop.test/paid?session_id={session.id}"
    session = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
    assert (session.status, session.payment_status, session.url) == ("complete", "paid", None)
    assert session.customer_details.email == "pat@example.com"
    intent = session.payment_intent
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 12550, "usd")
    assert intent.metadata.to_dict() == {"invoice": "INV-7", "tenant": "acme"}

    delivery = webhooks.wait_for("checkout.session.completed", session.id)
    event, body, signature = delivery.event, delivery.body, delivery.signature
    assert event.data.object.payment_status == "paid"
    assert event.data.object.payment_intent == intent.id
    assert event.data.object.client_reference_id == "inv_7"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, signature, "whsec_someone_else")
    webhooks.wait_for("payment_intent.succeeded", intent.id)

    # A second submit of the same page lands on the success URL without paying twice.
    again = browser.post(stripe_server.hosted_page_url(session.id) + "/pay", data=card("4242424242424242"),
                      allow_redirects=False)
    assert again.status_code == 303
    assert len(client.v1.payment_intents.list().data) == 1


def test_a_declined_card_keeps_the_session_open_then_a_retry_pays(client, browser, webhooks):
    session = create_session(client)

    declined = browser.post(session.url + "/pay", data=card("4000000000009995"), allow_redirects=False)

    assert declined.status_code == 402
    assert "Your card has insufficient funds." in declined.text
    assert 'id="pay"' in declined.text
    session = client.v1.checkout.sessions.retrieve(session.id)
    assert (session.status, session.payment_status) == ("open", "unpaid")
    failed = client.v1.payment_intents.retrieve(session.payment_intent)
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error.decline_code == "insufficient_funds"

    paid = browser.post(session.url + "/pay", data=card("4242424242424242"), allow_redirects=False)

    assert paid.status_code == 303
    session = client.v1.checkout.sessions.retrieve(session.id)
    assert (session.status, session.payment_intent) == ("complete", failed.id)
    event = webhooks.wait_for("payment_intent.payment_failed", failed.id).event
    assert event.data.object.last_payment_error.decline_code == "insufficient_funds"


def test_an_expired_session_cannot_be_paid(client, browser):
    session = create_session(client)
    client.v1.checkout.sessions.expire(session.id)

    response = browser.post(session.url + "/pay", data=card("4242424242424242"), allow_redirects=False)

    assert response.status_code == 410
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "unpaid"


def test_on_session_3d_secure_is_completed_on_the_hosted_page(client, browser):
    session = create_session(client)

    challenge = browser.post(session.url + "/pay", data=card("4000002500003155"), allow_redirects=False)
    assert challenge.status_code == 200
    assert 'id="authenticate"' in challenge.text
    done = browser.post(session.url + "/authenticate", data={"result": "succeed"}, allow_redirects=False)

    assert done.status_code == 303
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"


def test_failed_3d_secure_shows_the_page_again_and_another_card_pays(client, browser):
    session = create_session(client)
    browser.post(session.url + "/pay", data=card("4000002500003155"), allow_redirects=False)

    failed = browser.post(session.url + "/authenticate", data={"result": "fail"}, allow_redirects=False)

    assert failed.status_code == 402
    assert "unable to authenticate" in failed.text
    session = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
    assert session.payment_intent.status == "requires_payment_method"
    paid = browser.post(session.url + "/pay", data=card("4242424242424242"), allow_redirects=False)
    assert paid.status_code == 303


def test_setup_future_usage_on_checkout_saves_the_card_for_off_session_charges(client, browser):
    session = create_session(client, payment_intent_data={"setup_future_usage": "off_session"})

    browser.post(session.url + "/pay", data=card("4242424242424242"), allow_redirects=False)

    session = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
    assert session.customer.startswith("cus_")
    saved = client.v1.payment_methods.list(params={"customer": session.customer, "type": "card"}).data
    assert [pm.id for pm in saved] == [session.payment_intent.payment_method]
    later = client.v1.payment_intents.create(params={
        "amount": 4000, "currency": "usd", "customer": session.customer, "payment_method": saved[0].id,
        "confirm": True, "off_session": True})
    assert later.status == "succeeded"


# --- PaymentIntents ------------------------------------------------------------------------------

@pytest.mark.parametrize(("number", "code", "decline_code"), [
    ("4000000000009995", "card_declined", "insufficient_funds"),
    ("4000000000000069", "expired_card", "expired_card"),
    ("4000000000000002", "card_declined", "generic_decline"),
    ("4000000000000341", "card_declined", "generic_decline"),
])
def test_declining_cards_raise_card_errors_with_decline_codes(client, number, code, decline_code):
    pm = card_payment_method(client, number)

    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.create(params={
            "amount": 2500, "currency": "usd", "payment_method": pm.id, "confirm": True})

    error = raised.value
    assert (error.code, error.error.type, error.error.decline_code) == (code, "card_error", decline_code)
    assert error.http_status == 402
    assert error.error.payment_intent.status == "requires_payment_method"
    intent = client.v1.payment_intents.retrieve(error.error.payment_intent.id)
    assert intent.status == "requires_payment_method"
    assert (intent.last_payment_error.code, intent.last_payment_error.decline_code) == (code, decline_code)


def test_confirming_with_a_declining_card_raises_then_a_good_card_succeeds(client):
    pm = card_payment_method(client, "4000000000009995")
    intent = client.v1.payment_intents.create(params={"amount": 900, "currency": "eur",
                                                      "payment_method": pm.id})

    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.confirm(intent.id)
    assert raised.value.error.decline_code == "insufficient_funds"

    retried = client.v1.payment_intents.confirm(
        intent.id, params={"payment_method": card_payment_method(client, "4242424242424242").id})
    assert retried.status == "succeeded"


def test_off_session_charge_needing_authentication_raises_authentication_required(client):
    customer = client.v1.customers.create(params={"email": "pat@example.com"})
    pm = card_payment_method(client, "4000002500003155")
    client.v1.payment_methods.attach(pm.id, params={"customer": customer.id})

    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.create(params={
            "amount": 3000, "currency": "usd", "customer": customer.id, "payment_method": pm.id,
            "confirm": True, "off_session": True})

    error = raised.value
    assert (error.code, error.error.decline_code) == ("authentication_required", "authentication_required")
    intent = client.v1.payment_intents.retrieve(error.error.payment_intent.id)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.code == "authentication_required"


def test_payment_intent_accepts_stripe_parameters_and_saves_the_card(client):
    customer = client.v1.customers.create()
    pm = card_payment_method(client, "4242424242424242")

    intent = client.v1.payment_intents.create(params={
        "amount": 1500, "currency": "usd", "customer": customer.id, "payment_method": pm.id, "confirm": True,
        "description": "Invoice INV-9", "receipt_email": "pat@example.com",
        "setup_future_usage": "off_session", "automatic_payment_methods": {"enabled": True}})

    assert intent.status == "succeeded"
    assert (intent.description, intent.receipt_email) == ("Invoice INV-9", "pat@example.com")
    assert intent.setup_future_usage == "off_session"
    assert client.v1.payment_methods.retrieve(pm.id).customer == customer.id


def test_a_payment_without_setup_future_usage_does_not_save_the_card(client):
    customer = client.v1.customers.create()
    pm = card_payment_method(client, "4242424242424242")

    client.v1.payment_intents.create(params={
        "amount": 1500, "currency": "usd", "customer": customer.id, "payment_method": pm.id, "confirm": True})

    assert client.v1.payment_methods.retrieve(pm.id).customer is None


def test_refunds_send_charge_refunded(client, webhooks):
    intent = client.v1.payment_intents.create(params={
        "amount": 1500, "currency": "usd", "confirm": True,
        "payment_method": card_payment_method(client, "4242424242424242").id})

    client.v1.refunds.create(params={"payment_intent": intent.id})

    charge_id = client.v1.payment_intents.retrieve(intent.id).latest_charge.id
    event = webhooks.wait_for("charge.refunded", charge_id).event
    assert event.data.object.refunded is True


# --- Idempotency -----------------------------------------------------------------------------------

def test_an_idempotency_key_replays_the_first_response(client):
    params, options = {"email": "pat@example.com"}, {"idempotency_key": "k-1"}
    first = client.v1.customers.create(params=params, options=options)
    again = client.v1.customers.create(params=params, options=options)

    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(client.v1.customers.list().data) == 1


def test_an_idempotency_key_replays_a_decline_without_charging_again(client):
    params = {"amount": 2500, "currency": "usd", "confirm": True,
              "payment_method": card_payment_method(client, "4000000000000002").id}
    errors = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as raised:
            client.v1.payment_intents.create(params=params, options={"idempotency_key": "charge-inv-7"})
        errors.append(raised.value)

    assert errors[0].error.payment_intent.id == errors[1].error.payment_intent.id
    assert len(client.v1.payment_intents.list().data) == 1


def test_an_idempotency_key_with_other_parameters_is_rejected(client):
    client.v1.customers.create(params={"email": "a@example.com"}, options={"idempotency_key": "k-2"})

    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(params={"email": "b@example.com"}, options={"idempotency_key": "k-2"})


def test_reset_forgets_idempotency_keys(client, stripe_server):
    first = client.v1.customers.create(options={"idempotency_key": "k-3"})
    stripe_server.reset()

    assert client.v1.customers.create(options={"idempotency_key": "k-3"}).id != first.id


# --- Lifecycle ---------------------------------------------------------------------------------------

def test_a_server_can_be_stopped_and_started_again(stripe_server):
    other = StripeTestServer()
    for _ in range(2):
        with other:
            client = stripe.StripeClient("sk_test_local", base_addresses={"api": other.base_url},
                                         max_network_retries=0)
            assert client.v1.customers.create().id.startswith("cus_")
    assert other.port is None


# --- Saved cards: setup and detach events ----------------------------------------------------------

def test_a_confirmed_setup_intent_keeps_the_card_on_its_customer_and_says_so(client, webhooks):
    customer = client.v1.customers.create()
    setup = client.v1.setup_intents.create(params={"customer": customer.id})
    pm = card_payment_method(client, "4242424242424242")

    confirmed = client.v1.setup_intents.confirm(setup.id, params={"payment_method": pm.id})

    assert confirmed.status == "succeeded"
    assert client.v1.payment_methods.retrieve(pm.id).customer == customer.id
    event = webhooks.wait_for("setup_intent.succeeded", setup.id).event
    assert event.data.object.payment_method == pm.id


def test_detaching_a_card_sends_payment_method_detached(client, webhooks):
    customer = client.v1.customers.create()
    pm = card_payment_method(client, "4242424242424242")
    client.v1.payment_methods.attach(pm.id, params={"customer": customer.id})

    client.v1.payment_methods.detach(pm.id)

    event = webhooks.wait_for("payment_method.detached", pm.id).event
    assert event.data.object.customer is None
