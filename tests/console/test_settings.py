"""Business settings: validated fields, the email sender, policies, and a logo checked by its content."""

from __future__ import annotations

import io
import re

import pytest
from werkzeug.test import EnvironBuilder

from core.extensions import db as _db
from core.models import AuditEntry, Business
from core.notifications.outbox import deliver_due, enqueue
from core.tenancy import business_context
from core.testing.helpers import csrf_token_from, submit_form

SETTINGS = "/b/acme/console/settings"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64


def _valid(**fields) -> dict:
    return {
        "name": "Acme Plumbing & Heating",
        "email": "office@acme.test",
        "phone": "+1 555 010 2000",
        "address": "12 Main St",
        "billing_email": "billing@acme.test",
        "mail_from_name": "Acme Billing",
        "mail_from_address": "billing@acme.test",
        "reply_to": "office@acme.test",
        "timezone": "America/Chicago",
        "currency": "cad",
        "locale": "en_CA",
        "brand_color": "#AA3300",
        "accent_color": "#112233",
        "theme": "default",
        "invoice_prefix": "AC-",
        "unknown_signup_policy": "queue",
        "self_registration": "y",
        "duplicate_payments": "hold",
        "tax_rounding": "line",
        **fields,
    }


def _business(app, db, business) -> Business:
    with app.app_context():
        row = db.session.get(Business, business.id)
        _ = row.logo
        db.session.expunge(row)
        return row


def _upload(client, data: dict):
    """POST the settings form with a file, like a browser; the request body is closed afterwards."""
    token = csrf_token_from(client.get(SETTINGS).get_data(as_text=True))
    environ = EnvironBuilder(path=SETTINGS, method="POST", data={"csrf_token": token, **data}).get_environ()
    try:
        return client.open(environ)
    finally:
        environ["wsgi.input"].close()  # werkzeug spools large bodies to a temporary file it leaves open


def test_settings_are_saved_and_used_at_once(app, db, acme, console):
    response = submit_form(console, SETTINGS, _valid())
    assert response.status_code == 302
    saved = _business(app, db, acme)
    assert (saved.name, saved.timezone, saved.currency, saved.locale, saved.brand_color,
            saved.invoice_prefix) == ("Acme Plumbing & Heating", "America/Chicago", "CAD", "en_CA", "#aa3300",
                                      "AC-")
    assert saved.mail_from == "Acme Billing <billing@acme.test>"
    assert saved.policies == {
        "autopay_kinds": [],
        "autopay_retry_days": [],
        "reminder_days": [],
        "duplicate_payments": "hold",
        "invite_after_payment": False,
        "self_registration": True,
        "tax_rounding": "line",
        "unknown_signup_policy": "queue",
        "login_to_pay": False,
        "verify_public_tickets": False,
    }
    page = console.get(SETTINGS).get_data(as_text=True)
    assert "Acme Plumbing &amp; Heating · Console" in page
    assert 'value="Acme Billing"' in page and 'value="billing@acme.test"' in page
    assert "--brand: #aa3300" in page


def test_the_locale_decides_how_money_and_dates_are_written(app, db, acme, console, in_business):
    page = console.get(SETTINGS).get_data(as_text=True)
    assert '<option selected value="en_US">English (United States)</option>' in page
    assert "Amounts and dates are written like this: $1,234.56 · Mar 14, 2026." in page

    assert submit_form(console, SETTINGS, _valid(currency="eur", locale="fr_FR")).status_code == 302

    page = console.get(SETTINGS).get_data(as_text=True)
    assert "Amounts and dates are written like this: 1\u202f234,56\xa0€ · 14 mars 2026." in page


def test_emails_carry_the_sender_and_reply_address_set_here(app, acme, console, mailbox):
    submit_form(console, SETTINGS, _valid(mail_from_name="Acme Billing, Inc.", reply_to="help@acme.test"))
    with app.app_context(), business_context(acme.id):
        enqueue(
            "staff_password_changed",
            to="dana@acme.test",
            context={"staff_name": "Dana", "changed_at": "2026-07-02T15:04:00+00:00"},
        )
        _db.session.commit()
        deliver_due()
    [email] = mailbox.wait_for(1)
    assert email["From"].addresses[0].display_name == "Acme Billing, Inc."
    assert email["From"].addresses[0].addr_spec == "billing@acme.test"
    assert email["Reply-To"] == "help@acme.test"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"timezone": "Mars/Olympus_Mons"}, "Choose a time zone from the IANA list"),
        ({"timezone": "../../etc/passwd"}, "Choose a time zone from the IANA list"),
        ({"currency": "dollars"}, "Use the three-letter ISO 4217 code"),
        ({"brand_color": "blue"}, "Use a colour like #1f6feb."),
        ({"accent_color": "#12345"}, "Use a colour like #1f6feb."),
        ({"invoice_prefix": "INV <1>"}, "Use letters, digits"),
        ({"email": "office at acme"}, "Enter a valid email."),
        ({"theme": "no-such-theme"}, "Not a valid choice."),
        ({"locale": "xx_YY"}, "Not a valid choice."),
        ({"unknown_signup_policy": "allow"}, "Not a valid choice."),
        ({"duplicate_payments": "keep"}, "Not a valid choice."),
    ],
)
def test_invalid_settings_are_shown_on_the_form(app, db, acme, console, fields, message):
    response = submit_form(console, SETTINGS, _valid(**fields))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _business(app, db, acme).name == "Acme Plumbing"


