"""In headless Chromium, the portal on 127.0.0.1 and the help site on localhost (two servers, two ports, two
sets of cookies): log in to the portal, Get Help, file a ticket, View my invoices, with no second login, and
every page passes an accessibility scan (axe-core) with no serious or critical violation."""

from __future__ import annotations

from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from core.extensions import db
from core.tenancy import business_context
from core.testing.helpers import create_customer_login
from core.testing.records import create_customer, issue_invoice
from plugins.helpdesk.models import Ticket
from tests.sso.conftest import PASSWORD


def assert_accessible(page, where: str) -> None:
    violations = Axe().run(page).response["violations"]
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations
           if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{where}: {bad}"


def test_portal_get_help_file_a_ticket_and_back_to_the_invoices_with_one_login(app, sites, browser):
    customer = create_customer(app, sites.business, "Maria Garcia", email="maria@example.com")
    create_customer_login(app, sites.business, customer.id, email="maria@example.com", password=PASSWORD)
    issue_invoice(app, sites.business, customer_id=customer.id, email="maria@example.com")
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)

    page.goto(sites.portal + "/account/login")
    page.fill("input[name=email]", "maria@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url("**/portal/invoices")
    assert_accessible(page, "portal invoices")

    page.click("a:has-text('Get Help')")
    page.wait_for_selector("#signed-in-as")
    assert urlsplit(page.url).hostname == "localhost"
    assert page.inner_text("#signed-in-as") == "Maria Garcia"
    assert_accessible(page, "help site home")

    page.click("#new-ticket")
    page.fill("input[name=subject]", "Dripping tap")
    page.fill("textarea[name=message]", "The kitchen tap drips all night.")
    assert_accessible(page, "ticket form")
    page.click("#send-ticket")
    page.wait_for_selector("text=Dripping tap")
    assert "/help/tickets/" in page.url
    assert_accessible(page, "the ticket")
    with app.app_context(), business_context(sites.business.id):
        [ticket] = db.session.scalars(select(Ticket)).all()
        assert ticket.customer_id == customer.id and ticket.status == "open"

    page.click("a:has-text('View my invoices')")
    page.wait_for_url("**/portal/invoices")
    assert urlsplit(page.url).hostname == "127.0.0.1"
    assert "Log in to your account" not in page.content()
    context.close()
