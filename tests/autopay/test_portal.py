"""Autopay in the customer's portal: the toggle on the Stripe plugin's "Payment methods" tab, with consent
recorded, and the update-card link of a failed charge's email, which leads there to replace the card."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import AutopayConsent, Customer, Invoice, SavedPaymentMethod
from core.notifications.outbox import deliver_due
from core.plugins.settings import set_enabled
from core.tenancy import business_context, utcnow
from core.testing.helpers import create_customer_login, login_customer, submit_form
from plugins.payments_stripe.testing import local_path, pay_on_hosted_page
from tests.autopay.support import issue_subscription, mail, pay_first_invoice, payments_of, run_worker

TAB = "/b/acme/portal/payment-methods/"


@pytest.fixture
def portal_on(app, shop):
    with app.app_context(), business_context(shop.id):
        set_enabled("portal", True)
        db.session.commit()
    app.extensions["suprata"].businesses.forget()


def signed_in(app, client, shop, customer_id: int):
    create_customer_login(app, shop, customer_id, email="pat@example.com")
    login_customer(client, shop, email="pat@example.com")
    return client


def customer_of(app, shop, customer_id: int) -> Customer:
    with app.app_context(), business_context(shop.id):
        customer = db.session.get(Customer, customer_id)
        db.session.expunge(customer)
        return customer


def consents(app, shop) -> list[AutopayConsent]:
    with app.app_context(), business_context(shop.id):
        rows = db.session.scalars(select(AutopayConsent).order_by(AutopayConsent.id)).all()
        db.session.expunge_all()
        return rows


def test_autopay_waits_for_a_first_payment_through_the_processor(app, client, shop, portal_on):
    with app.app_context(), business_context(shop.id):
        customer = Customer(name="Pat Jones")
        db.session.add(customer)
        db.session.commit()
        customer_id = customer.id
    tab = signed_in(app, client, shop, customer_id)

    page = tab.get(TAB).get_data(as_text=True)
    assert "once you have paid an invoice online yourself" in page and 'id="autopay-form"' not in page
    submit_form(tab, TAB, {"consent": "yes", "method_id": "1"}, post_url=TAB + "autopay")
    assert not customer_of(app, shop, customer_id).autopay_enabled


def test_the_customer_switches_autopay_on_with_consent_and_off_again(app, client, shop, inbox, portal_on):
    customer_id = pay_first_invoice(app, client, shop, inbox)
    tab = signed_in(app, client, shop, customer_id)
    page = tab.get(TAB).get_data(as_text=True)
    assert "Autopay is off" in page and 'id="autopay-form"' in page
    method_id = int(re.search(r'<option value="(\d+)"', page).group(1))

    refused = submit_form(tab, TAB, {"method_id": method_id}, post_url=TAB + "autopay")
    assert refused.status_code == 302
    assert "Tick the box to agree" in tab.get(TAB).get_data(as_text=True)
    assert not customer_of(app, shop, customer_id).autopay_enabled

    submit_form(tab, TAB, {"method_id": method_id, "consent": "yes"}, post_url=TAB + "autopay")
    page = tab.get(TAB).get_data(as_text=True)
    assert "Autopay is on." in page and "Visa ending 4242 is charged" in page
    [consent] = consents(app, shop)
    assert (consent.channel, consent.ip, consent.withdrawn_at) == ("portal", "127.0.0.1", None)
    assert consent.wording.startswith("I allow Acme Plumbing to charge my saved card automatically")
    assert customer_of(app, shop, customer_id).autopay_enabled

    submit_form(tab, TAB, {"switch": "off"}, post_url=TAB + "autopay")
    assert "Autopay is off. New invoices come to you to pay" in tab.get(TAB).get_data(as_text=True)
    assert not customer_of(app, shop, customer_id).autopay_enabled
    assert consents(app, shop)[0].withdrawn_at is not None
    assert "Autopay switched on" in tab.get("/b/acme/portal/activity").get_data(as_text=True)


def test_another_customers_card_cannot_be_chosen_for_autopay(app, client, shop, inbox, portal_on):
    customer_id = pay_first_invoice(app, client, shop, inbox)
    with app.app_context(), business_context(shop.id):
        other = Customer(name="Sam Lee")
        db.session.add(other)
        db.session.flush()
        card = SavedPaymentMethod(customer_id=other.id, processor="stripe", processor_ref="pm_other",
                                  brand="visa", last4="1111", consent_at=utcnow(), consent_text="Keep it")
        db.session.add(card)
        db.session.commit()
        other_card = card.id
    tab = signed_in(app, client, shop, customer_id)
    response = submit_form(tab, TAB, {"method_id": other_card, "consent": "yes"}, post_url=TAB + "autopay")
    assert response.status_code == 404
    assert not customer_of(app, shop, customer_id).autopay_enabled


def test_a_declined_autopay_customer_replaces_the_card_from_the_email_and_the_invoice_is_paid(
        app, client, shop, enrolled, stripe_server, mailbox, portal_on):
    stripe_server.change_card(enrolled.card_ref, behaves_as="4000000000009995")
    invoice_id = issue_subscription(app, shop, enrolled.customer_id)
    run_worker(app)
    with app.app_context(), business_context(shop.id):
        assert db.session.get(Invoice, invoice_id).autopay_state == "failed"

    text = mailbox.text_of(mail(mailbox, "pat@example.com", "did not go through"))
    update_link = re.search(r"http://suprata\.test(/b/acme/portal/payment-methods/)", text).group(1)
    tab = signed_in(app, client, shop, enrolled.customer_id)
    page = tab.get(update_link).get_data(as_text=True)
    assert "Autopay is on." in page and "Visa ending 4242 is charged" in page

    hosted = submit_form(tab, TAB, {"consent": "yes"}, post_url=f"{TAB}{enrolled.method_id}/replace")
    assert hosted.status_code == 303
    back = pay_on_hosted_page(hosted.headers["Location"], "5555555555554444")
    tab.get(local_path(back.headers["Location"]))
    assert "Mastercard ending 4444 is charged" in tab.get(TAB).get_data(as_text=True)

    run_worker(app)
    with app.app_context(), business_context(shop.id):
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.status, invoice.autopay_state) == ("paid", "paid")


def test_an_invoice_about_to_be_charged_says_so_and_takes_no_second_payment(
        app, client, shop, enrolled, mailbox):
    invoice_id = issue_subscription(app, shop, enrolled.customer_id)
    with app.app_context(), business_context(shop.id):
        assert db.session.get(Invoice, invoice_id).autopay_state == "scheduled"
    with app.app_context():
        deliver_due()
    text = mailbox.text_of(mail(mailbox, "pat@example.com", "Invoice"))
    assert "It will be charged automatically to your Visa ending 4242" in text
    pay_url = re.search(r"http://suprata\.test(/b/acme/pay/[\w-]+)", text).group(1)

    page = client.get(pay_url).get_data(as_text=True)
    assert 'id="autopay-note"' in page and 'id="pay-form"' not in page
    # A form posted anyway (an old tab) opens no checkout: the CSRF token comes from another page's form.
    refused = submit_form(client, "/b/acme/account/login", {}, post_url=pay_url + "/checkout")
    assert refused.status_code in (302, 303, 400, 409)
    assert payments_of(app, shop, invoice_id) == []

    run_worker(app)
    with app.app_context(), business_context(shop.id):
        assert db.session.get(Invoice, invoice_id).status == "paid"