@pytest.mark.parametrize(("data", "mime"), [(PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp")])
def test_a_logo_is_stored_with_the_type_its_content_shows(app, db, acme, console, data, mime):
    response = _upload(console, _valid(logo=(io.BytesIO(data), "logo.gif")))
    assert response.status_code == 302
    logo = console.get("/b/acme/logo")
    assert (logo.data, logo.mimetype) == (data, mime)
    assert "Remove the current logo" in console.get(SETTINGS).get_data(as_text=True)

    submit_form(console, SETTINGS, _valid(remove_logo="y"))
    assert console.get("/b/acme/logo").status_code == 404


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "logo.svg",
            "Upload a PNG, JPEG or WebP image.",
        ),
        (b"<html><script>alert(1)</script></html>", "logo.png", "Upload a PNG, JPEG or WebP image."),
        (PNG + b"\x00" * (1024 * 1024), "big.png", "The logo must be 1 MB or smaller."),
    ],
)
def test_logos_are_checked_by_content_and_size(app, db, acme, console, data, name, message):
    response = _upload(console, _valid(logo=(io.BytesIO(data), name)))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _business(app, db, acme).logo is None


def test_a_new_logo_is_a_new_address_shown_at_once_in_the_console_and_to_customers(app, db, acme, console):
    pattern = re.compile(r'src="(/b/acme/logo\?v=[0-9a-f]{16})"')
    _upload(console, _valid(logo=(io.BytesIO(PNG), "first.png")))
    first = pattern.search(console.get(SETTINGS).get_data(as_text=True)).group(1)
    assert pattern.search(console.get("/b/acme/").get_data(as_text=True)).group(1) == first
    assert "immutable" in console.get(first).headers["Cache-Control"]

    _upload(console, _valid(logo=(io.BytesIO(JPEG), "second.jpg")))
    second = pattern.search(console.get("/b/acme/console/").get_data(as_text=True)).group(1)
    assert second != first
    assert pattern.search(console.get("/b/acme/").get_data(as_text=True)).group(1) == second
    assert console.get(second).data == JPEG


@pytest.mark.parametrize(("fields", "message"), [
    ({"brand_color": "#ffd600"}, "White text (the header and buttons) on #ffd600 is hard to read: the "
                                 "contrast is 1.4:1 and at least 4.5:1 is needed (WCAG AA). Try #8a7400, the "
                                 "same colour darker."),
    ({"accent_color": "#ea580c"}, "Links and white text on #ea580c is hard to read"),
])
def test_a_brand_colour_that_text_cannot_be_read_on_is_refused(app, db, acme, console, fields, message):
    response = submit_form(console, SETTINGS, _valid(**fields))
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert _business(app, db, acme).name == "Acme Plumbing"


def test_the_audit_trail_says_what_changed(app, db, acme, console):
    submit_form(console, SETTINGS, _valid())
    submit_form(console, SETTINGS, _valid(phone="+1 555 010 2999"))
    with app.app_context(), business_context(acme.id):
        entry = _db.session.scalars(_db.select(AuditEntry)
                                    .where(AuditEntry.action == "business.settings_changed")
                                    .order_by(AuditEntry.id.desc())).first()
    assert entry.details == {"phone": "+1 555 010 2000 → +1 555 010 2999"}
    assert "phone: +1 555 010 2000 → +1 555 010 2999" in console.get("/b/acme/console/audit").get_data(
        as_text=True)
def test_autopay_and_reminder_settings_are_saved_and_bad_days_explained(app, db, acme, console):
    response = submit_form(console, SETTINGS, _valid(autopay_kinds=["subscription", "recurring_rental"],
                                                     autopay_retry_days="7, 1,3", reminder_days="14, -3, 1",
                                                     card_expiry_notice_days="21"))
    assert response.status_code == 302
    business = _business(app, db, acme)
    assert business.policy("autopay_kinds") == ["subscription", "recurring_rental"]
    assert business.policy("autopay_retry_days") == [1, 3, 7]
    assert business.policy("card_expiry_notice_days") == 21
    assert business.policy("reminder_days") == [-3, 1, 14]
    page = console.get(SETTINGS).get_data(as_text=True)
    assert 'value="1, 3, 7"' in page and 'value="-3, 1, 14"' in page
    assert "has not completed a live payment yet" in page

    refused = submit_form(console, SETTINGS, _valid(autopay_retry_days="1, soon", reminder_days="400"))
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "Write whole numbers of days separated by commas" in text
    assert "between -60 and 365" in text
