"""The loyalty plugin on a real app and database: discovery, points for captured payments, its setting, its
portal tab and pages, and what switching it off does."""

from importlib.metadata import entry_points

import pytest
from sqlalchemy import select
from suprata_loyalty.models import LoyaltyPoints
from suprata_loyalty.points import whole_units

from core.models import Customer, CustomerUser, Invoice, InvoiceLine, Payment
from core.money.payments.ledger import record_payment_captured
from core.plugin_api import PortalTab
from core.plugins.settings import set_enabled
from core.tenancy import business_context
from core.testing.helpers import (
    create_staff,
    login_staff,
    staff_routes_without_a_role_decision,
    submit_form,
)

PLUGINS = "/b/acme/console/plugins"
LOYALTY_SETTINGS = f"{PLUGINS}/loyalty/settings"
# Until the portal provides a customer login page, Flask-Login answers 401; then it redirects there.
NOT_LOGGED_IN = (302, 401)


@pytest.fixture
def acme(make_business):
    return make_business("acme", plugins=["loyalty"], name="Acme Plumbing")


@pytest.fixture
def add_customer(in_business, db):
    """``add_customer(business, name, email)``: a customer with a portal login; returns the login."""

    def add(business, name: str, email: str) -> CustomerUser:
        with in_business(business):
            customer = Customer(name=name)
            db.session.add(customer)
            db.session.flush()
            user = CustomerUser(customer_id=customer.id, email=email)
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return add


@pytest.fixture
def ann(acme, add_customer):
    return add_customer(acme, "Ann Lee", "ann@example.test")


@pytest.fixture
def pay(in_business, db):
    """``pay(business, customer_id, amount, number=...)``: an open invoice for ``amount`` minor units, paid
    in full through core's capture path, which calls ``on_payment_captured`` after commit."""

    def pay_(business, customer_id: int, amount: int, *, number: str, currency: str = "USD") -> int:
        with in_business(business):
            invoice = Invoice(customer_id=customer_id, number=number, currency=currency, status="open")
            invoice.lines.append(InvoiceLine(description="Service call", quantity=1, unit_price=amount,
                                             tax_rate_bp=0))
            invoice.recompute_totals()
            db.session.add(invoice)
            db.session.flush()
            payment = Payment(invoice_id=invoice.id, customer_id=customer_id, processor="test",
                              amount=amount, currency=currency, source="staff")
            db.session.add(payment)
            db.session.flush()
            record_payment_captured("test", f"pi_{payment.id}", amount=amount, currency=currency,
                                    payment_id=payment.id)
            db.session.commit()
            return payment.id

    return pay_


@pytest.fixture
def points_of(in_business, db):
    """``points_of(business, customer_id)``: the customer's rows of points, oldest first."""

    def points(business, customer_id: int) -> list[int]:
        with in_business(business):
            query = select(LoyaltyPoints.points).where(LoyaltyPoints.customer_id == customer_id)
            return list(db.session.scalars(query.order_by(LoyaltyPoints.id)))

    return points


@pytest.fixture
def switch_loyalty(in_business, db):
    def switch(business, enabled: bool) -> None:
        with in_business(business):
            set_enabled("loyalty", enabled)
            db.session.commit()

    return switch


def save_points_per_dollar(client, value: str):
    """Post the loyalty settings form of the console's plugins page."""
    return submit_form(client, PLUGINS, {"loyalty-setting_points_per_unit": value}, post_url=LOYALTY_SETTINGS)


def hook_results(app, business, hook_name: str, **kwargs) -> list:
    """What the business's enabled plugins answer to a hook during one of its requests."""
    with app.test_request_context("/", base_url=f"http://localhost/b/{business.slug}"), \
            business_context(business.id):
        return app.extensions["suprata"].plugins.call(hook_name, **kwargs)


def test_the_plugin_is_discovered_through_its_entry_point(app):
    [entry_point] = entry_points(group="suprata.plugins", name="loyalty")
    assert entry_point.value == "suprata_loyalty.plugin"
    host = app.extensions["suprata"].plugins
    assert "loyalty" in host.plugin_names()
    assert "loyalty" not in host.broken


@pytest.mark.parametrize(("amount", "currency", "units"), [
    (12_345, "USD", 123),
    (99, "USD", 0),
    (100, "eur", 1),
    (1_500, "JPY", 1_500),
])
def test_whole_units_of_an_amount(amount, currency, units):
    assert whole_units(amount, currency) == units


def test_on_payment_captured_awards_a_point_per_whole_dollar(acme, ann, pay, points_of):
    pay(acme, ann.customer_id, 12_345, number="A-1")
    pay(acme, ann.customer_id, 5_099, number="A-2")
    pay(acme, ann.customer_id, 99, number="A-3")
    assert points_of(acme, ann.customer_id) == [123, 50]


