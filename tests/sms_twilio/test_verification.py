"""A phone is verified with a six-digit code texted to it: stored hashed, valid ten minutes, single use, five
tries, resends limited; started by staff from the customer record or by the customer on their page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.plugin_api import CustomerPhone, business_context, db, utcnow
from core.testing.background import run_background_work
from core.testing.helpers import csrf_token_from, sign_in_customer, sign_in_staff, sql_statements
from plugins.sms_twilio.models import SmsVerification

UNVERIFIED = "+12125550143"  # Ann's home number (see conftest.py)


def post(client, page_url: str, action: str, data: dict | None = None):
    """Post a form of ``page_url`` to ``action`` with the page's CSRF token, following the redirect."""
    token = csrf_token_from(client.get(page_url).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **(data or {})}, follow_redirects=True)


def age_codes(app, business, by: timedelta, *, expire: bool = False) -> None:
    """Move every code ``by`` into the past (and past its expiry, with ``expire``)."""
    with app.app_context(), business_context(business.id):
        for row in db.session.scalars(select(SmsVerification)):
            row.created_at -= by
            row.expires_at = row.created_at - timedelta(seconds=1) if expire else row.expires_at - by
        db.session.commit()


def texted_code(app, twilio) -> str:
    run_background_work(app)
    return re.search(r"code is (\d{6})", twilio.messages[-1].body)[1]


@pytest.fixture
def staff_page(app, client, acme, ann, phone_of):
    sign_in_staff(app, client, acme, role="support")
    return f"/b/acme/console/customers/{ann}", phone_of(acme, UNVERIFIED).id


def test_staff_verify_a_phone_with_the_code_the_customer_reads_out(app, client, acme, twilio, staff_page,
                                                                  phone_of):
    page, phone_id = staff_page
    answer = post(client, page, f"/b/acme/console/texts/phones/{phone_id}/code").get_data(as_text=True)
    assert f"A code is on its way to {UNVERIFIED}" in answer
    code = texted_code(app, twilio)
    assert twilio.messages[-1].to == UNVERIFIED
    assert twilio.messages[-1].body.startswith("Acme Plumbing: your verification code is")

    answer = post(client, page, f"/b/acme/console/texts/phones/{phone_id}/verify", {"code": code})
    assert f"{UNVERIFIED} is verified." in answer.get_data(as_text=True)
    assert phone_of(acme, UNVERIFIED).verified_at is not None


def test_the_code_is_stored_only_as_a_keyed_hash(app, client, acme, twilio, staff_page):
    page, phone_id = staff_page
    post(client, page, f"/b/acme/console/texts/phones/{phone_id}/code")
    code = texted_code(app, twilio)
    with app.app_context(), business_context(acme.id):
        [row] = db.session.scalars(select(SmsVerification)).all()
        assert code not in row.code_hash and len(row.code_hash) == 64
        assert row.expires_at - row.created_at == timedelta(minutes=10)


def test_a_code_works_once(app, client, acme, twilio, staff_page, phone_of, in_business):
    page, phone_id = staff_page
    post(client, page, f"/b/acme/console/texts/phones/{phone_id}/code")
    code = texted_code(app, twilio)
    post(client, page, f"/b/acme/console/texts/phones/{phone_id}/verify", {"code": code})
    with in_business(acme):  # unverified again, by staff unticking the box, say
        db.session.get(CustomerPhone, phone_id).verified_at = None
        db.session.commit()
    answer = post(client, page, f"/b/acme/console/texts/phones/{phone_id}/verify", {"code": code})
    assert "That code has expired or was used already" in answer.get_data(as_text=True)
    assert phone_of(acme, UNVERIFIED).verified_at is None


def test_an_expired_code_is_refused(app, client, acme, twilio, staff_page, phone_of):
    page, phone_id = staff_page
    post(client, page, f"/b/acme/console/texts/phones/{phone_id}/code")
    code = texted_code(app, twilio)
    age_codes(app, acme, timedelta(0), expire=True)
    answer = post(client, page, f"/b/acme/console/texts/phones/{phone_id}/verify", {"code": code})
    assert "That code has expired" in answer.get_data(as_text=True)
    assert phone_of(acme, UNVERIFIED).verified_at is None


def test_five_wrong_tries_use_the_code_up(app, client, acme, twilio, staff_page, phone_of):
    page, phone_id = staff_page
    post(client, page, f"/b/acme/console/texts/phones/{phone_id}/code")
    code = texted_code(app, twilio)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answers = [post(client, page, f"/b/acme/console/texts/phones/{phone_id}/verify", {"code": wrong})
               .get_data(as_text=True) for _ in range(5)]
    assert "That code is not right. 4 tries left." in answers[0]
    assert "That code is not right. Ask for a new one." in answers[4]
    answer = post(client, page, f"/b/acme/console/texts/phones/{phone_id}/verify", {"code": code})
    assert "Too many wrong codes. Ask for a new one." in answer.get_data(as_text=True)
    assert phone_of(acme, UNVERIFIED).verified_at is None


def test_resends_are_limited(app, client, acme, twilio, staff_page):
    page, phone_id = staff_page
    post(client, page, f"/b/acme/console/texts/phones/{phone_id}/code")
    answer = post(client, page, f"/b/acme/console/texts/phones/{phone_id}/code").get_data(as_text=True)
    assert "A code was sent less than a minute ago" in answer
    with app.app_context(), business_context(acme.id):
        for _ in range(4):  # four more codes earlier in the hour
            db.session.add(SmsVerification(phone_id=phone_id, code_hash="x" * 64, started_by="staff",
                                           attempts=0, created_at=utcnow(), expires_at=utcnow()))
        db.session.commit()
    age_codes(app, acme, timedelta(minutes=5))
    answer = post(client, page, f"/b/acme/console/texts/phones/{phone_id}/code").get_data(as_text=True)
    assert "Too many codes were sent to this number in the last hour" in answer
    run_background_work(app)
    assert len(twilio.messages) == 1


