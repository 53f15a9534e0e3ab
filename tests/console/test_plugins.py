"""The plugins page: switches that take effect at once, health, and settings forms built from declarations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.models import PluginError, PluginState
from core.tenancy import business_context, utcnow
from core.testing.helpers import create_staff, csrf_token_from, login_staff, submit_form

PLUGINS = "/b/acme/console/plugins"


@pytest.fixture
def probe_console(probe_app, acme, password, db):
    """A client of the app that has the probe plugin, logged in to Acme's console."""
    create_staff(probe_app, acme, password=password)
    client = probe_app.test_client()
    assert login_staff(client, acme, password=password).status_code == 302
    return client


def _switch(client, name: str, state: str):
    token = csrf_token_from(client.get(PLUGINS).get_data(as_text=True))
    return client.post(f"{PLUGINS}/{name}/switch", data={"csrf_token": token, "enabled": state})


def test_switching_a_plugin_takes_effect_at_once(probe_console):
    assert probe_console.get("/b/acme/probe/").status_code == 404
    assert "Probe tools" not in probe_console.get(PLUGINS).get_data(as_text=True)

    assert _switch(probe_console, "probe", "on").status_code == 302
    assert probe_console.get("/b/acme/probe/").get_data(as_text=True) == "probe page"
    page = probe_console.get(PLUGINS).get_data(as_text=True)
    assert "Probe tools" in page and "Turn off" in page

    _switch(probe_console, "probe", "off")
    assert probe_console.get("/b/acme/probe/").status_code == 404
    assert "Probe tools" not in probe_console.get(PLUGINS).get_data(as_text=True)


def test_a_plugin_on_for_one_business_stays_off_for_another(probe_app, probe_console, make_business):
    make_business("bolt")
    _switch(probe_console, "probe", "on")
    assert probe_app.test_client().get("/b/bolt/probe/").status_code == 404


def test_unknown_plugins_are_not_found(probe_console):
    assert _switch(probe_console, "no_such_plugin", "on").status_code == 404
    token = csrf_token_from(probe_console.get(PLUGINS).get_data(as_text=True))
    assert (
        probe_console.post(f"{PLUGINS}/no_such_plugin/settings", data={"csrf_token": token}).status_code
        == 404
    )


def test_every_loaded_plugin_is_listed_with_its_title_and_description(probe_app, probe_console):
    page = probe_console.get(PLUGINS).get_data(as_text=True)
    for name in probe_app.extensions["suprata"].plugins.plugin_names():
        assert f'id="plugin-{name}"' in page
    assert "Probe: a staff page, a console menu item and settings of every kind" in page
    assert "<h2>probe <span" in page  # no TITLE: the plugin's name stands for it
    assert "<h2>Customer portal <code" in page


def _settings(client, **fields):
    data = {
        "probe-setting_api_key": "",
        "probe-setting_greeting": "Howdy",
        "probe-setting_retries": "5",
        "probe-setting_mode": "live",
        **fields,
    }
    return submit_form(client, PLUGINS, data, post_url=f"{PLUGINS}/probe/settings")


def _stored(probe_app, db, acme) -> dict:
    with probe_app.app_context(), business_context(acme.id):
        return dict(db.session.scalar(select(PluginState).where(PluginState.plugin_name == "probe")).settings)


def test_settings_are_saved_and_secrets_never_shown_again(probe_app, probe_console, acme, db):
    response = _settings(
        probe_console, **{"probe-setting_api_key": "sk_live_very_secret", "probe-setting_loud": "y"}
    )
    assert response.status_code == 302
    stored = _stored(probe_app, db, acme)
    assert (
        stored["greeting"] == "Howdy"
        and stored["retries"] == 5
        and stored["mode"] == "live"
        and stored["loud"]
    )
    assert stored["api_key"].startswith("enc:") and "sk_live_very_secret" not in stored["api_key"]

    page = probe_console.get(PLUGINS).get_data(as_text=True)
    assert "sk_live_very_secret" not in page and stored["api_key"] not in page
    assert "Currently set" in page and 'value="Howdy"' in page

    assert _settings(probe_console, **{"probe-setting_greeting": "Hi"}).status_code == 302
    assert _stored(probe_app, db, acme)["api_key"] == stored["api_key"]


def test_a_secret_not_set_yet_says_so(probe_console):
    assert "Currently not set" in probe_console.get(PLUGINS).get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"probe-setting_api_key": ""}, "This is required."),
        ({"probe-setting_api_key": "k", "probe-setting_retries": "many"}, "Enter a whole number."),
        ({"probe-setting_api_key": "k", "probe-setting_greeting": ""}, "This is required."),
        ({"probe-setting_api_key": "k", "probe-setting_mode": "chaos"}, "Not a valid choice."),
        # each setting is fine, together they are not (the probe's plugin_settings_problems says so)
        ({"probe-setting_api_key": "k", "probe-setting_greeting": "Hello"},
         "Live mode needs a greeting of your own."),
    ],
)
def test_invalid_settings_are_shown_on_the_form(probe_app, probe_console, acme, db, fields, message):
    response = _settings(probe_console, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with probe_app.app_context(), business_context(acme.id):
        state = db.session.scalar(select(PluginState).where(PluginState.plugin_name == "probe"))
        assert state is None or not state.settings


def test_health_shows_recent_errors_and_broken_plugins(probe_app, probe_console, acme, db, monkeypatch):
    with probe_app.app_context(), business_context(acme.id):
        db.session.add_all(
            [
                PluginError(
                    plugin_name="probe", hook="on_invoice_sent", error="RuntimeError: probe exploded"
                ),
                PluginError(
                    plugin_name="probe",
                    hook="render_portal_tab",
                    error="KeyError: 'old'",
                    created_at=utcnow() - timedelta(days=2),
                ),
            ]
        )
        db.session.commit()
    monkeypatch.setitem(
        probe_app.extensions["suprata"].plugins.broken, "ghost", "import failed: No module 'x'"
    )

    page = probe_console.get(PLUGINS).get_data(as_text=True)

    probe_card = page[page.index('id="plugin-probe"') :]
    assert "Errors in the last 24 hours: <strong>1</strong>" in probe_card
    assert "on_invoice_sent" in probe_card and "RuntimeError: probe exploded" in probe_card
    assert "KeyError" in probe_card
    assert "ghost" in page and "import failed: No module" in page