def test_staff_set_points_per_dollar_on_the_plugins_page(app, client, acme, ann, pay, points_of):
    create_staff(app, acme)
    assert login_staff(client, acme).status_code == 302

    refused = save_points_per_dollar(client, "0")
    assert refused.status_code == 400
    assert "Enter 1 or more." in refused.get_data(as_text=True)
    assert save_points_per_dollar(client, "3").status_code == 302

    pay(acme, ann.customer_id, 5_000, number="A-1")
    assert points_of(acme, ann.customer_id) == [150]


def test_a_capture_reported_twice_earns_points_once(app, acme, ann, pay, points_of, in_business, db):
    payment_id = pay(acme, ann.customer_id, 2_000, number="A-1")
    with in_business(acme):
        payment = db.session.get(Payment, payment_id)
        host = app.extensions["suprata"].plugins
        host.call("on_payment_captured", payment=payment, invoice=payment.invoice)
    assert points_of(acme, ann.customer_id) == [20]


def test_points_belong_to_their_business(acme, ann, make_business, add_customer, pay, in_business, db):
    bolt = make_business("bolt", plugins=["loyalty"])
    ben = add_customer(bolt, "Ben Ode", "ben@example.test")
    pay(acme, ann.customer_id, 1_000, number="A-1")
    pay(bolt, ben.customer_id, 7_000, number="B-1")
    with in_business(bolt):
        assert db.session.scalars(select(LoyaltyPoints.points)).all() == [70]


def test_render_portal_tab_links_to_the_points_page(app, acme, make_business):
    bolt = make_business("bolt")
    assert hook_results(app, acme, "render_portal_tab", customer=None, request=None) == [
        PortalTab(id="loyalty", title="Rewards", url="/b/acme/loyalty/", order=50)
    ]
    assert hook_results(app, bolt, "render_portal_tab", customer=None, request=None) == []


def test_a_customer_sees_their_own_points(client, acme, ann, add_customer, pay, sign_in):
    ben = add_customer(acme, "Ben Ode", "ben@example.test")
    pay(acme, ann.customer_id, 12_345, number="INV-0001")
    pay(acme, ben.customer_id, 99_900, number="INV-0002")
    sign_in(client, acme, ann)

    page = client.get("/b/acme/loyalty/")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<strong id="points-balance">123</strong> points' in html
    assert "INV-0001" in html
    assert "INV-0002" not in html


def test_the_points_page_needs_a_customer_login(app, client, acme, ann, sign_in):
    assert client.get("/b/acme/loyalty/").status_code in NOT_LOGGED_IN
    sign_in(client, acme, create_staff(app, acme))
    assert client.get("/b/acme/loyalty/").status_code in NOT_LOGGED_IN  # a staff login is no customer login


def test_render_console_menu_lead_staff_to_every_customers_balance(app, client, acme, ann, pay):
    pay(acme, ann.customer_id, 4_200, number="A-1")
    create_staff(app, acme)
    assert login_staff(client, acme).status_code == 302

    dashboard = client.get("/b/acme/console/").get_data(as_text=True)
    assert '<a href="/b/acme/console/loyalty/">Loyalty points</a>' in dashboard
    page = client.get("/b/acme/console/loyalty/")
    assert page.status_code == 200
    assert "<tr><td>Ann Lee</td><td>42</td></tr>" in page.get_data(as_text=True)


def test_every_staff_page_says_which_roles_may_open_it(app, client, acme, ann):
    assert staff_routes_without_a_role_decision(app) == []
    create_staff(app, acme)  # the first staff member: the owner
    create_staff(app, acme, email="ada@acme.test", name="Ada", role="admin")
    assert login_staff(client, acme, email="ada@acme.test").status_code == 302
    assert client.get("/b/acme/console/loyalty/").status_code == 403  # balances are customer records
    assert "Loyalty points</a>" not in client.get("/b/acme/console/").get_data(as_text=True)


def test_the_console_page_needs_a_staff_login(client, acme, ann, sign_in):
    sign_in(client, acme, ann)
    refused = client.get("/b/acme/console/loyalty/")
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/b/acme/console/login?next=")


def test_switched_off_the_plugin_disappears_and_its_points_stay(app, client, acme, ann, pay, points_of,
                                                                switch_loyalty, sign_in):
    pay(acme, ann.customer_id, 3_000, number="A-1")
    sign_in(client, acme, ann)

    switch_loyalty(acme, False)
    pay(acme, ann.customer_id, 5_000, number="A-2")

    assert client.get("/b/acme/loyalty/").status_code == 404
    assert client.get("/b/acme/console/loyalty/").status_code == 404
    assert hook_results(app, acme, "render_portal_tab", customer=None, request=None) == []
    assert hook_results(app, acme, "render_console_menu", staff_user=None) == []
    assert points_of(acme, ann.customer_id) == [30]

    switch_loyalty(acme, True)

    assert '<strong id="points-balance">30</strong>' in client.get("/b/acme/loyalty/").get_data(as_text=True)
