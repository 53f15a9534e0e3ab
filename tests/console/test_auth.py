"""Staff login: sessions that rotate, end and expire; no user enumeration; rate limits; CSRF; safe next."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.console.auth import LOGIN_FAILED
from core.models import AuthSession, OutboxMessage, StaffUser
from core.tenancy import business_context, utcnow
from core.testing.helpers import create_staff, csrf_token_from, login_staff, submit_form, without_nonces

LOGIN = "/b/acme/console/login"


def test_staff_log_in_and_see_the_dashboard(client, acme, staff, password):
    response = login_staff(client, acme, email=staff.email, password=password)
    assert response.status_code == 302
    assert response.headers["Location"] == "/b/acme/console/"
    page = client.get("/b/acme/console/")
    assert page.status_code == 200
    assert "Dana Ortiz" in page.get_data(as_text=True)


def test_email_is_matched_without_regard_to_case(client, acme, staff, password):
    assert login_staff(client, acme, email="  DANA@Acme.TEST ", password=password).status_code == 302


def test_console_pages_send_visitors_to_login_and_back(client, acme, staff, password):
    response = client.get("/b/acme/console/customers?q=ann")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/b/acme/console/login?next=")
    back = submit_form(client, response.headers["Location"], {"email": staff.email, "password": password})
    assert back.headers["Location"] == "/b/acme/console/customers?q=ann"


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/\t/evil.example", "console"]
)
def test_login_never_redirects_off_the_site(client, acme, staff, target, password):
    response = submit_form(
        client, LOGIN, {"email": staff.email, "password": password}, post_url=f"{LOGIN}?next={target}"
    )
    assert response.headers["Location"] == "/b/acme/console/"


def _normalised(html: str, email: str) -> str:
    return re.sub(r'value="[^"]*"', 'value=""', without_nonces(html).replace(email, "EMAIL"))


def test_unknown_email_and_wrong_password_get_the_same_answer(client, acme, staff, staff_cookie):
    wrong_password = submit_form(client, LOGIN, {"email": staff.email, "password": "not the password"})
    unknown_email = submit_form(client, LOGIN, {"email": "nobody@acme.test", "password": "not the password"})
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert LOGIN_FAILED in wrong_password.get_data(as_text=True)
    assert _normalised(wrong_password.get_data(as_text=True), staff.email) == _normalised(
        unknown_email.get_data(as_text=True), "nobody@acme.test"
    )
    assert staff_cookie(client, acme) is None


def test_deactivated_staff_cannot_log_in(app, client, acme, staff, db, password):
    with app.app_context(), business_context(acme.id):
        db.session.execute(update(StaffUser).values(active=False))
        db.session.commit()
    response = login_staff(client, acme, email=staff.email, password=password)
    assert response.status_code == 401
    assert LOGIN_FAILED in response.get_data(as_text=True)


def test_empty_login_form_shows_field_errors(client, acme):
    response = submit_form(client, LOGIN, {"email": "", "password": ""})
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)


def test_login_is_rate_limited_per_address(client, acme, staff):
    token = csrf_token_from(client.get(LOGIN).get_data(as_text=True))
    answers = [
        client.post(
            LOGIN, data={"csrf_token": token, "email": f"guess{i}@acme.test", "password": "x" * 8}
        ).status_code
        for i in range(11)
    ]
    assert answers[:10] == [401] * 10
    assert answers[10] == 429
    assert "Too many attempts" in client.post(LOGIN, data={"csrf_token": token}).get_data(as_text=True)


def test_login_is_locked_per_email_across_addresses(client, acme, staff):
    token = csrf_token_from(client.get(LOGIN).get_data(as_text=True))
    answers = []
    for i in range(21):
        response = client.post(
            LOGIN,
            data={"csrf_token": token, "email": staff.email, "password": f"guess number {i}"},
            environ_base={"REMOTE_ADDR": f"10.0.{i}.1"},
        )
        answers.append(response.status_code)
    assert answers[:19] == [401] * 19
    assert answers[19:] == [429, 429]  # the twentieth failure locks the login


def test_login_replaces_a_planted_session_cookie(client, acme, staff, session_row, password, staff_cookie):
    client.set_cookie("suprata_staff", "planted-by-someone-else", path="/b/acme/")
    login_staff(client, acme, email=staff.email, password=password)
    token = staff_cookie(client, acme)
    assert token != "planted-by-someone-else"
    assert session_row(acme, token).revoked_at is None


def test_each_login_gets_a_new_session(app, acme, staff, password, staff_cookie):
    first, second = app.test_client(), app.test_client()
    login_staff(first, acme, email=staff.email, password=password)
    login_staff(second, acme, email=staff.email, password=password)
    assert staff_cookie(first, acme) != staff_cookie(second, acme)


def test_logout_revokes_the_session_on_the_server(console, acme, session_row, staff_cookie):
    token = staff_cookie(console, acme)
    page = console.get("/b/acme/console/")
    response = console.post(
        "/b/acme/console/logout", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))}
    )
    assert response.status_code == 302
    assert staff_cookie(console, acme) is None
    assert session_row(acme, token).revoked_at is not None
    console.set_cookie("suprata_staff", token, path="/b/acme/")
    assert console.get("/b/acme/console/").status_code == 302


def test_password_change_ends_other_sessions_and_tells_the_owner(
    app, acme, staff, db, password, staff_cookie
):
    here, elsewhere = app.test_client(), app.test_client()
    login_staff(here, acme, email=staff.email, password=password)
    login_staff(elsewhere, acme, email=staff.email, password=password)
    before = staff_cookie(here, acme)

    response = submit_form(
        here,
        "/b/acme/console/password",
        {
            "current_password": password,
            "new_password": "a brand new passphrase",
            "confirm_password": "a brand new passphrase",
        },
    )

    assert response.status_code == 302
    assert staff_cookie(here, acme) != before
    assert here.get("/b/acme/console/").status_code == 200
    assert elsewhere.get("/b/acme/console/").status_code == 302
    with app.app_context(), business_context(acme.id):
        message = db.session.scalar(select(OutboxMessage))
        assert (message.template_key, message.recipient) == ("staff_password_changed", staff.email)
    assert login_staff(app.test_client(), acme, email=staff.email, password=password).status_code == 401
    assert (
        login_staff(app.test_client(), acme, email=staff.email, password="a brand new passphrase").status_code
        == 302
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"current_password": "wrong one here"}, "That is not your current password."),
        ({"confirm_password": "something else"}, "The two passwords are not the same."),
        ({"new_password": "short", "confirm_password": "short"}, "Use at least 8 characters."),
    ],
)
def test_password_change_problems_are_shown_on_the_form(console, fields, message, password):
    data = {
        "current_password": password,
        "new_password": "another passphrase",
        "confirm_password": "another passphrase",
        **fields,
    }
    response = submit_form(console, "/b/acme/console/password", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_a_staff_cookie_of_one_business_does_not_open_another(
    app, console, acme, make_business, password, staff_cookie
):
    bolt = make_business("bolt")
    create_staff(app, bolt, email="dana@acme.test", password="bolt's own password")
    console.set_cookie("suprata_staff", staff_cookie(console, acme), path="/b/bolt/")
    response = console.get("/b/bolt/console/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/b/bolt/console/login")
    assert login_staff(app.test_client(), bolt, email="dana@acme.test", password=password).status_code == 401


def _age_session(app, db, business, **ages) -> None:
    with app.app_context(), business_context(business.id):
        db.session.execute(update(AuthSession).values({name: utcnow() - age for name, age in ages.items()}))
        db.session.commit()


def test_an_idle_session_expires(app, console, acme, db):
    idle = timedelta(minutes=app.config["SUPRATA_SESSION_IDLE_MINUTES"] + 1)
    _age_session(app, db, acme, last_seen_at=idle)
    assert console.get("/b/acme/console/").status_code == 302


def test_a_busy_session_still_ends_after_its_lifetime(app, console, acme, db):
    assert console.get("/b/acme/console/").status_code == 200
    lifetime = timedelta(hours=app.config["SUPRATA_SESSION_MAX_HOURS"], minutes=1)
    _age_session(app, db, acme, created_at=lifetime, last_seen_at=timedelta(0))
    assert console.get("/b/acme/console/").status_code == 302


def test_forms_without_a_csrf_token_are_refused(console):
    response = console.post("/b/acme/console/logout")
    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)
    assert console.get("/b/acme/console/").status_code == 200


def test_login_cookies_are_secure_http_only_and_same_site(app, client, acme, staff, password, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)  # as in production
    https = {"base_url": "https://localhost", "headers": {"Referer": f"https://localhost{LOGIN}"}}
    page = client.get(LOGIN, **https)
    response = client.post(LOGIN, data={"csrf_token": csrf_token_from(page.get_data(as_text=True)),
                                        "email": staff.email, "password": password}, **https)
    assert response.status_code == 302
    cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
    assert {"session", "suprata_staff"} <= set(cookies)
    for header in cookies.values():
        assert "; Secure" in header and "; HttpOnly" in header and "SameSite=Lax" in header, header
