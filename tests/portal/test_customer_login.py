"""The customer login (core's account pages): separate from staff, revocable sessions, timeouts, resets and
email changes by single-use links, no user enumeration, rate limits, and nothing for unconfirmed accounts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.extensions import db
from core.identity.login import LOGIN_FAILED
from core.models import AuthSession, CustomerEmail, CustomerUser
from core.notifications.outbox import deliver_due
from core.tenancy import utcnow
from core.testing.helpers import (
    create_customer_login,
    login_customer,
    login_staff,
    submit_form,
    without_nonces,
)
from tests.portal.conftest import PASSWORD, local

LOGIN = "/b/acme/account/login"
INVOICES = "/b/acme/portal/invoices"


def test_a_customer_logs_in_lands_on_the_portal_and_is_on_the_timeline(client, acme, maria_login,
                                                                        in_business):
    response = login_customer(client, acme, email="MARIA@example.com ", password=PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == INVOICES
    page = client.get(INVOICES).get_data(as_text=True)
    assert "Maria Garcia" in page and "Log out" in page
    with in_business(acme):
        assert db.session.scalar(select(AuthSession.realm)) == "customer"
    assert "Logged in to the portal" in client.get("/b/acme/portal/activity").get_data(as_text=True)


def test_portal_pages_send_visitors_to_the_login_and_back(client, acme, maria_login):
    response = client.get(INVOICES + "?status=open")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(LOGIN + "?next=")
    back = submit_form(client, response.headers["Location"],
                       {"email": "maria@example.com", "password": PASSWORD})
    assert back.headers["Location"] == INVOICES + "?status=open"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_login_never_redirects_off_the_site(client, acme, maria_login, target):
    response = submit_form(client, LOGIN, {"email": "maria@example.com", "password": PASSWORD},
                           post_url=f"{LOGIN}?next={target}")
    assert response.headers["Location"] == INVOICES


def _normalised(html: str, email: str) -> str:
    return re.sub(r'value="[^"]*"', 'value=""', without_nonces(html).replace(email, "EMAIL"))


def test_unknown_email_and_wrong_password_get_the_same_answer(client, acme, maria_login):
    wrong = submit_form(client, LOGIN, {"email": "maria@example.com", "password": "not the password"})
    unknown = submit_form(client, LOGIN, {"email": "nobody@example.com", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    assert LOGIN_FAILED in wrong.get_data(as_text=True)
    assert _normalised(wrong.get_data(as_text=True), "maria@example.com") == _normalised(
        unknown.get_data(as_text=True), "nobody@example.com")


def test_login_is_rate_limited(client, acme, maria_login):
    answers = [submit_form(client, LOGIN, {"email": f"x{n}@example.com", "password": "wrong password"})
               .status_code for n in range(11)]
    assert answers[:10] == [401] * 10 and answers[10] == 429


def test_a_deactivated_login_cannot_log_in_and_its_sessions_stop(client, acme, portal, in_business):
    with in_business(acme):
        db.session.execute(update(CustomerUser).values(active=False))
        db.session.commit()
    assert client.get(INVOICES).status_code == 302
    assert login_customer(client, acme, email="maria@example.com", password=PASSWORD).status_code == 401


def test_logout_ends_the_session_on_the_server(portal, acme, in_business):
    cookie = portal.get_cookie("suprata_customer", path="/b/acme/").value
    submit_form(portal, "/b/acme/account/", {}, post_url="/b/acme/account/logout")
    assert portal.get(INVOICES).status_code == 302
    portal.set_cookie("suprata_customer", cookie, path="/b/acme/")  # a copy of the old cookie
    assert portal.get(INVOICES).status_code == 302


def test_log_out_of_all_devices_ends_every_session(app, acme, portal, maria_login):
    phone = app.test_client()
    assert login_customer(phone, acme, email="maria@example.com", password=PASSWORD).status_code == 302
    assert phone.get(INVOICES).status_code == 200
    response = submit_form(portal, "/b/acme/account/", {}, post_url="/b/acme/account/logout-everywhere")
    assert response.headers["Location"] == LOGIN
    assert phone.get(INVOICES).status_code == 302
    assert portal.get(INVOICES).status_code == 302


@pytest.mark.parametrize(("column", "age"), [("last_seen_at", timedelta(minutes=61)),
                                             ("created_at", timedelta(hours=13))])
def test_idle_and_absolute_timeouts_end_a_session(portal, acme, in_business, column, age):
    with in_business(acme):
        db.session.execute(update(AuthSession).values({column: utcnow() - age}))
        db.session.commit()
    assert portal.get(INVOICES).headers["Location"].startswith(LOGIN)


def test_realms_stay_apart_both_ways(app, client, acme, portal, staff_member):
    staff = app.test_client()
    assert login_staff(staff, acme).status_code == 302
    assert staff.get("/b/acme/console/").status_code == 200
    # The staff login never opens a customer page, and the customer login never opens the console.
    assert staff.get(INVOICES).headers["Location"].startswith(LOGIN)
    assert staff.get("/b/acme/account/").headers["Location"].startswith(LOGIN)
    assert portal.get("/b/acme/console/").headers["Location"].startswith("/b/acme/console/login")
    assert portal.get("/b/acme/console/customers").status_code == 302
    # Even a staff session's token presented as a customer cookie opens nothing.
    staff_token = staff.get_cookie("suprata_staff", path="/b/acme/").value
    stranger = app.test_client()
    stranger.set_cookie("suprata_customer", staff_token, path="/b/acme/")
    assert stranger.get(INVOICES).status_code == 302


def test_a_login_of_one_business_opens_nothing_at_another(app, acme, globex, portal, in_business):
    from tests.portal.conftest import add_customer

    add_customer(in_business, globex, "Maria Garcia", "maria@example.com")
    token = portal.get_cookie("suprata_customer", path="/b/acme/").value
    other = app.test_client()
    other.set_cookie("suprata_customer", token, path="/b/globex/")
    assert other.get("/b/globex/portal/invoices").status_code == 302
    assert login_customer(other, globex, email="maria@example.com", password=PASSWORD).status_code == 401


# -- forgotten password ------------------------------------------------------------------------------------


def test_forgot_password_answers_the_same_for_any_address(client, acme, maria_login, emailed):
    known = submit_form(client, "/b/acme/account/forgot-password", {"email": "maria@example.com"})
    unknown = submit_form(client, "/b/acme/account/forgot-password", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert _normalised(known.get_data(as_text=True), "maria@example.com") == _normalised(
        unknown.get_data(as_text=True), "nobody@example.com")
    assert [to for to, _ in emailed("customer_password_reset")] == ["maria@example.com"]


def test_a_reset_link_works_once_and_ends_every_other_session(app, client, acme, portal, emailed):
    submit_form(client, "/b/acme/account/forgot-password", {"email": "maria@example.com"})
    [(_, context)] = emailed("customer_password_reset")
    link = local(context["reset_url"])
    stranger = app.test_client()
    response = submit_form(stranger, link, {"new_password": "a brand new passphrase",
                                            "confirm_password": "a brand new passphrase"})
    assert response.status_code == 302
    assert stranger.get(INVOICES).status_code == 200  # signed in by the reset
    assert portal.get(INVOICES).status_code == 302  # the other session ended
    again = stranger.get(link)
    assert again.status_code == 404 and "doesn't work any more" in again.get_data(as_text=True)
    assert again.headers["Cache-Control"] == "no-store"
    mutated = stranger.get(link[:-3] + "abc")
    assert mutated.status_code == 404
    assert without_nonces(mutated.get_data(as_text=True)) == without_nonces(
        again.get_data(as_text=True))
    assert login_customer(app.test_client(), acme, email="maria@example.com",
                          password="a brand new passphrase").status_code == 302
    assert [to for to, _ in emailed("customer_password_changed")] == ["maria@example.com"]


def test_an_expired_reset_link_is_refused(client, acme, maria_login, emailed, in_business):
    from core.models import ActionToken

    submit_form(client, "/b/acme/account/forgot-password", {"email": "maria@example.com"})
    with in_business(acme):
        db.session.execute(update(ActionToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    [(_, context)] = emailed("customer_password_reset")
    assert client.get(local(context["reset_url"])).status_code == 404


def test_forgot_password_is_rate_limited(client, acme):
    answers = [submit_form(client, "/b/acme/account/forgot-password", {"email": f"x{n}@example.com"})
               .status_code for n in range(6)]
    assert answers == [200] * 5 + [429]


# -- changing the password and the email address ----------------------------------------------------------


def test_changing_the_password_keeps_this_session_and_ends_the_others(app, acme, portal):
    phone = app.test_client()
    login_customer(phone, acme, email="maria@example.com", password=PASSWORD)
    response = submit_form(portal, "/b/acme/account/", {
        "password-current_password": PASSWORD, "password-new_password": "another long passphrase",
        "password-confirm_password": "another long passphrase"}, post_url="/b/acme/account/password")
    assert response.status_code == 302
    assert portal.get(INVOICES).status_code == 200
    assert phone.get(INVOICES).status_code == 302


def test_a_wrong_current_password_changes_nothing(portal, acme):
    response = submit_form(portal, "/b/acme/account/", {
        "password-current_password": "not it at all", "password-new_password": "another long passphrase",
        "password-confirm_password": "another long passphrase"}, post_url="/b/acme/account/password")
    assert response.status_code == 400
    assert "not your current password" in response.get_data(as_text=True)


def test_a_new_email_address_counts_only_once_confirmed(app, acme, portal, emailed, in_business, mailbox):
    response = submit_form(portal, "/b/acme/account/", {"email-new_email": "Maria.G@Example.com",
                                                        "email-current_password": PASSWORD},
                           post_url="/b/acme/account/email")
    assert response.status_code == 302
    assert "maria@example.com" in portal.get("/b/acme/account/").get_data(as_text=True)
    [(to, context)] = emailed("customer_email_confirmation")
    assert to == "maria.g@example.com" and context["is_change"] is True
    # Followed in another browser, where nobody is logged in: the login moves, the old address is told.
    assert app.test_client().get(local(context["confirm_url"])).status_code == 302
    assert "maria.g@example.com" in portal.get("/b/acme/account/").get_data(as_text=True)
    assert [to for to, _ in emailed("customer_email_changed")] == ["maria@example.com"]
    assert login_customer(app.test_client(), acme, email="maria.g@example.com", password=PASSWORD
                          ).status_code == 302
    with in_business(acme):
        assert db.session.scalar(select(CustomerEmail.email).where(CustomerEmail.verified_at.is_not(None))
                                 ) is None  # not on file: the record is staff's to change
    assert app.test_client().get(local(context["confirm_url"])).status_code == 404  # used up


def test_moving_to_an_address_another_login_uses_answers_the_same_and_changes_nothing(
        app, acme, portal, emailed, in_business, maria):
    from tests.portal.conftest import add_customer

    other = add_customer(in_business, acme, "Jo Lee", "jo@example.com")
    create_customer_login(app, acme, other, email="jo@example.com")
    response = submit_form(portal, "/b/acme/account/", {"email-new_email": "jo@example.com",
                                                        "email-current_password": PASSWORD},
                           post_url="/b/acme/account/email")
    assert response.status_code == 302
    assert emailed("customer_email_confirmation") == []
    assert [to for to, _ in emailed("customer_email_taken")] == ["jo@example.com"]


# -- unconfirmed addresses ------------------------------------------------------------------------------


@pytest.fixture
def unconfirmed(app, client, acme, maria):
    create_customer_login(app, acme, maria, email="maria@example.com", password=PASSWORD, confirmed=False)
    assert login_customer(client, acme, email="maria@example.com", password=PASSWORD).status_code == 302
    return client


@pytest.mark.parametrize("path", ["/portal/invoices", "/portal/jobs", "/portal/reservations",
                                  "/portal/agreements", "/portal/activity", "/portal/invoices/1",
                                  "/account/"])
def test_an_unconfirmed_account_sees_nothing_sensitive(unconfirmed, path):
    response = unconfirmed.get(f"/b/acme{path}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/b/acme/account/unconfirmed"


def test_an_unconfirmed_account_confirms_and_then_sees_its_portal(app, unconfirmed, acme, emailed,
                                                                  in_business):
    page = unconfirmed.get("/b/acme/account/unconfirmed").get_data(as_text=True)
    assert "Confirm your email address" in page and "Invoices" not in page  # no tabs either
    submit_form(unconfirmed, "/b/acme/account/unconfirmed", {})
    [(to, context)] = emailed("customer_email_confirmation")
    assert to == "maria@example.com" and context["is_change"] is False
    assert unconfirmed.get(local(context["confirm_url"])).headers["Location"] == "/b/acme/account/"
    assert unconfirmed.get(INVOICES).status_code == 200
    with in_business(acme):
        assert db.session.scalar(select(CustomerEmail.verified_at).where(
            CustomerEmail.email == "maria@example.com")) is not None


def test_account_emails_are_delivered(app, client, acme, maria_login, mailbox):
    submit_form(client, "/b/acme/account/forgot-password", {"email": "maria@example.com"})
    with app.app_context():
        deliver_due()
    [message] = mailbox.wait_for(1)
    assert message["To"] == "maria@example.com"
    assert "/b/acme/account/reset-password/" in mailbox.text_of(message)
