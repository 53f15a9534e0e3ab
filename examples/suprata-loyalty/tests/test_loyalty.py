"""The loyalty plugin on a real app and database: discovery, points for captured payments, its setting, its
portal tab and pages, and what switching it off does."""

from importlib.metadata import entry_points

import pytest
from sqlalchemy import select
from suprata_loyalty.models import LoyaltyPoints
from suprata_loyalty.points import whole_units

from core.plugin_api import Payment, PortalTab, business_context, call_hook, db
from core.testing.helpers import (
    sign_in_customer,
    sign_in_staff,
    staff_routes_without_a_role_decision,
    submit_form,
)
from core.testing.records import create_customer, switch_plugin

PLUGINS = "/b/acme/console/plugins"
LOYALTY_SETTINGS = f"{PLUGINS}/loyalty/settings"
# Visitors without a customer login are sent to core's customer login page.
NOT_LOGGED_IN = (302,)


@pytest.fixture
def ann(app, acme):
    return create_customer(app, acme, "Ann Lee", email="ann@example.test")


def save_points_per_dollar(client, value: str):
    """Post the loyalty settings form of the console's plugins page."""
    return submit_form(client, PLUGINS, {"loyalty-setting_points_per_unit": value}, post_url=LOYALTY_SETTINGS)


def hook_results(app, business, hook_name: str, **kwargs) -> list:
    """What the business's enabled plugins answer to a hook during one of its requests."""
    with app.test_request_context("/", base_url=f"http://localhost/b/{business.slug}"), \
            business_context(business.id):
        return call_hook(hook_name, **kwargs)


def test_the_plugin_is_discovered_through_its_entry_point(app, client, acme):
    [entry_point] = entry_points(group="suprata.plugins", name="loyalty")
    assert entry_point.value == "suprata_loyalty.plugin"
    sign_in_staff(app, client, acme)
    page = client.get(PLUGINS).get_data(as_text=True)
    assert "Loyalty points" in page and "could not load" not in page


@pytest.mark.parametrize(("amount", "currency", "units"), [
    (12_345, "USD", 123),
    (99, "USD", 0),
    (100, "eur", 1),
    (1_500, "JPY", 1_500),
])
def test_whole_units_of_an_amount(amount, currency, units):
    assert whole_units(amount, currency) == units


def test_on_payment_captured_awards_a_point_per_whole_dollar(acme, ann, paid, points_of):
    paid(acme, ann.id, 12_345)
    paid(acme, ann.id, 5_099)
    paid(acme, ann.id, 99)
    assert points_of(acme, ann.id) == [123, 50]


def test_staff_set_points_per_dollar_on_the_plugins_page(app, client, acme, ann, paid, points_of):
    sign_in_staff(app, client, acme, "admin")

    refused = save_points_per_dollar(client, "0")
    assert refused.status_code == 400
    assert "Enter 1 or more." in refused.get_data(as_text=True)
    assert save_points_per_dollar(client, "3").status_code == 302

    paid(acme, ann.id, 5_000)
    assert points_of(acme, ann.id) == [150]


def test_a_capture_reported_twice_earns_points_once(app, acme, ann, paid, points_of):
    payment_id = paid(acme, ann.id, 2_000)
    with app.app_context(), business_context(acme.id):
        payment = db.session.get(Payment, payment_id)
        call_hook("on_payment_captured", payment=payment, invoice=payment.invoice)
    assert points_of(acme, ann.id) == [20]


def test_points_belong_to_their_business(app, acme, ann, make_business, paid):
    bolt = make_business("bolt", plugins=["loyalty"])
    ben = create_customer(app, bolt, "Ben Ode", email="ben@example.test")
    paid(acme, ann.id, 1_000)
    paid(bolt, ben.id, 7_000)
    with app.app_context(), business_context(bolt.id):
        assert db.session.scalars(select(LoyaltyPoints.points)).all() == [70]


def test_render_portal_tab_links_to_the_points_page(app, acme, make_business):
    bolt = make_business("bolt")
    assert hook_results(app, acme, "render_portal_tab", customer=None, request=None) == [
        PortalTab(id="loyalty", title="Rewards", url="/b/acme/loyalty/", order=50)
    ]
    assert hook_results(app, bolt, "render_portal_tab", customer=None, request=None) == []


def test_a_customer_sees_their_own_points(app, client, acme, ann, paid):
    ben = create_customer(app, acme, "Ben Ode", email="ben@example.test")
    paid(acme, ann.id, 12_345)
    paid(acme, ben.id, 99_900)
    sign_in_customer(app, client, acme, ann.id, email="ann@example.test")

    page = client.get("/b/acme/loyalty/")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<strong id="points-balance">123</strong> points' in html
    assert "INV-0001" in html
    assert "INV-0002" not in html


def test_the_points_page_needs_a_customer_login(app, client, acme, ann):
    assert client.get("/b/acme/loyalty/").status_code in NOT_LOGGED_IN
    sign_in_staff(app, client, acme)
    assert client.get("/b/acme/loyalty/").status_code in NOT_LOGGED_IN  # a staff login is no customer login


def test_render_console_menu_leads_staff_to_every_customers_balance(app, client, acme, ann, paid):
    paid(acme, ann.id, 4_200)
    sign_in_staff(app, client, acme, "support")

    dashboard = client.get("/b/acme/console/").get_data(as_text=True)
    assert '<a href="/b/acme/console/loyalty/">Loyalty points</a>' in dashboard
    page = client.get("/b/acme/console/loyalty/")
    assert page.status_code == 200
    assert "<tr><td>Ann Lee</td><td>42</td></tr>" in page.get_data(as_text=True)


def test_every_staff_page_says_which_roles_may_open_it(app, client, acme, ann):
    assert staff_routes_without_a_role_decision(app) == []
    sign_in_staff(app, client, acme, "admin")
    assert client.get("/b/acme/console/loyalty/").status_code == 403  # balances are customer records
    assert "Loyalty points</a>" not in client.get("/b/acme/console/").get_data(as_text=True)


def test_the_console_page_needs_a_staff_login(app, client, acme, ann):
    sign_in_customer(app, client, acme, ann.id, email="ann@example.test")
    refused = client.get("/b/acme/console/loyalty/")
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/b/acme/console/login?next=")


def test_switched_off_the_plugin_disappears_and_its_points_stay(app, client, acme, ann, paid, points_of):
    paid(acme, ann.id, 3_000)
    sign_in_customer(app, client, acme, ann.id, email="ann@example.test")

    switch_plugin(app, acme, "loyalty", on=False)
    paid(acme, ann.id, 5_000)

    assert client.get("/b/acme/loyalty/").status_code == 404
    assert client.get("/b/acme/console/loyalty/").status_code == 404
    assert hook_results(app, acme, "render_portal_tab", customer=None, request=None) == []
    assert hook_results(app, acme, "render_console_menu", staff_user=None) == []
    assert points_of(acme, ann.id) == [30]

    switch_plugin(app, acme, "loyalty")

    assert '<strong id="points-balance">30</strong>' in client.get("/b/acme/loyalty/").get_data(as_text=True)
