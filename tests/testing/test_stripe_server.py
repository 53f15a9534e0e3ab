"""The local Stripe test server, driven only through the real stripe SDK and plain HTTP."""


import time

import pytest
import requests
import stripe

from core.testing.stripe_server import StripeTestServer
from plugins.payments_stripe.testing import WEBHOOK_SECRET, WebhookInbox


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


# --- Checkout Sessions in setup mode: save a card, pay nothing -------------------------------------

def create_setup_session(client, customer=None, **extra):
    params = {
        "mode": "setup",
        "currency": "usd",
        "success_url": "https://shop.test/card-saved?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.test/portal/cards",
        "metadata": {"purpose": "replace-card"},
        "setup_intent_data": {"metadata": {"tenant": "acme", "customer": "7"}},
        "payment_method_types": ["card"],
    }
    if customer is not None:
        params["customer"] = customer
    params.update(extra)
    return client.v1.checkout.sessions.create(params=params)


def test_a_setup_session_takes_no_money(client, browser, stripe_server):
    customer = client.v1.customers.create(params={"email": "pat@example.com"})

    session = create_setup_session(client, customer.id)

    assert (session.mode, session.status, session.payment_status) == ("setup", "open", "no_payment_required")
    assert (session.amount_total, session.currency, session.customer) == (None, "usd", customer.id)
    assert (session.setup_intent, session.payment_intent) == (None, None)
    assert session.url == stripe_server.hosted_page_url(session.id)
    page = browser.get(session.url)
    assert page.status_code == 200
    assert "Save card" in page.text and "Pay " not in page.text


def test_saving_a_card_on_the_setup_page_keeps_it_on_the_customer_and_says_so(client, browser, webhooks):
    customer = client.v1.customers.create(params={"email": "pat@example.com"})
    session = create_setup_session(client, customer.id)

    saved = browser.post(session.url + "/pay", data=card("4242424242424242"), allow_redirects=False)

    assert saved.status_code == 303
    assert saved.headers["Location"] == f"https://shop.test/card-saved?session_id={session.id}"
    session = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["setup_intent", "setup_intent.payment_method"]})
    assert (session.status, session.payment_status, session.url) == ("complete", "no_payment_required", None)
    setup = session.setup_intent
    assert setup.id.startswith("seti_") and setup.status == "succeeded"
    assert setup.metadata.to_dict() == {"tenant": "acme", "customer": "7"}
    assert (setup.customer, setup.usage) == (customer.id, "off_session")
    method = setup.payment_method
    assert (method.customer, method.card.last4, method.card.brand) == (customer.id, "4242", "visa")
    assert (method.card.exp_month, method.card.exp_year) == (12, 2034)
    listed = client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"}).data
    assert [pm.id for pm in listed] == [method.id]
    assert client.v1.payment_intents.list().data == []

    completed = webhooks.wait_for("checkout.session.completed", session.id).event.data.object
    assert (completed.mode, completed.setup_intent, completed.metadata.purpose) == (
        "setup", setup.id, "replace-card")
    succeeded = webhooks.wait_for("setup_intent.succeeded", setup.id).event.data.object
    assert (succeeded.payment_method, succeeded.metadata.tenant) == (method.id, "acme")

    # The saved card pays later without the customer.
    later = client.v1.payment_intents.create(params={
        "amount": 4000, "currency": "usd", "customer": customer.id, "payment_method": method.id,
        "confirm": True, "off_session": True})
    assert later.status == "succeeded"


def test_a_declined_card_on_the_setup_page_shows_the_decline_then_another_card_is_saved(
        client, browser, webhooks):
    customer = client.v1.customers.create()
    session = create_setup_session(client, customer.id)

    declined = browser.post(session.url + "/pay", data=card("4000000000009995"), allow_redirects=False)

    assert declined.status_code == 402
    assert "Your card has insufficient funds." in declined.text and 'id="pay"' in declined.text
    session = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["setup_intent"]})
    assert session.status == "open"
    failed = session.setup_intent
    assert (failed.status, failed.payment_method) == ("requires_payment_method", None)
    assert (failed.last_setup_error.code, failed.last_setup_error.decline_code) == (
        "card_declined", "insufficient_funds")
    webhooks.wait_for("setup_intent.setup_failed", failed.id)
    assert client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"}).data == []

    saved = browser.post(session.url + "/pay", data=card("4242424242424242"), allow_redirects=False)

    assert saved.status_code == 303
    session = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["setup_intent"]})
    assert (session.status, session.setup_intent.id, session.setup_intent.status) == (
        "complete", failed.id, "succeeded")
    assert session.setup_intent.last_setup_error is None


