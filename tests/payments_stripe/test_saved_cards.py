"""Saved cards: kept at Stripe only on an explicit yes, charged off-session once however often staff click."""

import threading

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import AuditEntry, Customer, Invoice, OutboxMessage, Payment, SavedPaymentMethod
from core.money.payments.saved_methods import detach_payment_method
from core.money.payments.wording import save_card_wording
from core.tenancy import utcnow
from core.testing.helpers import create_staff, csrf_token_from, login_staff
from core.testing.records import issue_invoice
from plugins.payments_stripe.models import StripeCustomer
from plugins.payments_stripe.testing import GOOD_CARD, deliver, keep_card, pay_now, pay_on_hosted_page


def paid_checkout(client, shop, inbox, token, fields=None, headers=None):
    hosted_url = pay_now(client, shop, token, fields, headers=headers or {}).headers["Location"]
    session_id = hosted_url.rsplit("/", 1)[1]
    assert pay_on_hosted_page(hosted_url).status_code == 303
    deliver(client, shop, inbox.wait_for("checkout.session.completed", session_id))
    return session_id


def test_with_consent_the_card_is_kept_at_stripe_and_here_with_the_consent(
        app, client, shop, stripe_api, inbox, in_business):
    _, token = issue_invoice(app, shop)

    session_id = paid_checkout(client, shop, inbox, token, {"save_card": "yes"},
                               headers={"User-Agent": "Pat's phone"})

    session = stripe_api.v1.checkout.sessions.retrieve(session_id, params={"expand": ["payment_intent"]})
    assert session.payment_intent.setup_future_usage == "off_session"
    kept = stripe_api.v1.payment_methods.list(params={"customer": session.customer, "type": "card"}).data
    assert [card.id for card in kept] == [session.payment_intent.payment_method]
    with in_business(shop):
        method = db.session.scalar(select(SavedPaymentMethod))
        customer = db.session.scalar(select(Customer))
        assert (method.customer_id, method.processor_ref) == (customer.id, kept[0].id)
        assert (method.brand, method.last4, method.exp_month, method.exp_year) == ("visa", "4242", 12, 2034)
        assert method.consent_text == save_card_wording("Acme Plumbing")
        assert (method.consent_ip, method.consent_user_agent) == ("127.0.0.1", "Pat's phone")
        assert method.consent_at <= utcnow() and method.is_default
        assert db.session.scalar(select(Payment.saved_method_id)) == method.id
        assert db.session.scalar(select(StripeCustomer.stripe_customer_id)) == session.customer


def test_without_consent_nothing_is_kept_at_stripe_or_here(app, client, shop, stripe_api, inbox, in_business):
    _, token = issue_invoice(app, shop)

    session_id = paid_checkout(client, shop, inbox, token)

    session = stripe_api.v1.checkout.sessions.retrieve(session_id, params={"expand": ["payment_intent"]})
    assert session.payment_status == "paid"
    assert session.customer is None and session.payment_intent.setup_future_usage is None
    assert stripe_api.v1.customers.list().data == []
    assert stripe_api.v1.payment_methods.retrieve(session.payment_intent.payment_method).customer is None
    with in_business(shop):
        assert db.session.scalar(select(func.count(SavedPaymentMethod.id))) == 0
        assert db.session.scalar(select(func.count(StripeCustomer.id))) == 0


@pytest.fixture
def staff(app, client, shop):
    create_staff(app, shop)
    assert login_staff(client, shop).status_code == 302
    return client


def second_invoice(app, shop, in_business):
    first_id, _ = issue_invoice(app, shop)
    with in_business(shop):
        customer_id = db.session.get(Invoice, first_id).customer_id
    invoice_id, _ = issue_invoice(app, shop, customer_id=customer_id,
                                  lines=(("Annual service", "1", 9900, 0),))
    return customer_id, invoice_id


def charge_form(staff, invoice_id, method_id):
    page = staff.get(f"/b/acme/console/invoices/{invoice_id}").get_data(as_text=True)
    return {"csrf_token": csrf_token_from(page), "method_id": str(method_id)}


def test_staff_charge_a_saved_card_once_even_when_they_double_click(
        app, client, shop, stripe_api, staff, hooks, in_business):
    customer_id, invoice_id = second_invoice(app, shop, in_business)
    method_id = keep_card(app, shop, stripe_api, customer_id, "4242424242424242")
    form = charge_form(staff, invoice_id, method_id)
    cookie = staff.get_cookie("suprata_staff", path="/b/acme/")
    start = threading.Barrier(2)
    statuses = []

    def click():
        with app.test_client() as browser:
            browser.set_cookie("suprata_staff", cookie.value, path="/b/acme/")
            browser.set_cookie("session", staff.get_cookie("session").value)
            start.wait()
            statuses.append(browser.post(f"/b/acme/console/invoices/{invoice_id}/charge-saved-method",
                                         data=form).status_code)

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()

    assert statuses == [302, 302]
    assert len(stripe_api.v1.payment_intents.list().data) == 1
    with in_business(shop):
        invoice = db.session.get(Invoice, invoice_id)
        payments = db.session.scalars(select(Payment).where(Payment.invoice_id == invoice_id)).all()
        assert (invoice.status, invoice.amount_paid) == ("paid", 9900)
        assert [(p.status, p.source, p.saved_method_id) for p in payments] == [
            ("succeeded", "staff", method_id)]
        audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action.startswith("payment."))).all()
        assert [(a.action, a.actor) for a in audit] == [("payment.charge_saved_method", "Dana Ortiz"),
                                                        ("payment.captured", "Dana Ortiz")]
    assert len(hooks.named("on_payment_captured")) == 1


