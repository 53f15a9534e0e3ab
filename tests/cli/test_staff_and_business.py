"""`suprata create-business` and `suprata create-staff`."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.extensions import db
from core.identity.passwords import verify_password
from core.models import Business, PluginState, StaffUser


def invoke(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=["suprata", *args], input=input)


def staff_of(app, in_business, business) -> list[StaffUser]:
    with in_business(business):
        return db.session.scalars(select(StaffUser)).all()


def test_create_staff_reads_the_password_from_stdin(app, business, in_business):
    result = invoke(app, "create-staff", "--business", "acme", "--email", " Lee@Acme.TEST ",
                    "--name", "Lee Park", "--password-stdin", input="a long enough passphrase\n")
    assert result.exit_code == 0, result.output
    [user] = staff_of(app, in_business, business)
    assert user.email == "lee@acme.test" and user.name == "Lee Park"
    assert verify_password(user.password_hash, "a long enough passphrase")


def test_create_staff_asks_for_the_password_twice(app, business, in_business):
    result = invoke(app, "create-staff", "--business", "acme", "--email", "lee@acme.test", "--name", "Lee",
                    input="same passphrase\nsame passphrase\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Password") == 1 and "Repeat for confirmation" in result.output
    [user] = staff_of(app, in_business, business)
    assert verify_password(user.password_hash, "same passphrase")


def test_create_staff_refuses_passwords_that_differ(app, business, in_business):
    result = invoke(app, "create-staff", "--business", "acme", "--email", "lee@acme.test", "--name", "Lee",
                    input="first passphrase\nsecond passphrase\n")
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert staff_of(app, in_business, business) == []


def test_create_staff_refuses_a_short_password(app, business, in_business):
    result = invoke(app, "create-staff", "--business", "acme", "--email", "lee@acme.test", "--name", "Lee",
                    "--password-stdin", input="short\n")
    assert result.exit_code != 0
    assert "at least 8 characters" in result.output
    assert staff_of(app, in_business, business) == []


def test_create_staff_refuses_a_second_login_with_the_same_email(app, business, in_business):
    args = ("create-staff", "--business", "acme", "--email", "lee@acme.test", "--name", "Lee",
            "--password-stdin")
    assert invoke(app, *args, input="first passphrase\n").exit_code == 0
    result = invoke(app, *args, input="second passphrase\n")
    assert result.exit_code != 0 and "already a staff member" in result.output
    assert len(staff_of(app, in_business, business)) == 1


def test_create_staff_needs_an_existing_business(app, db):
    result = invoke(app, "create-staff", "--business", "nowhere", "--email", "a@b.test", "--name", "A",
                    "--password-stdin", input="a long enough passphrase\n")
    assert result.exit_code != 0 and "No business with the slug 'nowhere'" in result.output


def test_create_business_switches_on_the_chosen_plugins(app, db, in_business):
    result = invoke(app, "create-business", "bayside", "--name", "Bayside Electric", "--timezone",
                    "America/Chicago", "--currency", "usd", "--plugin", "portal")
    assert result.exit_code == 0, result.output
    with app.app_context():
        business = db.session.scalar(select(Business).where(Business.slug == "bayside"))
        created = (business.name, business.timezone, business.currency, business.locale)
    assert created == ("Bayside Electric", "America/Chicago", "USD", "en_US")
    with in_business(business):
        states = db.session.scalars(select(PluginState)).all()
        assert [(s.plugin_name, s.enabled) for s in states] == [("portal", True)]


def test_create_business_rejects_bad_input(app, db):
    def output(*args: str) -> str:
        return invoke(app, "create-business", *args).output

    assert "lower-case letters" in output("Bad Slug", "--name", "X")
    assert "Unknown time zone" in output("x", "--name", "X", "--timezone", "Mars/Base")
    assert "three-letter ISO code" in output("x", "--name", "X", "--currency", "dollars")
    assert "Not installed: nope" in output("x", "--name", "X", "--plugin", "nope")
    assert "Unknown locale 'fr_US'" in output("x", "--name", "X", "--locale", "fr_US")
    output("taken", "--name", "First")
    assert "exists already" in output("taken", "--name", "Second")


@pytest.mark.parametrize(("options", "locale"), [
    (["--timezone", "America/Toronto"], "en_CA"),
    (["--timezone", "Europe/Paris"], "fr_FR"),
    (["--timezone", "UTC"], "en_US"),
    (["--timezone", "America/Toronto", "--locale", "fr_CA"], "fr_CA"),
])
def test_a_new_business_writes_money_and_dates_as_its_country_does(app, db, options, locale):
    result = invoke(app, "create-business", "north", "--name", "North Plumbing", *options)
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(Business.locale).where(Business.slug == "north")) == locale