def test_a_card_set_up_with_3d_secure_pays_off_session_later(client, browser):
    customer = client.v1.customers.create()
    session = create_setup_session(client, customer.id)

    challenge = browser.post(session.url + "/pay", data=card("4000002500003155"), allow_redirects=False)
    assert 'id="authenticate"' in challenge.text
    done = browser.post(session.url + "/authenticate", data={"result": "succeed"}, allow_redirects=False)

    assert done.status_code == 303
    session = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["setup_intent"]})
    assert (session.status, session.setup_intent.status) == ("complete", "succeeded")
    # Stripe: this card needs no further authentication once set up for off-session payments.
    later = client.v1.payment_intents.create(params={
        "amount": 4000, "currency": "usd", "customer": customer.id,
        "payment_method": session.setup_intent.payment_method, "confirm": True, "off_session": True})
    assert later.status == "succeeded"


def test_a_card_that_always_asks_for_authentication_fails_off_session_even_once_set_up(client, browser):
    customer = client.v1.customers.create()
    session = create_setup_session(client, customer.id)
    browser.post(session.url + "/pay", data=card("4000002760003184"), allow_redirects=False)
    browser.post(session.url + "/authenticate", data={"result": "succeed"}, allow_redirects=False)
    method = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["setup_intent"]}).setup_intent.payment_method

    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.create(params={
            "amount": 4000, "currency": "usd", "customer": customer.id, "payment_method": method,
            "confirm": True, "off_session": True})

    assert raised.value.code == "authentication_required"


def test_failed_3d_secure_on_the_setup_page_saves_nothing(client, browser, webhooks):
    customer = client.v1.customers.create()
    session = create_setup_session(client, customer.id)
    browser.post(session.url + "/pay", data=card("4000002500003155"), allow_redirects=False)

    failed = browser.post(session.url + "/authenticate", data={"result": "fail"}, allow_redirects=False)

    assert failed.status_code == 402 and "unable to authenticate" in failed.text
    session = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["setup_intent"]})
    assert session.status == "open"
    assert session.setup_intent.status == "requires_payment_method"
    assert session.setup_intent.last_setup_error.code == "setup_intent_authentication_failure"
    webhooks.wait_for("setup_intent.setup_failed", session.setup_intent.id)
    assert client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"}).data == []


def test_a_setup_session_without_a_customer_keeps_the_card_unattached_unless_asked(client, browser):
    plain = create_setup_session(client, customer_email="pat@example.com")
    browser.post(plain.url + "/pay", data=card("4242424242424242"), allow_redirects=False)
    plain = client.v1.checkout.sessions.retrieve(plain.id, params={"expand": ["setup_intent.payment_method"]})
    assert plain.customer is None and plain.setup_intent.payment_method.customer is None

    always = create_setup_session(client, customer_creation="always")
    browser.post(always.url + "/pay", data={**card("4242424242424242"), "email": "sam@example.com"},
                 allow_redirects=False)
    always = client.v1.checkout.sessions.retrieve(always.id,
                                                  params={"expand": ["setup_intent.payment_method"]})
    assert always.customer.startswith("cus_")
    assert always.setup_intent.payment_method.customer == always.customer
    assert always.customer_details.email == "sam@example.com"


