"""Who is told about each event and how: the business's choices per event, the customer's narrowing, the
fan-out to email and text, the console's Notifications page and the text-message editor."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.models import Customer, CustomerEmail, CustomerPhone, OutboxMessage
from core.notifications.events import (
    NotificationSettingError,
    customer_choices,
    event_choice,
    notify_event,
    save_customer_choice,
    save_event_choice,
)
from core.notifications.sms_text import sms_length
from core.tenancy import business_context, utcnow
from core.testing.helpers import sign_in_staff, submit_form
from core.testing.records import switch_plugin

REMINDER = {"customer_name": "Ann Lee", "job_title": "Boiler check", "starts_at": "2026-07-03T13:00:00+00:00"}


@pytest.fixture
def acme(make_business):
    return make_business("acme", plugins=["sms_twilio"], name="Acme Plumbing", timezone="America/New_York")


@pytest.fixture
def ann(app, db, acme) -> int:
    with app.app_context(), business_context(acme.id):
        customer = Customer(name="Ann Lee", emails=[CustomerEmail(email="ann@example.test", is_primary=True)],
                            phones=[CustomerPhone(number="+12125550142", verified_at=utcnow())])
        db.session.add(customer)
        db.session.commit()
        return customer.id


def queued(app, db, business, key, customer_id=None, **kwargs) -> list[tuple[str, str, str]]:
    with app.app_context(), business_context(business.id):
        customer = db.session.get(Customer, customer_id) if customer_id else None
        messages = notify_event(key, customer=customer, context=REMINDER, **kwargs)
        db.session.commit()
        return [(m.template_key, m.channel, m.recipient) for m in messages]


def test_the_defaults_tell_the_customer_by_email_and_text(app, db, acme, ann):
    assert queued(app, db, acme, "appointment_reminder", ann) == [
        ("appointment_reminder", "email", "ann@example.test"),
        ("appointment_reminder_sms", "sms", "+12125550142")]


def test_no_text_while_the_sms_plugin_is_off_or_the_number_is_unverified_or_stopped(app, db, acme, ann):
    switch_plugin(app, acme, "sms_twilio", on=False)
    assert [c for _, c, _ in queued(app, db, acme, "appointment_reminder", ann)] == ["email"]
    switch_plugin(app, acme, "sms_twilio", on=True)
    for change in ({"sms_opted_out_at": utcnow()}, {"sms_opted_out_at": None, "verified_at": None}):
        with app.app_context(), business_context(acme.id):
            phone = db.session.scalar(select(CustomerPhone))
            for name, value in change.items():
                setattr(phone, name, value)
            db.session.commit()
        assert [c for _, c, _ in queued(app, db, acme, "appointment_reminder", ann)] == ["email"]


def test_the_business_chooses_channels_and_records_stay_by_email(app, db, acme, ann):
    with app.app_context(), business_context(acme.id):
        save_event_choice("appointment_reminder", customer=["sms"], business=[])
        choice = save_event_choice("invoice_sent", customer=[], business=["email"])
        db.session.commit()
        assert choice.customer_channels == ("email",)  # a record: the email to the customer stays
        with pytest.raises(NotificationSettingError, match="cannot be told by sms"):
            save_event_choice("invoice_sent", customer=["sms"], business=[])
        with pytest.raises(NotificationSettingError, match="choose a number from 1 to 168"):
            save_event_choice("appointment_reminder", customer=["sms"], business=[], option=0)
    assert [c for _, c, _ in queued(app, db, acme, "appointment_reminder", ann)] == ["sms"]
    assert queued(app, db, acme, "invoice_sent", ann) == [
        ("invoice_sent", "email", "ann@example.test"), ("invoice_sent_staff", "email", "billing@acme.test")]


def test_the_customer_narrows_what_the_business_offers(app, db, acme, ann):
    with app.app_context(), business_context(acme.id):
        save_customer_choice(ann, "appointment_reminder", ["sms"])
        save_customer_choice(ann, "payment_captured", [])  # a receipt is a record: still emailed
        db.session.commit()
        offered = {c.event.key: (c.offered, c.chosen) for c in customer_choices(ann)}
    assert offered["appointment_reminder"] == (("email", "sms"), ("sms",))
    assert offered["payment_captured"] == (("email",), ("email",))
    assert "invoice_viewed" not in offered  # the customer is never told of that one
    assert [c for _, c, _ in queued(app, db, acme, "appointment_reminder", ann)] == ["sms"]


def test_audiences_limit_who_is_told(app, db, acme, ann):
    assert queued(app, db, acme, "ticket_replied", ann, audiences=("customer",)) == [
        ("ticket_replied", "email", "ann@example.test")]
    assert queued(app, db, acme, "ticket_replied", ann, audiences=("business",)) == [
        ("ticket_replied_staff", "email", "office@acme.test")]


def test_email_sends_the_customers_email_elsewhere_or_tells_an_address_with_no_record(app, db, acme, ann):
    assert queued(app, db, acme, "appointment_reminder", ann, email="ann.work@example.test") == [
        ("appointment_reminder", "email", "ann.work@example.test"),
        ("appointment_reminder_sms", "sms", "+12125550142")]
    # No record: email alone (no number to text), and only while the business has email on for customers.
    assert queued(app, db, acme, "appointment_reminder", email="visitor@example.test") == [
        ("appointment_reminder", "email", "visitor@example.test")]
    with app.app_context(), business_context(acme.id):
        save_event_choice("appointment_reminder", customer=["sms"], business=[])
        db.session.commit()
    assert queued(app, db, acme, "appointment_reminder", email="visitor@example.test") == []


def test_the_notifications_page_saves_the_choices(app, client, db, acme, ann):
    sign_in_staff(app, client, acme, role="owner")
    page = client.get("/b/acme/console/notifications").get_data(as_text=True)
    assert "Appointment reminder" in page and "(always: a record)" in page
    answer = submit_form(client, "/b/acme/console/notifications", {
        "appointment_reminder-customer": ["sms"], "appointment_reminder-option": "48",
        "invoice_reminder-customer": ["email", "sms"], "invoice_viewed-business": ["email"],
        "payment_failed-customer": ["email"], "payment_failed-business": ["email"],
    })
    assert answer.status_code == 302
    with app.app_context(), business_context(acme.id):
        reminder = event_choice("appointment_reminder")
        assert (reminder.customer_channels, reminder.option_value) == (("sms",), 48)
        assert event_choice("invoice_reminder").customer_channels == ("email", "sms")
        assert event_choice("invoice_viewed").business_channels == ("email",)
        assert event_choice("invoice_sent").customer_channels == ("email",)
        assert event_choice("ticket_submitted").business_channels == ()  # unticked


def test_the_notifications_page_refuses_a_bad_lead_time(app, client, acme):
    sign_in_staff(app, client, acme, role="owner")
    answer = submit_form(client, "/b/acme/console/notifications", {"appointment_reminder-option": "soon"})
    assert answer.status_code == 400
    assert "appointment_reminder: enter a whole number." in answer.get_data(as_text=True)


@pytest.mark.parametrize(("text", "encoding", "length", "segments"), [
    ("Your appointment is at 3pm.", "GSM-7", 27, 1),
    ("x" * 160, "GSM-7", 160, 1),
    ("x" * 161, "GSM-7", 161, 2),
    ("€" * 80, "GSM-7", 160, 1),  # the extension set counts twice
    ("Café 🙂", "UCS-2", 7, 1),  # an emoji outside the BMP counts twice
    ("“quoted”" + "x" * 62, "UCS-2", 70, 1),
    ("“quoted”" + "x" * 63, "UCS-2", 71, 2),
    ("é" * 307, "GSM-7", 307, 3),  # 153 a segment once split
])
def test_sms_length_and_segments(text, encoding, length, segments):
    measured = sms_length(text)
    assert (measured.encoding, measured.length, measured.segments) == (encoding, length, segments)


def test_the_sms_editor_shows_length_and_segments_for_gsm7_and_ucs2(app, client, acme):
    sign_in_staff(app, client, acme, role="admin")
    url = "/b/acme/console/settings/notifications/appointment_reminder_sms"
    page = client.get(url).get_data(as_text=True)
    assert "Subject" not in page and "HTML body" not in page
    assert re.search(r"<strong>\d+</strong> characters in GSM-7 · <strong>1</strong> segment\b", page)
    answer = submit_form(client, url, {"text": "{{ business.name }}: see you soon 🙂 " + "x" * 60,
                                       "preview": "Preview"}).get_data(as_text=True)
    assert "characters in UCS-2 · <strong>2</strong> segments" in answer
    assert "makes the whole text UCS-2" in answer


def test_text_templates_are_listed_only_while_a_channel_sends_texts(app, client, acme):
    sign_in_staff(app, client, acme, role="admin")
    assert "appointment_reminder_sms" in client.get("/b/acme/console/settings/notifications").get_data(
        as_text=True)
    switch_plugin(app, acme, "sms_twilio", on=False)
    assert "appointment_reminder_sms" not in client.get("/b/acme/console/settings/notifications").get_data(
        as_text=True)
    assert client.get("/b/acme/console/settings/notifications/appointment_reminder_sms").status_code == 404


@pytest.mark.parametrize(("source", "texted"), [("autopay", True), ("staff", False)])
def test_a_failed_charge_tells_customer_and_billing_inbox(app, db, acme, ann, source, texted):
    """The autopay-failed nudge: email and text with the pay link to the customer, email to billing; no text
    about a charge staff made with the customer on the phone."""
    from core.money.payments.emails import queue_failure_notices
    from core.testing.records import issue_invoice

    invoice = issue_invoice(app, acme, customer_id=ann)
    with app.app_context(), business_context(acme.id):
        from core.models import Invoice, Payment

        row = db.session.get(Invoice, invoice.id)
        payment = Payment(invoice_id=row.id, customer_id=ann, processor="sandbox", amount=row.amount_due,
                          currency="USD", source=source, status="failed")
        db.session.add(payment)
        db.session.flush()
        queue_failure_notices(payment, row, "expired_card")
        db.session.commit()
        sent = {m.template_key: m for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template_key.like("payment_failed%")))}
    expected = {"payment_failed", "payment_failed_staff"} | ({"payment_failed_text"} if texted else set())
    assert set(sent) == expected
    if texted:
        assert sent["payment_failed_text"].recipient == "+12125550142"
        assert "/pay/" in sent["payment_failed_text"].context["pay_url"]
    assert sent["payment_failed_staff"].context["customer_told"] is True
