"""The help site as customers use it, in headless Chromium at desktop and phone sizes: a visitor searches,
reads an article, says it helped and sends a request that waits for its email link; a customer signed in
to the portal goes to Help, is shown by name, files a request with a picture, and follows it in the
portal's Tickets tab. Every page passes an accessibility scan (axe-core) with no serious or critical
violation, and breaks no rule of its Content-Security-Policy."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import Customer, CustomerEmail
from core.notifications.outbox import deliver_due
from core.tenancy import business_context
from core.testing.browser import assert_accessible
from core.testing.helpers import create_customer_login
from plugins.helpdesk import articles
from plugins.helpdesk.models import Ticket

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
CONFIRM_LINK = re.compile(r"https?://\S+/help/tickets/confirm/[A-Za-z0-9_\-]+")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def live_help(app, make_business, served_app, monkeypatch):
    """Acme with the help desk and the portal on, links pointing at the served app, two articles and Pat,
    a customer with a login."""
    monkeypatch.setitem(app.config, "SUPRATA_PUBLIC_URL", served_app.url)
    business = make_business("acme", plugins=["helpdesk", "portal"], name="Acme Plumbing",
                             timezone="America/New_York")
    with app.app_context(), business_context(business.id):
        heating = articles.save_category(None, name="Heating", description="Boilers and radiators",
                                         position=0)
        articles.save_article(None, title="Bleeding a radiator", category_id=heating.id, status="published",
                              body_markdown="Open the **bleed valve** a quarter turn.\n\n1. Wait\n2. Close")
        articles.save_article(None, title="Boiler pressure", category_id=heating.id, status="published",
                              body_markdown="Keep it between 1 and 1.5 bar.")
        customer = Customer(name="Pat Jones",
                            emails=[CustomerEmail(email="pat@example.com", is_primary=True)])
        db.session.add(customer)
        db.session.commit()
        customer_id = customer.id
    create_customer_login(app, business, customer_id, email="pat@example.com", password="a long passphrase")
    return business


@pytest.mark.parametrize("size", sorted(SIZES))
def test_a_visitor_reads_and_sends_a_request_that_waits_for_its_link(app, live_help, served_app, browser,
                                                                     mailbox, tmp_path, size):
    context = browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    page.set_default_timeout(15_000)
    breaches = []
    page.on("console", lambda m: breaches.append(m.text) if "Content Security Policy" in m.text else None)
    base = f"{served_app.url}/b/acme"

    page.goto(f"{base}/help/")
    assert_accessible(page, "help home")
    page.fill("#help-q", "radiator valve")
    page.click("button:has-text('Search')")
    assert_accessible(page, "search results")
    page.click("text=Bleeding a radiator")
    assert page.inner_text("h1") == "Bleeding a radiator"
    assert_accessible(page, "article")
    page.click("button[value=yes]")
    page.wait_for_selector("text=Thank you for telling us")
    page.goto(f"{base}/help/categories/heating")
    assert_accessible(page, "category")

    page.goto(f"{base}/help/tickets/new")
    page.fill("input[name=name]", "Jo Visitor")
    page.fill("input[name=email]", "jo@example.com")
    page.fill("input[name=subject]", "Radiator still cold")
    page.fill("textarea[name=message]", "Bled it, still cold at the top.")
    picture = tmp_path / "radiator.png"
    picture.write_bytes(PNG)
    page.set_input_files("input[name=attachments]", str(picture))
    assert_accessible(page, "ticket form")
    page.click("#send-ticket")
    page.wait_for_selector("text=Check your email")
    assert_accessible(page, "check your email")
    with app.app_context(), business_context(live_help.id):
        assert db.session.scalar(select(Ticket.status)) == "unverified"
        deliver_due()
    [message] = [m for m in mailbox.wait_for(1) if "Confirm your request" in str(m["Subject"])]
    page.goto(CONFIRM_LINK.search(mailbox.text_of(message)).group(0))
    assert_accessible(page, "confirm")
    page.click("#confirm-ticket")
    page.wait_for_selector("text=your request is with our team")
    with app.app_context(), business_context(live_help.id):
        assert db.session.scalar(select(Ticket.status)) == "open"
    context.close()
    assert breaches == []


@pytest.mark.parametrize("size", sorted(SIZES))
def test_a_signed_in_customer_files_a_request_and_follows_it_in_the_portal(app, live_help, served_app,
                                                                            browser, size):
    context = browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    page.set_default_timeout(15_000)
    base = f"{served_app.url}/b/acme"

    page.goto(f"{base}/account/login")
    page.fill("input[name=email]", "pat@example.com")
    page.fill("input[name=password]", "a long passphrase")
    page.click("button[type=submit]")
    page.wait_for_selector(".portal-tabs")
    page.click(".header-nav a:has-text('Help')")
    assert page.inner_text("#signed-in-as") == "Pat Jones"  # the name in the corner, no second login
    page.click("#new-ticket")
    assert page.locator("input[name=email]").count() == 0
    page.fill("input[name=subject]", "Boiler pressure keeps dropping")
    page.fill("textarea[name=message]", "Down to 0.5 bar every morning.")
    assert_accessible(page, "signed-in ticket form")
    page.click("#send-ticket")
    page.wait_for_selector("#ticket-status")
    assert page.inner_text("#ticket-status") == "Open"
    assert_accessible(page, "ticket")

    page.goto(f"{base}/portal/tickets/")
    assert "Boiler pressure keeps dropping" in page.inner_text("#ticket-list")
    assert_accessible(page, "portal tickets tab")
    page.click("#ticket-list a")
    page.fill("textarea[name=message]", "It is at 0.4 now.")
    page.click("#send-reply")
    page.wait_for_selector("text=It is at 0.4 now.")
    assert_accessible(page, "portal ticket")
    context.close()