def test_a_newer_code_replaces_the_older(app, client, acme, twilio, staff_page, phone_of):
    page, phone_id = staff_page
    post(client, page, f"/b/acme/console/texts/phones/{phone_id}/code")
    first = texted_code(app, twilio)
    age_codes(app, acme, timedelta(minutes=2))
    post(client, page, f"/b/acme/console/texts/phones/{phone_id}/code")
    second = texted_code(app, twilio)
    if first != second:
        answer = post(client, page, f"/b/acme/console/texts/phones/{phone_id}/verify", {"code": first})
        assert "That code is not right" in answer.get_data(as_text=True)
    post(client, page, f"/b/acme/console/texts/phones/{phone_id}/verify", {"code": second})
    assert phone_of(acme, UNVERIFIED).verified_at is not None


def test_no_code_goes_to_a_number_that_texted_stop(app, client, acme, twilio, staff_page, in_business,
                                                   phone_of):
    page, phone_id = staff_page
    with in_business(acme):
        db.session.get(CustomerPhone, phone_id).sms_opted_out_at = utcnow()
        db.session.commit()
    answer = post(client, page, f"/b/acme/console/texts/phones/{phone_id}/code").get_data(as_text=True)
    assert "the customer texted STOP" in answer
    run_background_work(app)
    assert twilio.messages == []


# -- the customer's side ------------------------------------------------------------------------------------


PORTAL = "/b/acme/texts/"


def test_a_customer_adds_and_verifies_a_number(app, client, acme, twilio, add_customer, phone_of):
    customer_id = add_customer(acme, "Pat Jones", email="pat@example.com")
    sign_in_customer(app, client, acme, customer_id, email="pat@example.com")
    answer = post(client, PORTAL, f"{PORTAL}phones", {"number": "(646) 555-0155"}).get_data(as_text=True)
    assert "We texted a code to +16465550155. Enter it below." in answer
    code = texted_code(app, twilio)
    phone = phone_of(acme, "+16465550155")
    assert phone.customer_id == customer_id and phone.verified_at is None
    answer = post(client, PORTAL, f"{PORTAL}phones/{phone.id}/verify", {"code": code}).get_data(as_text=True)
    assert "+16465550155 is verified." in answer and "badge-on" in answer


@pytest.mark.parametrize(("typed", "message"), [
    ("12345", "12345 is not a valid phone number: check the digits and the country code."),
    ("+1 555 010 9999", "+1 555 010 9999 is not a valid phone number"),
    ("my cell", "Enter a phone number like (201) 555-0123, or with its country code."),
])
def test_an_invalid_number_is_refused_where_it_is_typed(app, client, acme, twilio, add_customer, typed,
                                                        message):
    customer_id = add_customer(acme, "Pat Jones", email="pat@example.com")
    sign_in_customer(app, client, acme, customer_id, email="pat@example.com")
    answer = post(client, PORTAL, f"{PORTAL}phones", {"number": typed}).get_data(as_text=True)
    assert message in answer
    run_background_work(app)
    assert twilio.messages == []


def test_a_customer_cannot_take_anothers_number_or_use_their_phone(app, client, acme, ann, twilio,
                                                                  add_customer, phone_of):
    customer_id = add_customer(acme, "Pat Jones", email="pat@example.com")
    sign_in_customer(app, client, acme, customer_id, email="pat@example.com")
    answer = post(client, PORTAL, f"{PORTAL}phones", {"number": UNVERIFIED}).get_data(as_text=True)
    assert "This number cannot be added to your account" in answer
    anns = phone_of(acme, UNVERIFIED).id
    token = csrf_token_from(client.get(PORTAL).get_data(as_text=True))
    assert client.post(f"{PORTAL}phones/{anns}/code", data={"csrf_token": token}).status_code == 404
    assert client.post(f"{PORTAL}phones/{anns}/verify", data={"csrf_token": token, "code": "1"}
                       ).status_code == 404
    run_background_work(app)
    assert twilio.messages == []


def test_the_customer_page_needs_a_customer_login(client, acme):
    assert client.get(PORTAL).status_code in (302, 401)


def test_a_customer_chooses_their_channels(app, client, acme, ann, twilio):
    sign_in_customer(app, client, acme, ann, email="ann@example.test")
    page = client.get(PORTAL).get_data(as_text=True)
    assert 'name="appointment_reminder" value="sms"' in page
    assert "Invoice sent" in page and "(always)" in page
    answer = post(client, PORTAL, f"{PORTAL}channels", {"appointment_reminder": "email",
                                                          "invoice_sent": []})
    assert "Your choices are saved." in answer.get_data(as_text=True)
    page = client.get(PORTAL).get_data(as_text=True)
    assert re.search(r'name="appointment_reminder" value="sms"\s*>', page)  # no longer checked
    assert re.search(r'name="invoice_sent" value="email" checked disabled', page)  # records stay by email


def test_the_customer_page_runs_the_same_queries_whatever_the_phones(app, client, acme, add_customer):
    customer_id = add_customer(acme, "Pat Jones", verified=["+12125550161"], email="pat@example.com")
    sign_in_customer(app, client, acme, customer_id, email="pat@example.com")

    def count() -> int:
        with sql_statements(app) as statements:
            assert client.get(PORTAL).status_code == 200
        return len(statements)

    few = count()
    with app.app_context(), business_context(acme.id):
        for i in range(10):
            db.session.add(CustomerPhone(customer_id=customer_id, number=f"+1212555{i + 170:04d}"))
        db.session.commit()
    assert count() == few