def test_setup_and_payment_parameters_do_not_mix(client):
    line_items = [{"price_data": {"currency": "usd", "unit_amount": 100, "product_data": {"name": "x"}},
                   "quantity": 1}]
    with pytest.raises(stripe.InvalidRequestError, match="line_items"):
        create_setup_session(client, line_items=line_items)
    with pytest.raises(stripe.InvalidRequestError, match="payment_intent_data"):
        create_setup_session(client, payment_intent_data={"setup_future_usage": "off_session"})
    with pytest.raises(stripe.InvalidRequestError, match="setup_intent_data"):
        create_session(client, setup_intent_data={"metadata": {"a": "b"}})
    with pytest.raises(stripe.InvalidRequestError, match="mode"):
        create_setup_session(client, mode="subscription")


# --- Expired Checkout Sessions ---------------------------------------------------------------------

def test_an_expired_session_refuses_payment_and_creates_no_payment_intent(client, browser, webhooks):
    session = create_session(client)
    page_url = session.url  # a session's url is null once it expires; its page stays where it was

    expired = client.v1.checkout.sessions.expire(session.id)

    assert (expired.status, expired.url) == ("expired", None)
    webhooks.wait_for("checkout.session.expired", session.id)
    page = browser.get(page_url)
    assert page.status_code == 410 and "expired" in page.text and 'id="pay"' not in page.text
    refused = browser.post(page_url + "/pay", data=card("4242424242424242"), allow_redirects=False)
    assert refused.status_code == 410
    assert client.v1.payment_intents.list().data == []
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "unpaid"


def test_expiring_after_a_decline_cancels_the_attempt_and_a_retry_is_refused(client, browser, webhooks):
    session = create_session(client)
    browser.post(session.url + "/pay", data=card("4000000000000002"), allow_redirects=False)
    attempt = client.v1.checkout.sessions.retrieve(session.id).payment_intent

    client.v1.checkout.sessions.expire(session.id)

    assert client.v1.payment_intents.retrieve(attempt).status == "canceled"
    webhooks.wait_for("payment_intent.canceled", attempt)
    refused = browser.post(session.url + "/pay", data=card("4242424242424242"), allow_redirects=False)
    assert refused.status_code == 410
    intents = client.v1.payment_intents.list().data
    assert [(pi.id, pi.status) for pi in intents] == [(attempt, "canceled")]


def test_a_3d_secure_challenge_cannot_be_completed_after_expiry(client, browser):
    session = create_session(client)
    browser.post(session.url + "/pay", data=card("4000002500003155"), allow_redirects=False)

    client.v1.checkout.sessions.expire(session.id)
    late = browser.post(session.url + "/authenticate", data={"result": "succeed"}, allow_redirects=False)

    assert late.status_code == 410
    attempt = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    assert client.v1.payment_intents.retrieve(attempt).status == "canceled"


def test_an_expired_setup_session_saves_no_card(client, browser):
    customer = client.v1.customers.create()
    session = create_setup_session(client, customer.id)

    client.v1.checkout.sessions.expire(session.id)
    refused = browser.post(session.url + "/pay", data=card("4242424242424242"), allow_redirects=False)

    assert refused.status_code == 410
    assert client.v1.setup_intents.list().data == []
    assert client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"}).data == []


def test_expire_works_through_every_form_of_the_sdk(client, stripe_server, monkeypatch):
    first, second = create_session(client), create_session(client)

    with pytest.deprecated_call():  # StripeClient.checkout is the pre-v1 spelling of client.v1.checkout
        sessions = client.checkout.sessions
    assert sessions.expire(first.id).status == "expired"

    monkeypatch.setattr(stripe, "api_base", stripe_server.base_url)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    assert stripe.checkout.Session.expire(second.id, api_key="sk_test_local").status == "expired"
    with pytest.raises(stripe.InvalidRequestError, match="status of `open`"):
        stripe.checkout.Session.expire(second.id, api_key="sk_test_local")


# --- Saved cards that decline at charge time (autopay) -----------------------------------------------

