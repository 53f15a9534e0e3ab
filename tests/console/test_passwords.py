"""Passwords that are easy to guess are refused wherever a password is set, with a message saying why."""

from __future__ import annotations

import pytest

from core.identity.passwords import password_problem
from core.testing.helpers import login_staff, submit_form


@pytest.mark.parametrize("password, why", [
    ("password123", "This is a very common password."),
    ("12345678", "This is a top-10 common password."),
    ("qwertyuiop", "This is a top-100 common password."),
    ("Password1!", "This is similar to a commonly used password."),
])
def test_common_passwords_are_refused_with_why(password, why):
    problem = password_problem(password)
    assert problem.startswith("This password is too easy to guess.") and why in problem


def test_the_account_s_own_words_make_a_password_guessable():
    assert password_problem("AcmePlumbing") is None
    problem = password_problem("AcmePlumbing", ("dana@acme.test", "Dana Ortiz", "Acme Plumbing"))
    assert "It is built from your name, email or business name." in problem


LONG = "our van broke down near the lighthouse so we walked the last nine miles with the tools " * 11


@pytest.mark.parametrize("password", ["correct horse battery", "a fresh passphrase", LONG[:1024]])
def test_passphrases_and_long_passwords_pass(password):
    assert password_problem(password) is None


def test_changing_one_s_password_refuses_a_common_one(console, password):
    response = submit_form(console, "/b/acme/console/password", {
        "current_password": password, "new_password": "password123", "confirm_password": "password123"})
    assert response.status_code == 400
    assert "This password is too easy to guess. This is a very common password." in response.get_data(
        as_text=True)


def test_a_password_link_refuses_the_business_s_name(app, acme, staff, client, password):
    from core.console.auth import send_password_link
    from core.extensions import db
    from core.models import OutboxMessage, StaffUser
    from core.tenancy import business_context

    with app.app_context(), business_context(acme.id):
        send_password_link(db.session.get(StaffUser, staff.id), "reset")
        db.session.commit()
        link = db.session.scalar(db.select(OutboxMessage)).context["set_password_url"]
    path = "/" + link.split("/", 3)[3]
    response = submit_form(client, path, {"new_password": "AcmePlumbing", "confirm_password": "AcmePlumbing"})
    assert response.status_code == 400
    assert "built from your name, email or business name" in response.get_data(as_text=True)
    assert login_staff(client, acme, password=password).status_code == 302  # the old password still works


def test_create_staff_refuses_a_common_password(app, acme):
    result = app.test_cli_runner().invoke(args=[
        "suprata", "create-staff", "--business", "acme", "--email", "lee@acme.test", "--name", "Lee",
        "--password-stdin"], input="12345678\n")
    assert result.exit_code != 0 and "This is a top-10 common password." in result.output
