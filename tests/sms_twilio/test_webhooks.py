"""Twilio's requests to the app: inbound texts (STOP, START, HELP, words) and delivery reports, each signed
with Twilio's scheme for the business's configured public address. Anything else gets 403 and changes
nothing."""

from __future__ import annotations

import pytest

from core.plugin_api import Customer, business_context, db, notify_event
from core.testing.background import run_background_work
from core.testing.helpers import sign_in_staff
from core.testing.records import switch_plugin

VERIFIED = "+12125550142"  # Ann's verified mobile (see conftest.py)
INBOUND = "http://suprata.test/b/acme/sms/inbound"
REMINDER = {"customer_name": "Ann Lee", "job_title": "Boiler check", "starts_at": "2026-07-03T13:00:00+00:00"}


def text_in(client, twilio, body: str, *, url: str = INBOUND, tamper: dict | None = None, **kwargs):
    """The customer texts ``body``: Twilio's signed webhook, posted through the test client."""
    webhook = twilio.signed_inbound(VERIFIED, body, url)
    return client.post(webhook.path, data={**webhook.params, **(tamper or {})}, headers=webhook.headers,
                       **kwargs)


def remind(app, business, customer_id):
    with app.app_context(), business_context(business.id):
        notify_event("appointment_reminder", customer=db.session.get(Customer, customer_id), context=REMINDER)
        db.session.commit()
    run_background_work(app)


def timeline(client, app, business, customer_id) -> str:
    sign_in_staff(app, client, business, role="support")
    return client.get(f"/b/{business.slug}/console/customers/{customer_id}").get_data(as_text=True)


def test_stop_stops_the_texts_and_start_brings_them_back(app, client, acme, ann, twilio, phone_of):
    remind(app, acme, ann)
    assert len(twilio.to(VERIFIED)) == 1

    answer = text_in(client, twilio, "Stop")
    assert answer.status_code == 200 and answer.mimetype == "text/xml"
    assert phone_of(acme, VERIFIED).sms_opted_out_at is not None
    remind(app, acme, ann)
    assert len(twilio.to(VERIFIED)) == 1  # nothing more

    assert text_in(client, twilio, "START").status_code == 200
    assert phone_of(acme, VERIFIED).sms_opted_out_at is None
    remind(app, acme, ann)
    assert len(twilio.to(VERIFIED)) == 2


@pytest.mark.parametrize("word", ["STOPALL", "unsubscribe", "Cancel", "END", "quit", "stop."])
def test_every_standard_stop_word_opts_out(app, client, acme, ann, twilio, phone_of, word):
    assert text_in(client, twilio, word).status_code == 200
    assert phone_of(acme, VERIFIED).sms_opted_out_at is not None


@pytest.mark.parametrize("word", ["HELP", "info"])
def test_help_gets_a_reply_saying_who_texts_and_how_to_reach_them(client, acme, ann, twilio, word):
    answer = text_in(client, twilio, word).get_data(as_text=True)
    assert "<Message>Acme Plumbing: texts about your appointments and payments." in answer
    assert "+1 212 555 0100" in answer and "Reply STOP to opt out." in answer


def test_other_words_land_on_the_customer_timeline(app, client, acme, ann, twilio):
    assert text_in(client, twilio, "Running 10 minutes late, sorry").status_code == 200
    assert f"Texted from {VERIFIED}: Running 10 minutes late, sorry" in timeline(client, app, acme, ann)


def test_a_retried_webhook_acts_once(app, client, acme, ann, twilio):
    webhook = twilio.signed_inbound(VERIFIED, "See you at 3", INBOUND)
    for _ in range(2):
        assert client.post(webhook.path, data=webhook.params, headers=webhook.headers).status_code == 200
    assert timeline(client, app, acme, ann).count(f"Texted from {VERIFIED}: See you at 3") == 1


@pytest.mark.parametrize("how", ["unsigned", "tampered", "wrong address", "host header"])
def test_an_unsigned_or_wrongly_signed_request_gets_403_and_changes_nothing(
        app, client, acme, ann, twilio, phone_of, how):
    webhook = twilio.signed_inbound(VERIFIED, "STOP", INBOUND)
    headers = dict(webhook.headers)
    data = dict(webhook.params)
    path = webhook.path
    if how == "unsigned":
        del headers["X-Twilio-Signature"]
    elif how == "tampered":
        data["From"] = "+12125550199"
    elif how == "wrong address":
        other = twilio.signed_inbound(VERIFIED, "STOP", "http://elsewhere.test/b/acme/sms/inbound")
        headers["X-Twilio-Signature"] = other.signature
    else:  # signed for the address the Host header claims, which the app must not trust
        forged = twilio.signed_inbound(VERIFIED, "STOP", "http://attacker.test/b/acme/sms/inbound")
        headers["X-Twilio-Signature"] = forged.signature
        headers["Host"] = "attacker.test"
    assert client.post(path, data=data, headers=headers).status_code == 403
    assert phone_of(acme, VERIFIED).sms_opted_out_at is None


def test_another_businesss_token_does_not_sign_for_this_one(app, client, acme, ann, twilio, phone_of):
    twilio.add_account("AC" + "f" * 32, "0" * 32)
    webhook = twilio.signed_inbound(VERIFIED, "STOP", INBOUND, account_sid="AC" + "f" * 32)
    assert client.post(webhook.path, data=webhook.params, headers=webhook.headers).status_code == 403
    assert phone_of(acme, VERIFIED).sms_opted_out_at is None


def test_delivery_reports_only_move_a_text_forward(app, client, acme, ann, twilio, texts_of):
    remind(app, acme, ann)
    [sent] = twilio.messages

    def report(status, **kwargs):
        callback = twilio.signed_status_callback(sent.sid, status, **kwargs)
        return client.post(callback.path, data=callback.params, headers=callback.headers)

    assert report("delivered").status_code == 204
    assert report("sent").status_code == 204  # late, out of order
    assert report("queued").status_code == 204
    [record] = texts_of(acme)
    assert record.status == "delivered"
    assert report("undelivered").status_code == 204  # a terminal state does not replace another
    assert texts_of(acme)[0].status == "delivered"


def test_an_undelivered_text_shows_on_the_customer_record(app, client, acme, ann, twilio, texts_of):
    remind(app, acme, ann)
    [sent] = twilio.messages
    callback = twilio.signed_status_callback(sent.sid, "undelivered")
    assert client.post(callback.path, data=callback.params, headers=callback.headers).status_code == 204
    assert (texts_of(acme)[0].status, texts_of(acme)[0].error_code) == ("undelivered", 30003)
    page = timeline(client, app, acme, ann)
    assert f"Text to {VERIFIED} was not delivered (undelivered, error 30003)" in page
    assert "Twilio error 30003" in page


def test_a_report_before_the_sender_recorded_the_text_is_kept(app, client, acme, ann, twilio, texts_of):
    sent = twilio.client().messages.create(to=VERIFIED, from_="+15005550006", body="hi",
                                           status_callback="http://suprata.test/b/acme/sms/status")
    callback = twilio.signed_status_callback(sent.sid, "sent")
    assert client.post(callback.path, data=callback.params, headers=callback.headers).status_code == 204
    assert [(t.sid, t.status) for t in texts_of(acme)] == [(sent.sid, "sent")]


def test_webhooks_answer_404_when_the_plugin_is_off(app, client, acme, ann, twilio):
    switch_plugin(app, acme, "sms_twilio", on=False)
    assert text_in(client, twilio, "STOP").status_code == 404
