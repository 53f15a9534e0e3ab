"""The plugin's settings and its card on the plugins page (a test text), its tab in the portal, and its card
on the customer record."""

from __future__ import annotations

import pytest

from core.plugin_api import Customer, PortalTab, business_context, call_hook, db
from core.testing.helpers import csrf_token_from, sign_in_staff, submit_form
from core.testing.records import save_plugin_settings, switch_plugin
from core.testing.twilio_server import ACCOUNT_SID, PHONE_NUMBER
from plugins.sms_twilio.settings import client_for, current_config

PLUGINS = "/b/acme/console/plugins"


def test_the_plugins_page_shows_the_webhook_addresses_and_a_test_button(app, client, acme):
    sign_in_staff(app, client, acme, role="owner")
    page = client.get(PLUGINS).get_data(as_text=True)
    assert "http://suprata.test/b/acme/sms/inbound" in page
    assert "http://suprata.test/b/acme/sms/status" in page
    assert "Send a test SMS" in page


def test_a_test_text_goes_out_at_once(app, client, acme, twilio):
    sign_in_staff(app, client, acme, role="owner")
    token = csrf_token_from(client.get(PLUGINS).get_data(as_text=True))
    answer = client.post("/b/acme/console/texts/test", data={"csrf_token": token, "to": "(917) 555-0123"},
                         follow_redirects=True).get_data(as_text=True)
    assert "Test text sent to +19175550123 in test mode." in answer
    [text] = twilio.messages
    assert (text.to, text.from_, text.body) == ("+19175550123", PHONE_NUMBER,
                                                 "Acme Plumbing: this is a test text from Suprata. It works!")


def test_a_test_text_says_what_twilio_answered(app, client, acme, twilio):
    sign_in_staff(app, client, acme, role="owner")
    token = csrf_token_from(client.get(PLUGINS).get_data(as_text=True))
    twilio.opt_out("+19175550123")
    answer = client.post("/b/acme/console/texts/test", data={"csrf_token": token, "to": "+19175550123"},
                         follow_redirects=True).get_data(as_text=True)
    assert "Twilio refused the test text (error 21610)" in answer
    twilio.drop_next()
    answer = client.post("/b/acme/console/texts/test", data={"csrf_token": token, "to": "+19175550124"},
                         follow_redirects=True).get_data(as_text=True)
    assert "Twilio could not be reached" in answer


@pytest.mark.parametrize(("field", "value", "message"), [
    ("account_sid", "AC123", "An account SID is AC followed by 32 letters and digits"),
    ("sender", "555", "Enter your Twilio number with its country code, or a messaging service SID"),
])
def test_settings_are_checked_when_saved(app, client, acme, field, value, message):
    sign_in_staff(app, client, acme, role="owner")
    data = {"sms_twilio-setting_mode": "test", "sms_twilio-setting_account_sid": ACCOUNT_SID,
            "sms_twilio-setting_sender": PHONE_NUMBER, f"sms_twilio-setting_{field}": value}
    answer = submit_form(client, PLUGINS, data, post_url="/b/acme/console/plugins/sms_twilio/settings")
    assert answer.status_code == 400 and message in answer.get_data(as_text=True)


def test_a_messaging_service_sends_instead_of_a_number(app, client, acme, twilio):
    save_plugin_settings(app, acme, "sms_twilio", {"mode": "test", "account_sid": ACCOUNT_SID,
                                                   "sender": "MG" + "a" * 32})
    sign_in_staff(app, client, acme, role="owner")
    token = csrf_token_from(client.get(PLUGINS).get_data(as_text=True))
    client.post("/b/acme/console/texts/test", data={"csrf_token": token, "to": "+19175550123"})
    assert twilio.messages[0].messaging_service_sid == "MG" + "a" * 32


def test_live_mode_never_uses_the_test_api_address(app, client, acme, twilio):
    save_plugin_settings(app, acme, "sms_twilio", {"mode": "live", "account_sid": ACCOUNT_SID,
                                                   "sender": PHONE_NUMBER})
    with app.test_request_context("/", base_url="http://localhost/b/acme"), business_context(acme.id):
        config = current_config()
        assert config.api_base is None
        assert client_for(config).api.base_url == "https://api.twilio.com"


def test_the_portal_gets_a_texts_tab(app, acme):
    with app.test_request_context("/", base_url="http://localhost/b/acme"), business_context(acme.id):
        tabs = call_hook("render_portal_tab", customer=None, request=None)
    assert PortalTab(id="texts", title="Texts and alerts", url="/b/acme/texts/", order=80) in tabs


def test_the_customer_record_shows_phones_and_a_way_to_verify(app, client, acme, ann):
    sign_in_staff(app, client, acme, role="support")
    page = client.get(f"/b/acme/console/customers/{ann}").get_data(as_text=True)
    assert 'id="texts"' in page and "Text a verification code" in page
    assert page.count("Code the customer reads out") == 1  # the unverified number only


def test_the_customer_record_hook_gives_the_card_as_markup(app, acme, ann):
    with app.test_request_context("/", base_url="http://localhost/b/acme"), business_context(acme.id):
        [card] = call_hook("render_customer_record", customer=db.session.get(Customer, ann))
    assert 'id="texts"' in card
    assert "+12125550142" in card and "+12125550143" in card


def test_switched_off_the_plugin_leaves_the_record_and_sends_nothing(app, client, acme, ann, twilio):
    switch_plugin(app, acme, "sms_twilio", on=False)
    sign_in_staff(app, client, acme, role="support")
    assert 'id="texts"' not in client.get(f"/b/acme/console/customers/{ann}").get_data(as_text=True)
    assert client.get("/b/acme/texts/").status_code == 404