def saved_card(client, number="4242424242424242", **card_fields):
    customer = client.v1.customers.create(params={"email": "pat@example.com"})
    details = {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"} | card_fields
    pm = client.v1.payment_methods.create(params={"type": "card", "card": details})
    client.v1.payment_methods.attach(pm.id, params={"customer": customer.id})
    return customer.id, pm.id


def charge_off_session(client, customer_id, pm_id, amount=4000):
    return client.v1.payment_intents.create(params={
        "amount": amount, "currency": "usd", "customer": customer_id, "payment_method": pm_id,
        "confirm": True, "off_session": True})


DECLINES = [
    ("4000000000000002", "card_declined", "generic_decline", "Your card was declined."),
    ("4000000000009995", "card_declined", "insufficient_funds", "Your card has insufficient funds."),
    ("4000000000000069", "expired_card", "expired_card", "Your card has expired."),
    ("4000000000009987", "card_declined", "lost_card", "Your card was declined."),
    ("4000000000009979", "card_declined", "stolen_card", "Your card was declined."),
]


@pytest.mark.parametrize(("number", "code", "decline_code", "message"), DECLINES)
def test_stripe_will_not_save_a_card_that_declines(client, number, code, decline_code, message):
    customer = client.v1.customers.create()
    pm = card_payment_method(client, number)

    with pytest.raises(stripe.CardError) as attaching:
        client.v1.payment_methods.attach(pm.id, params={"customer": customer.id})
    setup = client.v1.setup_intents.create(params={"customer": customer.id})
    with pytest.raises(stripe.CardError) as setting_up:
        client.v1.setup_intents.confirm(setup.id, params={"payment_method": pm.id})

    for error in (attaching.value, setting_up.value):
        assert (error.code, error.error.decline_code, error.error.message) == (code, decline_code, message)
        assert error.http_status == 402
    assert setting_up.value.error.setup_intent.status == "requires_payment_method"
    assert client.v1.payment_methods.retrieve(pm.id).customer is None


@pytest.mark.parametrize(("number", "code", "decline_code", "message"), DECLINES)
def test_a_saved_card_that_starts_declining_fails_off_session_as_stripe_says(
        client, stripe_server, webhooks, number, code, decline_code, message):
    customer_id, pm_id = saved_card(client)
    assert charge_off_session(client, customer_id, pm_id).status == "succeeded"

    stripe_server.change_card(pm_id, behaves_as=number)
    with pytest.raises(stripe.CardError) as raised:
        charge_off_session(client, customer_id, pm_id)

    error = raised.value
    assert (error.http_status, error.error.type) == (402, "card_error")
    assert (error.code, error.error.decline_code, error.error.message) == (code, decline_code, message)
    intent = client.v1.payment_intents.retrieve(error.error.payment_intent.id)
    assert (intent.status, intent.payment_method) == ("requires_payment_method", pm_id)
    assert (intent.last_payment_error.code, intent.last_payment_error.decline_code) == (code, decline_code)
    assert intent.last_payment_error.payment_method.card.last4 == "4242"  # the same card
    failed = webhooks.wait_for("payment_intent.payment_failed", intent.id).event.data.object
    assert failed.last_payment_error.decline_code == decline_code


def test_a_card_that_attaches_fine_declines_when_charged(client):
    customer_id, pm_id = saved_card(client, "4000000000000341")

    with pytest.raises(stripe.CardError) as raised:
        charge_off_session(client, customer_id, pm_id)

    assert (raised.value.code, raised.value.error.decline_code) == ("card_declined", "generic_decline")
    assert raised.value.error.payment_intent.status == "requires_payment_method"


def test_a_decline_on_confirming_an_existing_intent_off_session_is_the_same_error(client, stripe_server):
    customer_id, pm_id = saved_card(client)
    stripe_server.change_card(pm_id, behaves_as="4000000000009995")
    intent = client.v1.payment_intents.create(params={
        "amount": 2500, "currency": "usd", "customer": customer_id, "payment_method": pm_id})

    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.confirm(intent.id, params={"off_session": True})

    assert raised.value.error.decline_code == "insufficient_funds"
    assert raised.value.error.payment_intent.id == intent.id


@pytest.mark.parametrize("number", ["4000002500003155", "4000002760003184"])
def test_a_saved_card_needing_authentication_fails_off_session_with_authentication_required(client, number):
    customer_id, pm_id = saved_card(client, number)

    with pytest.raises(stripe.CardError) as raised:
        charge_off_session(client, customer_id, pm_id)

    error = raised.value
    assert (error.code, error.error.decline_code) == ("authentication_required", "authentication_required")
    intent = client.v1.payment_intents.retrieve(error.error.payment_intent.id)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.code == "authentication_required"


def test_a_saved_card_past_its_expiry_declines_as_expired(client, stripe_server):
    customer_id, pm_id = saved_card(client)

    stripe_server.change_card(pm_id, exp_month=1, exp_year=2020)

    card_now = client.v1.payment_methods.retrieve(pm_id).card
    assert (card_now.exp_month, card_now.exp_year, card_now.last4) == (1, 2020, "4242")
    with pytest.raises(stripe.CardError) as raised:
        charge_off_session(client, customer_id, pm_id)
    assert (raised.value.code, raised.value.error.decline_code) == ("expired_card", "expired_card")


# --- Saved cards: expiry, brand, updates and detaching -----------------------------------------------

def test_a_saved_cards_expiry_and_brand_are_readable(client):
    customer_id, pm_id = saved_card(client, exp_month=7, exp_year=31)

    card_now = client.v1.payment_methods.retrieve(pm_id).card
    listed = client.v1.payment_methods.list(params={"customer": customer_id, "type": "card"}).data

    assert (card_now.exp_month, card_now.exp_year) == (7, 2031)
    assert (card_now.last4, card_now.brand) == ("4242", "visa")
    assert [(pm.id, pm.card.exp_month, pm.card.exp_year) for pm in listed] == [(pm_id, 7, 2031)]


@pytest.mark.parametrize(("number", "brand"), [
    ("5555555555554444", "mastercard"), ("2223003122003222", "mastercard"), ("6011111111111117", "discover"),
    ("3566002020360505", "jcb"), ("6200000000000005", "unionpay"), ("4000056655665556", "visa"),
])
def test_cards_report_their_brand(client, number, brand):
    assert card_payment_method(client, number).card.brand == brand


def test_card_details_past_their_expiry_are_refused(client, browser):
    last_year = time.gmtime().tm_year - 1
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_methods.create(params={
            "type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": last_year,
                                     "cvc": "123"}})
    assert raised.value.code == "invalid_expiry_year"

    session = create_session(client)
    refused = browser.post(session.url + "/pay", data=card("4242424242424242") | {"exp_year": str(last_year)},
                           allow_redirects=False)
    assert refused.status_code == 402 and "expiration year is invalid" in refused.text
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"


