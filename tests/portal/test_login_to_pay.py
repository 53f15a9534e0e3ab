""""Log in to pay, or not": with the business's setting on, the emailed link still shows the invoice, but Pay
Now leads through the portal login (or sign-up, for an address on file) and back to the same invoice."""

from __future__ import annotations

import pytest

from core.extensions import db
from core.plugins.settings import set_enabled
from core.testing.helpers import create_customer_login, login_customer, submit_form
from core.testing.records import issue_invoice
from plugins.payments_stripe.testing import connect_stripe
from tests.portal.conftest import PASSWORD, local
from tests.portal.test_registration import NEW_PASSWORD, set_policies


@pytest.fixture
def invoice(app, acme, maria, stripe_api):
    connect_stripe(app, acme)
    set_policies(app, acme, login_to_pay=True)
    return issue_invoice(app, acme, customer_id=maria)


def test_the_link_shows_the_invoice_and_pay_now_asks_for_a_login_first(app, client, acme, invoice, emailed):
    _, token = invoice
    page = client.get(f"/b/acme/pay/{token}").get_data(as_text=True)
    login_url = f"/b/acme/account/login?next=/pay/{token}"
    assert "Water heater flush" in page and "Log in to pay" in page
    assert login_url in page.replace("&amp;", "&")
    # Posting Pay Now anyway (an old page, a crafted form) leads to the login too.
    checkout = submit_form(client, "/b/acme/account/login", {}, post_url=f"/b/acme/pay/{token}/checkout")
    assert checkout.status_code == 302 and checkout.headers["Location"] == login_url
    [(_, context)] = emailed("invoice_sent")
    assert context["login_to_pay"] is True


def test_after_logging_in_the_customer_is_back_on_the_invoice_and_can_pay(app, client, acme, maria, invoice):
    _, token = invoice
    create_customer_login(app, acme, maria, email="maria@example.com", password=PASSWORD)
    page = client.get(f"/b/acme/pay/{token}").get_data(as_text=True)
    login_url = page.split('id="pay-now" href="')[1].split('"')[0].replace("&amp;", "&")
    back = submit_form(client, login_url, {"email": "maria@example.com", "password": PASSWORD})
    assert back.headers["Location"] == f"/b/acme/pay/{token}"
    page = client.get(f"/b/acme/pay/{token}").get_data(as_text=True)
    assert "Log in to pay" not in page and "Pay $" in page
    checkout = submit_form(client, f"/b/acme/pay/{token}", {}, post_url=f"/b/acme/pay/{token}/checkout")
    assert checkout.status_code == 303


def test_another_customers_login_does_not_count(app, client, acme, invoice, in_business):
    from tests.portal.conftest import add_customer

    _, token = invoice
    jo = add_customer(in_business, acme, "Jo Lee", "jo@example.com")
    create_customer_login(app, acme, jo, email="jo@example.com", password=PASSWORD)
    login_customer(client, acme, email="jo@example.com", password=PASSWORD)
    assert "Log in to pay" in client.get(f"/b/acme/pay/{token}").get_data(as_text=True)


def test_a_customer_without_a_login_signs_up_from_the_invoice_and_comes_back(client, acme, invoice, emailed):
    _, token = invoice
    login_page = client.get(f"/b/acme/account/login?next=/pay/{token}").get_data(as_text=True)
    signup_url = login_page.split('href="/b/acme/portal/signup')[1].split('"')[0].replace("&amp;", "&")
    submit_form(client, f"/b/acme/portal/signup{signup_url}", {"email": "maria@example.com"})
    [(_, context)] = emailed("portal_signup_confirm")
    response = submit_form(client, local(context["confirm_url"]), NEW_PASSWORD)
    assert response.headers["Location"] == f"/b/acme/pay/{token}"
    assert "Log in to pay" not in client.get(f"/b/acme/pay/{token}").get_data(as_text=True)


def test_without_a_portal_the_link_takes_payment_whatever_the_setting(app, client, acme, invoice,
                                                                      in_business):
    _, token = invoice
    with in_business(acme):
        set_enabled("portal", False)
        db.session.commit()
    app.extensions["suprata"].businesses.forget()
    assert "Log in to pay" not in client.get(f"/b/acme/pay/{token}").get_data(as_text=True)
    checkout = submit_form(client, f"/b/acme/pay/{token}", {}, post_url=f"/b/acme/pay/{token}/checkout")
    assert checkout.status_code == 303


def test_by_default_no_login_is_needed(app, client, acme, maria, stripe_api, emailed):
    connect_stripe(app, acme)
    _, token = issue_invoice(app, acme, customer_id=maria)
    assert "Log in to pay" not in client.get(f"/b/acme/pay/{token}").get_data(as_text=True)
    assert emailed("invoice_sent")[0][1]["login_to_pay"] is False
