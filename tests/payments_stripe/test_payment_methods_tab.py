"""The "Payment methods" portal tab (the Stripe plugin's): list, add and replace a card through Stripe's
hosted page in setup mode with the customer's consent, remove one, choose the default."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import Customer, CustomerEmail, SavedPaymentMethod
from core.testing.helpers import create_customer_login, login_customer, submit_form
from plugins.payments_stripe.testing import local_path, pay_on_hosted_page

TAB = "/b/acme/portal/payment-methods/"


@pytest.fixture
def customer(app, shop, in_business):
    from core.plugins.settings import set_enabled

    with in_business(shop):
        set_enabled("portal", True)
        row = Customer(name="Pat Jones", emails=[CustomerEmail(email="pat@example.com", is_primary=True)])
        db.session.add(row)
        db.session.commit()
        customer_id = row.id
    app.extensions["suprata"].businesses.forget()
    create_customer_login(app, shop, customer_id, email="pat@example.com")
    return customer_id


@pytest.fixture
def tab(client, shop, customer):
    login_customer(client, shop, email="pat@example.com")
    return client


def add_card(tab, card: str = "4242424242424242", *, post_url: str = TAB + "add"):
    response = submit_form(tab, TAB, {"consent": "yes"}, post_url=post_url)
    assert response.status_code == 303, response.get_data(as_text=True)
    back = pay_on_hosted_page(response.headers["Location"], card)
    return tab.get(local_path(back.headers["Location"]))


def cards(in_business, shop):
    with in_business(shop):
        return db.session.scalars(select(SavedPaymentMethod).order_by(SavedPaymentMethod.id)).all()


def test_the_tab_is_in_the_portal_and_lists_no_card_yet(tab):
    page = tab.get("/b/acme/portal/invoices").get_data(as_text=True)
    assert ">Payment methods</a>" in page
    assert "No saved cards." in tab.get(TAB).get_data(as_text=True)


def test_a_card_is_added_through_the_hosted_setup_page_with_consent(tab, shop, in_business):
    response = add_card(tab)
    assert response.status_code == 302
    page = tab.get(TAB).get_data(as_text=True)
    assert "Visa ending 4242" in page and "used first" in page
    [card] = cards(in_business, shop)
    assert card.is_default and card.consent_text.startswith("Save this card")
    assert card.consent_ip == "127.0.0.1"
    activity = tab.get("/b/acme/portal/activity").get_data(as_text=True)
    assert "Visa ending 4242 saved for future payments" in activity


def test_nothing_is_saved_without_the_consent_box(tab, shop, in_business):
    response = submit_form(tab, TAB, {}, post_url=TAB + "add")
    assert response.status_code == 302
    assert "Tick the box" in tab.get(TAB).get_data(as_text=True)
    assert cards(in_business, shop) == []


def test_a_card_is_replaced_removed_and_the_default_chosen(tab, shop, in_business):
    add_card(tab)
    add_card(tab, "5555555555554444")
    first, second = cards(in_business, shop)
    assert (first.is_default, second.is_default) == (True, False)
    submit_form(tab, TAB, {}, post_url=f"{TAB}{second.id}/default")
    first, second = cards(in_business, shop)
    assert (first.is_default, second.is_default) == (False, True)
    add_card(tab, "4000056655665556", post_url=f"{TAB}{second.id}/replace")
    live = [c for c in cards(in_business, shop) if c.detached_at is None]
    assert len(live) == 2 and live[-1].is_default and second.id not in {c.id for c in live}
    submit_form(tab, TAB, {}, post_url=f"{TAB}{live[-1].id}/remove")
    [remaining] = [c for c in cards(in_business, shop) if c.detached_at is None]
    assert remaining.id == first.id and remaining.is_default


def test_another_customers_card_answers_404(app, tab, shop, in_business):
    with in_business(shop):
        other = Customer(name="Jo")
        db.session.add(other)
        db.session.flush()
        from core.tenancy import utcnow

        card = SavedPaymentMethod(customer_id=other.id, processor="stripe", processor_ref="pm_other",
                                  consent_at=utcnow(), consent_text="yes")
        db.session.add(card)
        db.session.commit()
        card_id = card.id
    for action in ("default", "remove", "replace"):
        response = submit_form(tab, TAB, {"consent": "yes"}, post_url=f"{TAB}{card_id}/{action}")
        assert response.status_code == 404