def test_a_saved_cards_expiry_can_be_updated_and_stripe_says_so(client, webhooks):
    customer_id, pm_id = saved_card(client)

    updated = client.v1.payment_methods.update(pm_id, params={"card": {"exp_month": 3, "exp_year": 2036}})

    assert (updated.card.exp_month, updated.card.exp_year, updated.card.last4) == (3, 2036, "4242")
    event = webhooks.wait_for("payment_method.updated", pm_id).event
    assert (event.data.object.card.exp_month, event.data.object.card.exp_year) == (3, 2036)
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_methods.update(pm_id, params={"card": {"exp_year": 2020}})
    assert raised.value.code == "invalid_expiry_year"
    unattached = card_payment_method(client, "4242424242424242")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.update(unattached.id, params={"card": {"exp_month": 1}})


def test_detaching_says_which_card_left_and_only_attached_cards_detach(client, webhooks):
    customer_id, pm_id = saved_card(client, exp_month=5, exp_year=2030)

    detached = client.v1.payment_methods.detach(pm_id)

    assert detached.customer is None
    gone = webhooks.wait_for("payment_method.detached", pm_id).event.data.object
    assert (gone.card.last4, gone.card.exp_month, gone.card.exp_year) == ("4242", 5, 2030)
    assert client.v1.payment_methods.list(params={"customer": customer_id, "type": "card"}).data == []
    with pytest.raises(stripe.InvalidRequestError, match="not attached"):
        client.v1.payment_methods.detach(pm_id)