@pytest.mark.parametrize(("number", "code", "reason"), [
    ("4000000000000341", "generic_decline", "the card was declined"),
    ("4000002500003155", "authentication_required", "your bank wants you to confirm the payment yourself"),
])
def test_a_declined_off_session_charge_fails_the_payment_and_leaves_the_invoice_open(
        app, shop, stripe_api, staff, hooks, in_business, number, code, reason):
    customer_id, invoice_id = second_invoice(app, shop, in_business)
    method_id = keep_card(app, shop, stripe_api, customer_id, number)

    response = staff.post(f"/b/acme/console/invoices/{invoice_id}/charge-saved-method",
                          data=charge_form(staff, invoice_id, method_id), follow_redirects=True)

    assert "Nothing was charged." in response.get_data(as_text=True)
    with in_business(shop):
        payment = db.session.scalar(select(Payment).where(Payment.invoice_id == invoice_id))
        assert (payment.status, payment.failure_code) == ("failed", code)
        assert db.session.get(Invoice, invoice_id).status == "open"
        # Nobody was there to see it: the customer gets a way to pay, the billing inbox is told.
        notices = {m.template_key: m for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template_key.startswith("payment_failed")))}
        assert notices["payment_failed"].recipient == "pat@example.com"
        assert notices["payment_failed"].context["reason"] == reason
        pay_path = "/" + notices["payment_failed"].context["pay_url"].split("/", 3)[3]
        assert notices["payment_failed_staff"].recipient == "billing@acme.test"
        assert notices["payment_failed_staff"].context["customer_told"] is True
    assert hooks.named("on_payment_failed") == [("on_payment_failed", payment.id, code)]
    assert "Pay $99.00 now" in staff.get(pay_path).get_data(as_text=True)


def set_up_card(stripe_api, shop, customer_id, *, with_consent: bool):
    """A card saved outside a payment (a SetupIntent), as a card-update page would start it."""
    metadata = {"suprata_business_id": str(shop.id), "suprata_customer_id": str(customer_id)}
    if with_consent:
        metadata |= {"suprata_consent_at": "2026-06-01T10:00:00+00:00",
                     "suprata_consent_text": save_card_wording("Acme Plumbing"),
                     "suprata_consent_ip": "198.51.100.7", "suprata_consent_user_agent": "Pat's laptop"}
    stripe_customer = stripe_api.v1.customers.create(params={"email": "pat@example.com"})
    setup = stripe_api.v1.setup_intents.create(params={"customer": stripe_customer.id, "metadata": metadata})
    card = stripe_api.v1.payment_methods.create(params={
        "type": "card", "card": {"number": GOOD_CARD, "exp_month": 7, "exp_year": 2031, "cvc": "123"}})
    stripe_api.v1.setup_intents.confirm(setup.id, params={"payment_method": card.id})
    return setup.id, card.id


def test_a_card_set_up_with_consent_is_kept_from_the_setup_webhook(app, client, shop, stripe_api, inbox,
                                                                  in_business):
    customer_id, _ = second_invoice(app, shop, in_business)
    setup_id, card_id = set_up_card(stripe_api, shop, customer_id, with_consent=True)

    deliver(client, shop, inbox.wait_for("setup_intent.succeeded", setup_id))

    with in_business(shop):
        method = db.session.scalar(select(SavedPaymentMethod))
        assert (method.customer_id, method.processor_ref, method.last4, method.exp_year) == (
            customer_id, card_id, "4242", 2031)
        assert (method.consent_ip, method.consent_user_agent) == ("198.51.100.7", "Pat's laptop")
        assert method.consent_text == save_card_wording("Acme Plumbing")


def test_a_card_set_up_without_recorded_consent_is_not_kept(app, client, shop, stripe_api, inbox,
                                                            in_business):
    customer_id, _ = second_invoice(app, shop, in_business)
    setup_id, _ = set_up_card(stripe_api, shop, customer_id, with_consent=False)

    deliver(client, shop, inbox.wait_for("setup_intent.succeeded", setup_id))

    with in_business(shop):
        assert db.session.scalar(select(func.count(SavedPaymentMethod.id))) == 0


def test_a_card_removed_at_stripe_can_no_longer_be_charged(app, client, shop, stripe_api, inbox, staff,
                                                           in_business):
    customer_id, invoice_id = second_invoice(app, shop, in_business)
    method_id = keep_card(app, shop, stripe_api, customer_id, "4242424242424242")
    form = charge_form(staff, invoice_id, method_id)
    with in_business(shop):
        card_id = db.session.get(SavedPaymentMethod, method_id).processor_ref

    stripe_api.v1.payment_methods.detach(card_id)
    deliver(client, shop, inbox.wait_for("payment_method.detached", card_id))

    with in_business(shop):
        assert db.session.get(SavedPaymentMethod, method_id).detached_at is not None
    response = staff.post(f"/b/acme/console/invoices/{invoice_id}/charge-saved-method", data=form,
                          follow_redirects=True)
    assert "That saved card is not available for this customer." in response.get_data(as_text=True)
    assert stripe_api.v1.payment_intents.list().data == []


def test_removing_a_saved_card_detaches_it_at_stripe(app, shop, stripe_api, in_business):
    customer_id, _ = second_invoice(app, shop, in_business)
    method_id = keep_card(app, shop, stripe_api, customer_id, "4242424242424242")

    with in_business(shop):
        method = db.session.get(SavedPaymentMethod, method_id)
        detach_payment_method(method)
        db.session.commit()
        assert method.detached_at is not None
        assert stripe_api.v1.payment_methods.retrieve(method.processor_ref).customer is None
