"""The plugin host: discovery through entry points, broken and blocked plugins, per-business switches seen
by every process, isolation of hooks that raise, and the dispatch rules every hook relies on.

The plugins under ``plugin_fixtures/`` are installed the way pip installs a package: the module goes into a
site directory next to a ``*.dist-info`` folder whose ``entry_points.txt`` names it, and that directory is
put on ``sys.path``. ``importlib.metadata`` then finds them like any installed distribution.
"""

from __future__ import annotations

import importlib
import logging
import shutil
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import create_app
from core.extensions import db as _db
from core.models import Customer, PluginError, PluginState
from core.plugin_api import hookimpl
from core.plugins.events import emit_after_commit
from core.plugins.host import ENTRY_POINT_GROUP
from core.plugins.settings import save_settings
from core.tenancy import business_context, current_business_id
from core.testing.fixtures import base_test_config
from core.testing.helpers import create_staff, csrf_token_from, login_staff

FIXTURES = Path(__file__).parent / "plugin_fixtures"
METADATA = "Metadata-Version: 2.1\nName: suprata-test-plugins\nVersion: 1.0\n"


@pytest.fixture
def install(tmp_path):
    """``install(sample="suprata_sample")`` installs fixture modules as one distribution with those entry
    points; everything is uninstalled (path, imported modules, finder caches) after the test."""
    site = tmp_path / "site-packages"
    site.mkdir()
    modules: list[str] = []

    def install_plugins(**entry_points: str) -> None:
        dist_info = site / "suprata_test_plugins-1.0.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(METADATA)
        lines = [f"[{ENTRY_POINT_GROUP}]"] + [f"{name} = {module}" for name, module in entry_points.items()]
        (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        for module in entry_points.values():
            shutil.copy(FIXTURES / f"{module}.py", site / f"{module}.py")
            modules.append(module)
        sys.path.insert(0, str(site))
        importlib.invalidate_caches()

    yield install_plugins
    if str(site) in sys.path:
        sys.path.remove(str(site))
    sys.path_importer_cache.pop(str(site), None)
    for module in modules:
        sys.modules.pop(module, None)
    importlib.invalidate_caches()


@pytest.fixture
def make_app(database_url, mailbox, tmp_path, db):
    """Build another app instance on the test database, as another web or worker process would."""
    apps = []

    def make(**config):
        application = create_app(base_test_config(database_url, tmp_path, mailbox.port) | config)
        apps.append(application)
        return application

    yield make
    for application in apps:
        with application.app_context():
            _db.session.remove()
            _db.engine.dispose()


def call_for(application, business, hook_name: str, **kwargs) -> list:
    """Call a hook through ``application``'s host in a request of ``business`` (links get its prefix)."""
    with application.test_request_context("/", base_url=f"http://localhost/b/{business.slug}"), \
            business_context(business.id):
        return application.extensions["suprata"].plugins.call(hook_name, **kwargs)


def portal_tab_ids(application, business) -> list[str]:
    tabs = call_for(application, business, "render_portal_tab", customer=None, request=None)
    return [tab.id for tab in tabs]


def switch_in_console(console, business, plugin_name: str, state: str) -> None:
    """Turn a plugin "on" or "off" on the plugins page, as a logged-in staff member does."""
    plugins_page = f"/b/{business.slug}/console/plugins"
    form = console.get(plugins_page)
    assert form.status_code == 200
    answer = console.post(f"{plugins_page}/{plugin_name}/switch",
                          data={"csrf_token": csrf_token_from(form.get_data(as_text=True)), "enabled": state})
    assert answer.status_code == 302


# -- discovery and loading -------------------------------------------------------------------------------


def test_register_blueprints_of_an_installed_plugin_serves_its_pages(install, make_app, make_business):
    install(sample="suprata_sample")
    application = make_app()
    make_business("acme", plugins=["sample"], name="Acme Plumbing")

    assert "sample" in application.extensions["suprata"].plugins.plugin_names()
    page = application.test_client().get("/b/acme/sample/")
    assert page.status_code == 200
    assert page.get_data(as_text=True) == "Hello from Acme Plumbing"


def test_register_cli_adds_the_plugins_commands(install, make_app):
    install(sample="suprata_sample")
    result = make_app().test_cli_runner().invoke(args=["sample-greet"])
    assert result.exit_code == 0
    assert result.output == "Hello from the sample plugin\n"


def test_plugin_whose_import_raises_is_listed_broken_and_the_app_starts(install, make_app, caplog):
    install(sample="suprata_sample", broken="suprata_broken_import")
    application = make_app()

    host = application.extensions["suprata"].plugins
    assert host.broken["broken"].startswith("import failed: RuntimeError('this plugin cannot be imported'")
    assert "broken" not in host.plugin_names()
    assert "sample" in host.plugin_names()
    assert "plugin broken is broken" in caplog.text
    assert application.test_client().get("/healthz").status_code == 200


def test_plugin_implementing_an_unknown_hook_is_listed_broken(install, make_app):
    install(typo="suprata_typo")
    host = make_app().extensions["suprata"].plugins
    assert host.broken["typo"] == "implements unknown hooks: on_payment_capturd"
    assert "typo" not in host.plugin_names()


def test_plugin_failing_in_register_blueprints_is_broken_and_its_routes_404(install, make_app, make_business):
    install(half="suprata_half_started")
    application = make_app()
    make_business("acme", plugins=["half"])

    host = application.extensions["suprata"].plugins
    assert host.broken["half"] == "register_blueprints failed: RuntimeError('missing configuration')"
    assert "half" not in host.plugin_names()
    assert application.test_client().get("/b/acme/half/").status_code == 404


def test_blocked_plugins_are_not_loaded(install, make_app, make_business):
    install(sample="suprata_sample")
    application = make_app(SUPRATA_BLOCKED_PLUGINS=["sample"])
    make_business("acme", plugins=["sample"])

    host = application.extensions["suprata"].plugins
    assert "sample" not in host.plugin_names()
    assert "sample" not in host.broken
    assert "suprata_sample" not in sys.modules  # never even imported
    assert application.test_client().get("/b/acme/sample/").status_code == 404


# -- per-business switches, seen by every process ---------------------------------------------------------

STATE_TTL = 0.3


def test_switching_a_plugin_off_in_one_app_takes_effect_in_another(install, make_app, make_business, app):
    install(sample="suprata_sample")
    console_app, web = make_app(SUPRATA_STATE_TTL=STATE_TTL), make_app(SUPRATA_STATE_TTL=STATE_TTL)
    acme = make_business("acme", plugins=["sample"])
    with console_app.app_context(), business_context(acme.id):
        assert save_settings("sample", {"greeting": "Ahoy"}) == {}
        _db.session.commit()
    create_staff(app, acme)
    console = console_app.test_client()
    assert login_staff(console, acme).status_code == 302
    calls = sys.modules["suprata_sample"].calls
    browser = web.test_client()

    assert browser.get("/b/acme/sample/").get_data(as_text=True) == "Ahoy from Acme"
    assert portal_tab_ids(web, acme) == ["sample"]
    assert [item.title for item in call_for(web, acme, "render_console_menu", staff_user=None)] == ["Sample"]

    switch_in_console(console, acme, "sample", "off")
    time.sleep(STATE_TTL)
    calls.clear()

    assert browser.get("/b/acme/sample/").status_code == 404
    assert portal_tab_ids(web, acme) == []
    assert call_for(web, acme, "render_console_menu", staff_user=None) == []
    assert call_for(web, acme, "on_invoice_sent", invoice=None) == []
    assert "Sample page" not in browser.get("/b/acme/").get_data(as_text=True)
    assert calls == []  # the hooks were skipped, not called and discarded

    switch_in_console(console, acme, "sample", "on")
    time.sleep(STATE_TTL)

    assert browser.get("/b/acme/sample/").get_data(as_text=True) == "Ahoy from Acme"  # its data stayed
    with web.app_context(), business_context(acme.id):
        state = _db.session.scalar(select(PluginState).where(PluginState.plugin_name == "sample"))
        assert state.settings == {"greeting": "Ahoy"}


def test_switches_are_per_business(install, make_app, make_business):
    install(sample="suprata_sample")
    application = make_app()
    acme, bolt = make_business("acme", plugins=["sample"]), make_business("bolt")
    browser = application.test_client()

    assert browser.get("/b/acme/sample/").status_code == 200
    assert browser.get("/b/bolt/sample/").status_code == 404
    assert portal_tab_ids(application, acme) == ["sample"]
    assert portal_tab_ids(application, bolt) == []


# -- isolation of hooks that raise -------------------------------------------------------------------------


def test_a_raising_render_portal_tab_is_isolated_logged_counted_and_recorded(install, make_app, make_business,
                                                                             caplog):
    install(sample="suprata_sample", raising="suprata_raising")
    application = make_app()
    acme = make_business("acme", plugins=["sample", "raising"])

    with caplog.at_level(logging.ERROR, logger="suprata.plugins"):
        tabs = call_for(application, acme, "render_portal_tab", customer=None, request=None)

    assert [tab.id for tab in tabs] == ["sample"]
    failure = next(r for r in caplog.records if r.name == "suprata.plugins")
    assert failure.getMessage() == "plugin raising raised in hook render_portal_tab"
    assert failure.exc_info[1].args == ("portal tab exploded",)
    assert application.extensions["suprata"].plugins.error_counts["raising"] == 1
    with application.app_context(), business_context(acme.id):
        [error] = _db.session.scalars(select(PluginError)).all()
    assert (error.plugin_name, error.hook, error.error) == (
        "raising", "render_portal_tab", "PluginBug: portal tab exploded"
    )
    assert "suprata_raising.py" in error.traceback


def test_a_raising_render_site_links_breaks_no_page(install, make_app, make_business):
    install(sample="suprata_sample", raising="suprata_raising")
    application = make_app()
    make_business("acme", plugins=["sample", "raising"], name="Acme Plumbing")

    page = application.test_client().get("/b/acme/")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Acme Plumbing" in html
    assert '<a href="/b/acme/sample/">Sample page</a>' in html
    assert application.extensions["suprata"].plugins.error_counts["raising"] >= 1


class Recorder:
    """A plugin object that notes what its hooks received and in which business."""

    def __init__(self):
        self.seen: list[tuple] = []

    @hookimpl
    def on_ticket_submitted(self, ticket):
        customers = _db.session.scalar(select(func.count(Customer.id)))  # the database is usable here
        self.seen.append(("on_ticket_submitted", ticket, current_business_id(), customers))

    @hookimpl
    def on_ticket_replied(self, ticket, message):
        self.seen.append(("on_ticket_replied", ticket, message))


def test_on_ticket_submitted_runs_after_commit_in_the_emitting_business(register_plugin, make_business,
                                                                       in_business, db):
    recorder = register_plugin(Recorder(), "recorder")
    acme = make_business("acme", plugins=["recorder"])

    with in_business(acme):
        db.session.add(Customer(name="Ann"))
        emit_after_commit("on_ticket_submitted", ticket="T-1")
        assert recorder.seen == []
        db.session.commit()

    assert recorder.seen == [("on_ticket_submitted", "T-1", acme.id, 1)]


def test_on_ticket_submitted_is_not_called_when_the_transaction_rolls_back(register_plugin, make_business,
                                                                           in_business, db):
    recorder = register_plugin(Recorder(), "recorder")
    acme = make_business("acme", plugins=["recorder"])

    with in_business(acme):
        db.session.add(Customer(name="Ann"))
        emit_after_commit("on_ticket_submitted", ticket="T-1")
        db.session.rollback()
        db.session.commit()

    assert recorder.seen == []


def test_a_raising_on_ticket_replied_after_commit_keeps_the_commit_and_the_other_plugins(
        install, register_plugin, make_business, in_business, db, app):
    install(raising="suprata_raising")
    raising = importlib.import_module("suprata_raising")
    register_plugin(raising, "raising")
    recorder = register_plugin(Recorder(), "recorder")
    acme = make_business("acme", plugins=["raising", "recorder"])

    with in_business(acme):
        db.session.add(Customer(name="Ann"))
        emit_after_commit("on_ticket_replied", ticket="T-1", message="Thanks!")
        db.session.commit()
        assert db.session.scalar(select(func.count(Customer.id))) == 1
        assert db.session.scalar(select(PluginError.hook)) == "on_ticket_replied"

    assert recorder.seen == [("on_ticket_replied", "T-1", "Thanks!")]


# -- dispatch rules ----------------------------------------------------------------------------------------


class Answer:
    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.asked = 0

    @hookimpl
    def invitation_handlers(self):
        self.asked += 1
        return self.endpoint


def test_the_first_invitation_handler_is_used(register_plugin, make_business, in_business, app):
    # pluggy calls the plugin registered last first.
    register_plugin(Answer("fallback.accept"), "fallback")
    register_plugin(Answer("preferred.accept"), "preferred")
    register_plugin(Answer(None), "silent")
    acme = make_business("acme", plugins=["fallback", "preferred", "silent"])
    bolt = make_business("bolt", plugins=["fallback", "silent"])
    host = app.extensions["suprata"].plugins

    with in_business(acme):
        assert host.call("invitation_handlers") == ["preferred.accept", "fallback.accept"]
        assert host.call_first("invitation_handlers") == "preferred.accept"
    with in_business(bolt):
        assert host.call_first("invitation_handlers") == "fallback.accept"


class Provides:
    def __init__(self, result):
        self.result = result

    @hookimpl
    def payment_processors(self):
        return self.result

    @hookimpl
    def notification_channels(self):
        return self.result


@pytest.mark.parametrize("hook_name", ["payment_processors", "notification_channels"])
def test_provider_hooks_collect_from_enabled_plugins_flattened_in_call_order(
        hook_name, register_plugin, make_business, in_business, app):
    one, two, three, off = object(), object(), object(), object()
    register_plugin(Provides(one), "single")
    register_plugin(Provides([two, three]), "several")
    register_plugin(Provides(None), "nothing")
    register_plugin(Provides(off), "switched_off")
    acme = make_business("acme", plugins=["single", "several", "nothing"])

    with in_business(acme):
        assert app.extensions["suprata"].plugins.call(hook_name) == [two, three, one]


class WantsLess:
    """Implementations may take any subset of a hook's arguments (hooks grow, never shrink)."""

    def __init__(self):
        self.seen = []

    @hookimpl
    def on_invoice_viewed(self, when):
        self.seen.append(("on_invoice_viewed", when))

    @hookimpl
    def on_payment_failed(self, reason):
        self.seen.append(("on_payment_failed", reason))


def test_on_invoice_viewed_and_on_payment_failed_accept_a_subset_of_arguments(
        register_plugin, make_business, in_business, app):
    plugin = register_plugin(WantsLess(), "wants_less")
    acme = make_business("acme", plugins=["wants_less"])
    host = app.extensions["suprata"].plugins

    with in_business(acme):
        host.call("on_invoice_viewed", invoice="INV-1", when="noon")
        host.call("on_payment_failed", payment="P-1", invoice="INV-1", reason="card_declined")

    assert plugin.seen == [("on_invoice_viewed", "noon"), ("on_payment_failed", "card_declined")]
