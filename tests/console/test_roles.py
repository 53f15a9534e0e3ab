"""Staff roles: every staff route has a role decision, the server refuses what a role lacks, the console
hides it, and a business always keeps an active owner."""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from core import create_app
from core.extensions import db as _db
from core.identity.roles import PERMISSIONS, ROLES, declared_permission, role_allows
from core.identity.staff import StaffRuleError, add_staff_member, deactivate
from core.models import PluginState, StaffUser
from core.plugin_api import hookimpl, requires_permission, staff_blueprint
from core.plugins.settings import set_enabled
from core.tenancy import business_context
from core.testing.fixtures import base_test_config
from core.testing.helpers import (
    create_staff,
    csrf_token_from,
    login_staff,
    staff_routes_without_a_role_decision,
    submit_form,
)

STAFF = "/b/acme/console/staff"
EMAILS = {"owner": "dana@acme.test", "admin": "ada@acme.test", "billing": "bill@acme.test",
          "support": "sue@acme.test"}


@pytest.fixture
def acme(app, make_business):
    """Acme with every loaded plugin on, so the walk reaches plugins' pages too."""
    plugins = app.extensions["suprata"].plugins.plugin_names()
    return make_business("acme", name="Acme Plumbing", plugins=plugins)


@pytest.fixture
def draft_id(sign_in, customer_id) -> int:
    """A draft invoice, made by the owner through the form."""
    response = submit_form(sign_in("owner"), f"/b/acme/console/invoices/new?customer={customer_id}", {
        "kind": "one_off", "lines-0-description": "Visit", "lines-0-quantity": "1",
        "lines-0-unit_price": "90", "lines-0-tax_rate": "0"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


@pytest.fixture
def members(app, acme, password):
    """One staff member of each role (Dana, the first, is the owner), keyed by role."""
    return {role: create_staff(app, acme, email=email, password=password, name=role.title(), role=role)
            for role, email in EMAILS.items()}


@pytest.fixture
def sign_in(app, acme, members, password):
    """``sign_in(role, application=app)``: a client logged in as the member with that role."""

    def client_for(role: str, application=None):
        client = (application or app).test_client()
        assert login_staff(client, acme, email=EMAILS[role], password=password).status_code == 302
        return client

    return client_for


def _staff_rules(application):
    realms = application.extensions["suprata"].blueprint_realms
    for rule in application.url_map.iter_rules():
        view = application.view_functions[rule.endpoint]
        staff_realm = realms.get(rule.endpoint.rpartition(".")[0]) == "staff"
        if staff_realm and not getattr(view, "login_exempt", False):
            yield rule


def _path(application, rule) -> str:
    values = {name: 1 if isinstance(converter, IntegerConverter) else "x"
              for name, converter in rule._converters.items()}
    return "/b/acme" + application.url_map.bind("localhost").build(rule.endpoint, values)


# -- the route table ----------------------------------------------------------------------------------------


def test_every_staff_route_of_core_and_the_plugins_has_a_role_decision(app, probe_app):
    owners = app.extensions["suprata"].plugins.blueprint_owner
    assert "payments_stripe" in owners.values()  # plugins' staff routes are in the walk
    assert staff_routes_without_a_role_decision(app) == []
    assert staff_routes_without_a_role_decision(probe_app) == []


class Forgetful:
    """A plugin whose staff page declares no permission."""

    def __init__(self):
        self.bp = staff_blueprint("forgetful", __name__, url_prefix="/forgetful")
        self.bp.add_url_rule("/", "page", lambda: "forgetful page")

    @hookimpl
    def register_blueprints(self, app):
        app.register_blueprint(self.bp)


@pytest.fixture(scope="module")
def forgetful_app(database_url, tmp_path_factory, mailbox):
    config = base_test_config(database_url, tmp_path_factory.mktemp("forgetful"), mailbox.port)
    application = create_app(config, plugins=[("forgetful", Forgetful())])
    yield application
    with application.app_context():
        _db.engine.dispose()


def test_a_route_without_a_role_decision_fails_the_walk_and_opens_only_for_owners(
        forgetful_app, acme, members, sign_in):
    assert staff_routes_without_a_role_decision(forgetful_app) == ["forgetful.page (/forgetful/)"]
    with forgetful_app.app_context(), business_context(acme.id):
        set_enabled("forgetful", True)
        _db.session.commit()
    assert sign_in("owner", forgetful_app).get("/b/acme/forgetful/").status_code == 200
    assert sign_in("admin", forgetful_app).get("/b/acme/forgetful/").status_code == 403


def test_an_unknown_permission_fails_when_the_plugin_is_imported():
    with pytest.raises(ValueError, match="unknown staff permission 'ticket'"):
        requires_permission("ticket")
    with pytest.raises(ValueError, match="unknown staff permission"):
        staff_blueprint("typo", __name__, permission="invoice")


# -- the server refuses, for every route and role -------------------------------------------------------


@pytest.mark.parametrize("role", list(ROLES))
def test_every_staff_route_refuses_the_roles_without_its_permission(app, sign_in, role):
    client = sign_in(role)
    token = csrf_token_from(client.get("/b/acme/console/password").get_data(as_text=True))
    checked = 0
    for rule in _staff_rules(app):
        permission = declared_permission(app, rule.endpoint)
        allowed = role_allows(role, permission)
        path = _path(app, rule)
        if "GET" in rule.methods:
            response = client.get(path)
            assert (response.status_code == 403) == (not allowed), (role, path, response.status_code)
            checked += 1
        if "POST" in rule.methods and not allowed:  # only refusals: an allowed post would act
            response = client.post(path, data={"csrf_token": token})
            assert response.status_code == 403, (role, path, response.status_code)
            checked += 1
    assert checked >= 20


def test_the_refusal_says_why_in_words(sign_in):
    response = sign_in("support").get("/b/acme/console/settings")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Your role (Support) does not include the business&#39;s settings." in page
    assert "An owner of the business can change your role on the Staff page." in page


def test_a_support_member_cannot_refund_or_void(app, sign_in, draft_id, customer_id):
    client = sign_in("support")
    token = csrf_token_from(client.get(f"/b/acme/console/invoices/{draft_id}").get_data(as_text=True))
    assert client.post(f"/b/acme/console/invoices/{draft_id}/void", data={"csrf_token": token,
                                                                          "reason": "x"}).status_code == 403
    assert client.post(f"/b/acme/console/invoices/{draft_id}/send",
                       data={"csrf_token": token}).status_code == 403
    assert "draft" in client.get(f"/b/acme/console/invoices/{draft_id}").get_data(as_text=True)


# -- the console hides what a role cannot do ------------------------------------------------------------


def _menu(client) -> str:
    page = client.get("/b/acme/console/").get_data(as_text=True)
    return page[page.index('class="console-menu"'):page.index("</nav>", page.index('class="console-menu"'))]


def test_the_menu_offers_only_what_the_role_may_open(sign_in):
    menus = {role: _menu(sign_in(role)) for role in ROLES}
    for title in ("Dashboard", "Customers", "Invoices", "Outbox", "Notifications", "Message templates",
                  "Plugins", "Settings", "Staff", "Audit trail"):
        assert f">{title}</a>" in menus["owner"]
    assert ">Customers</a>" in menus["support"] and ">Invoices</a>" in menus["support"]
    for title in ("Plugins", "Settings", "Staff", "Outbox", "Audit trail"):
        assert f">{title}</a>" not in menus["support"]
        assert f">{title}</a>" not in menus["billing"]
    assert ">Plugins</a>" in menus["admin"] and ">Settings</a>" in menus["admin"]
    for title in ("Customers", "Invoices", "Staff"):
        assert f">{title}</a>" not in menus["admin"]


def test_plugins_menu_items_follow_the_pages_they_open(probe_app, acme, members, sign_in):
    owner = sign_in("owner", probe_app)
    page = owner.get("/b/acme/console/plugins").get_data(as_text=True)
    owner.post("/b/acme/console/plugins/probe/switch",
               data={"csrf_token": csrf_token_from(page), "enabled": "on"})
    assert ">Probe tools</a>" in _menu(sign_in("support", probe_app))  # the probe page needs "customers"
    assert ">Probe tools</a>" not in _menu(sign_in("admin", probe_app))
    assert sign_in("admin", probe_app).get("/b/acme/probe/").status_code == 403


def test_money_buttons_show_only_to_roles_with_money_actions(sign_in, draft_id):
    invoice = f"/b/acme/console/invoices/{draft_id}"
    assert "Void</a>" in sign_in("billing").get(invoice).get_data(as_text=True)
    support_page = sign_in("support").get(invoice).get_data(as_text=True)
    assert "Void</a>" not in support_page and "Edit</a>" not in support_page
    assert "New invoice" not in sign_in("support").get("/b/acme/console/invoices").get_data(as_text=True)


def test_only_owners_change_plugin_keys(probe_app, db, acme, members, sign_in):
    admin = sign_in("admin", probe_app)
    page = admin.get("/b/acme/console/plugins").get_data(as_text=True)
    assert "probe-setting_api_key" not in page and "Only an owner can change keys: API key (not set)" in page
    response = admin.post("/b/acme/console/plugins/probe/settings", data={
        "csrf_token": csrf_token_from(page), "probe-setting_api_key": "sk_planted",
        "probe-setting_greeting": "Howdy", "probe-setting_retries": "5", "probe-setting_mode": "live"})
    assert response.status_code == 302  # the other settings save without the key
    with probe_app.app_context(), business_context(acme.id):
        stored = _db.session.scalar(_db.select(PluginState.settings)
                                    .where(PluginState.plugin_name == "probe"))
    assert stored["greeting"] == "Howdy" and "api_key" not in stored
    assert "probe-setting_api_key" in sign_in("owner", probe_app).get("/b/acme/console/plugins").get_data(
        as_text=True)


# -- owners --------------------------------------------------------------------------------------------------


def _add_member(app, business, email: str, role: str | None = None) -> str:
    """Add a staff member the way core's tools do; returns the role they got."""
    with app.app_context(), business_context(business.id):
        member = add_staff_member(email=email, name=email.split("@")[0], password_hash="", role=role)
        _db.session.commit()
        return member.role


def test_the_first_staff_member_is_the_owner(app, acme, make_business):
    assert _add_member(app, acme, "first@acme.test") == "owner"
    assert _add_member(app, acme, "second@acme.test") == "support"
    assert _add_member(app, acme, "third@acme.test", "billing") == "billing"
    harbor = make_business("harbor")
    with pytest.raises(StaffRuleError, match="first staff member of a business is its owner"):
        _add_member(app, harbor, "sam@harbor.test", "admin")


def _set_role(client, user_id: int, role: str):
    token = csrf_token_from(client.get(STAFF).get_data(as_text=True))
    return client.post(f"{STAFF}/{user_id}/role", data={"csrf_token": token, "role": role})


def test_an_owner_sets_roles_and_they_apply_at_once(app, sign_in, members, draft_id):
    support = sign_in("support")
    assert support.get(f"/b/acme/console/invoices/{draft_id}/edit").status_code == 403
    owner = sign_in("owner")
    assert _set_role(owner, members["support"].id, "billing").status_code == 302
    assert "Support is now Billing." in owner.get(STAFF).get_data(as_text=True)
    assert support.get(f"/b/acme/console/invoices/{draft_id}/edit").status_code == 200


def test_the_invitation_form_gives_a_role(app, acme, sign_in):
    owner = sign_in("owner")
    response = submit_form(owner, STAFF, {"name": "Sam Lee", "email": "sam@acme.test", "role": "billing"})
    assert response.status_code == 302
    assert "Sam Lee is invited as Billing" in owner.get(STAFF).get_data(as_text=True)
    with app.app_context(), business_context(acme.id):
        role = _db.session.scalar(_db.select(StaffUser.role).where(StaffUser.email == "sam@acme.test"))
    assert role == "billing"


def test_the_last_active_owner_cannot_be_demoted_or_deactivated(app, acme, sign_in, members):
    owner = sign_in("owner")
    _set_role(owner, members["owner"].id, "admin")
    page = owner.get(STAFF).get_data(as_text=True)
    assert "a business always keeps at least one active owner" in page
    with app.app_context(), business_context(acme.id):
        dana = _db.session.get(StaffUser, members["owner"].id)
        assert dana.role == "owner"
        with pytest.raises(StaffRuleError, match="always keeps at least one active owner"):
            deactivate(dana)

    _set_role(owner, members["admin"].id, "owner")  # with a second owner, Dana may step down
    assert _set_role(owner, members["owner"].id, "admin").status_code == 302
    assert owner.get(STAFF).status_code == 403
    ada = sign_in("admin")  # Ada is the owner now
    assert _set_role(ada, members["admin"].id, "support").status_code == 302
    assert "always keeps at least one active owner" in ada.get(STAFF).get_data(as_text=True)


def test_every_permission_is_somebody_s_and_owners_have_all():
    for permission in PERMISSIONS.values():
        assert "owner" in permission.roles
    assert {role for p in PERMISSIONS.values() for role in p.roles} == set(ROLES)
