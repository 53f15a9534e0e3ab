"""Texts go through the real ``twilio`` SDK to the local stand-in, only to verified numbers that have not
opted out, with a status callback address per message; Twilio's refusals and outages are handled as the
outbox promises."""

from __future__ import annotations

from datetime import timedelta

from core.plugin_api import Customer, business_context, db, notify, notify_event, save_customer_choice
from core.testing.background import run_background_work
from core.testing.twilio_server import PHONE_NUMBER

VERIFIED, UNVERIFIED = "+12125550142", "+12125550143"  # Ann's (see conftest.py)

REMINDER = {"customer_name": "Ann Lee", "job_title": "Water heater flush",
            "starts_at": "2026-07-03T13:00:00+00:00"}


def remind(app, business, customer_id: int) -> list:
    """Queue an appointment reminder as the reminder job does; returns the channels it was queued on."""
    with app.app_context(), business_context(business.id):
        customer = db.session.get(Customer, customer_id)
        messages = notify_event("appointment_reminder", customer=customer, context=REMINDER)
        queued = [m.channel for m in messages]
        db.session.commit()
        return queued


def test_a_reminder_reaches_the_verified_number_with_a_status_callback(app, acme, ann, twilio, texts_of):
    assert sorted(remind(app, acme, ann)) == ["email", "sms"]
    run_background_work(app)

    [text] = twilio.messages
    assert (text.to, text.from_) == (VERIFIED, PHONE_NUMBER)
    assert text.body.startswith("Acme Plumbing: reminder of your appointment, Water heater flush,")
    assert text.body.endswith("Reply STOP to opt out.")
    assert text.status_callback == "http://suprata.test/b/acme/sms/status"
    [record] = texts_of(acme)
    assert (record.sid, record.number, record.customer_id) == (text.sid, VERIFIED, ann)
    assert record.status == "queued"


def test_a_customer_without_a_verified_number_is_told_by_email_only(app, acme, twilio, add_customer):
    bo = add_customer(acme, "Bo Diaz", unverified=["+12125550177"], email="bo@example.test")
    assert remind(app, acme, bo) == ["email"]
    run_background_work(app)
    assert twilio.messages == []


def test_a_text_for_an_unverified_number_is_refused_at_delivery(app, acme, ann, twilio):
    with app.app_context(), business_context(acme.id):
        notify("appointment_reminder_sms", to=UNVERIFIED, channel="sms", customer_id=ann, context=REMINDER)
        db.session.commit()
    run_background_work(app)
    assert twilio.messages == []
    assert run_background_work(app, later=timedelta(hours=3)).messages == 0  # failed for good, not retried


def test_the_customer_can_turn_texts_off_for_an_event(app, acme, ann, twilio):
    with app.app_context(), business_context(acme.id):
        save_customer_choice(ann, "appointment_reminder", ["email"])
        db.session.commit()
    assert remind(app, acme, ann) == ["email"]


def test_twilio_refusing_an_opted_out_number_marks_it_and_never_retries(app, acme, ann, twilio, phone_of):
    twilio.opt_out(VERIFIED)  # STOP reached Twilio but not us
    remind(app, acme, ann)
    run_background_work(app)

    assert twilio.messages == []
    assert phone_of(acme, VERIFIED).sms_opted_out_at is not None
    assert run_background_work(app, later=timedelta(hours=3)).messages == 0
    assert remind(app, acme, ann) == ["email"]  # the number is no longer texted at all


def test_while_twilio_is_down_the_text_waits_and_goes_later(app, acme, ann, twilio):
    twilio.fail_next(1, status=503)
    twilio.drop_next(1)
    remind(app, acme, ann)
    run_background_work(app)
    assert twilio.messages == []
    run_background_work(app, later=timedelta(minutes=2))  # the first retry meets the dropped connection
    assert twilio.messages == []
    run_background_work(app, later=timedelta(minutes=10))
    assert [m.to for m in twilio.messages] == [VERIFIED]


def test_without_settings_nothing_is_sent_and_the_text_waits(app, make_business, twilio, add_customer):
    bare = make_business("bare", plugins=["sms_twilio"])
    customer_id = add_customer(bare, "Cy Park", verified=[VERIFIED])
    with app.app_context(), business_context(bare.id):
        notify("appointment_reminder_sms", to=VERIFIED, channel="sms", customer_id=customer_id,
               context=REMINDER)
        db.session.commit()
    assert run_background_work(app).messages == 1
    assert twilio.messages == []
    assert run_background_work(app, later=timedelta(minutes=2)).messages == 1  # still waiting, tried again
