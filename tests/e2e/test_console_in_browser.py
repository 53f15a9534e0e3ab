"""The staff console in headless Chromium, as a new user tries it, on a phone-sized screen: an invoice with
New York's 8.875 %, a discount and a saved item, its totals updating as staff type; a cheque recorded and
the receipt saying so; a link copied from an open invoice; the customer's pay link on the phone. And every
console page of the demo passes an axe-core scan and its Content-Security-Policy."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from core.extensions import db
from core.models import Business, Customer, CustomerEmail, Invoice, Payment, SavedItem, StaffUser, TaxRate
from core.notifications.outbox import deliver_due
from core.tenancy import business_context
from core.testing.browser import accessibility_problems, policy_breaches
from core.testing.helpers import create_staff

PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery"


@pytest.fixture
def acme(app, make_business, served_app, monkeypatch):
    """Acme in New York, with its tax rate, a saved item, a customer and Dana, its owner."""
    monkeypatch.setitem(app.config, "SUPRATA_PUBLIC_URL", served_app.url)
    business = make_business("acme", name="Acme Plumbing", timezone="America/New_York",
                             phone="+1 212 555 0100")
    create_staff(app, business, password=PASSWORD)
    with app.app_context(), business_context(business.id):
        rate = TaxRate(name="NY sales tax", rate_bp=887.5, is_default=True)
        db.session.add(rate)
        db.session.flush()
        db.session.add(SavedItem(name="Drain cleaning", unit_price=34200, tax_rate_id=rate.id,
                                 unit_cost=4000))
        customer = Customer(name="Pat Jones",
                            emails=[CustomerEmail(email="pat@example.com", is_primary=True)])
        db.session.add(customer)
        db.session.commit()
        return business, customer.id


def _phone(browser, **options):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _log_in(page, base: str, email: str = "dana@acme.test", password: str = PASSWORD) -> None:
    page.goto(f"{base}/console/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button:has-text('Log in')")
    page.wait_for_url(re.compile(r"/console/$"))


def _fits(page) -> bool:
    """Nothing sticks out sideways: the page is no wider than the screen."""
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_new_user_on_a_phone_invoices_records_a_cheque_and_hands_out_the_link(app, acme, served_app,
                                                                                browser, mailbox):
    business, customer_id = acme
    base = f"{served_app.url}/b/acme"
    staff = _phone(browser, permissions=["clipboard-read", "clipboard-write"])
    breaches = policy_breaches(staff)
    _log_in(staff, base)

    staff.goto(f"{base}/console/invoices/new?customer={customer_id}")
    assert _fits(staff)
    staff.evaluate("window.notReloaded = true")
    staff.select_option("[name='lines-0-item']", label="Drain cleaning")  # fills the line, taxed at 8.875 %
    assert staff.input_value("[name='lines-0-description']") == "Drain cleaning"
    staff.wait_for_selector("#form-total:text('$372.35')")  # $342.00 + $30.35, worked out as staff type
    staff.click("button:has-text('Add a line')")  # a new line without a round trip
    staff.fill("[name='lines-1-description']", "Call-out")
    staff.fill("[name='lines-1-unit_price']", "100")
    staff.fill("[name='lines-1-discount']", "10%")
    # $342 + $90 = $432, tax $38.34; $470.34 in all
    staff.wait_for_selector("#form-total:text('$470.34')")
    assert staff.evaluate("window.notReloaded") is True
    assert _fits(staff)
    staff.click("button:has-text('Save draft')")
    staff.wait_for_selector("h1:has-text('Invoice INV-0001')")
    assert _fits(staff)
    assert "NY sales tax 8.875 %" in staff.content()
    # The scrollable lines table can be reached with the keyboard.
    assert staff.get_attribute(".table-scroll[aria-label='Invoice lines']", "tabindex") == "0"

    staff.click("button:has-text('Send')")
    staff.wait_for_selector("#pay-link-url")
    staff.click("button:has-text('Copy link')")
    staff.wait_for_selector("button:has-text('Copied')")
    link = staff.evaluate("navigator.clipboard.readText()")
    assert link.startswith(f"{base}/pay/") and link == staff.input_value("#pay-link-url")

    staff.click("summary:has-text('Record a payment')")
    staff.select_option("[name=method]", "cheque")
    staff.fill("[name=amount]", "200.00")
    staff.fill("[name=reference]", "1042")
    staff.click("button:has-text('Record the payment')")
    staff.wait_for_selector("text=Recorded $200.00 (Cheque no. 1042). $270.34 is left to pay.")
    with app.app_context():
        deliver_due()
    receipt = next(m for m in mailbox.wait_for(2) if "Receipt" in str(m["Subject"]))
    assert "paid with Cheque no. 1042" in mailbox.text_of(receipt)

    customer = _phone(browser)
    customer.goto(link)
    due, pay = customer.locator("#due-now"), customer.locator("#pay-box")
    assert due.inner_text() == "$270.34"
    for element in (due, pay):  # visible without scrolling on a 390 x 844 screen
        box = element.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box
    assert _fits(customer)
    assert customer.get_attribute(".site-footer a[href^='tel:']", "href") == "tel:+12125550100"
    small = customer.evaluate("""[...document.querySelectorAll('a, button, input, select, summary')]
        .filter(e => e.offsetParent && !e.closest('p, li, td'))
        .filter(e => { const r = e.getBoundingClientRect(); return r.width < 24 || r.height < 24; })
        .map(e => e.outerHTML.slice(0, 80))""")
    assert small == []  # tap targets of at least 24 px (links inside text excepted, as WCAG allows)
    assert breaches == []

    with app.app_context(), business_context(business.id):
        invoice = db.session.scalar(select(Invoice))
        assert (invoice.total, invoice.amount_paid, invoice.status) == (47034, 20000, "open")
        assert db.session.scalar(select(Payment.method)) == "cheque"


@pytest.fixture
def console_pages(app, db) -> tuple[list[str], int]:
    """Every console page of the demo's Acme that answers a GET with HTML (each route of the staff realm,
    with the ids of demo records), and Acme's id."""
    result = app.test_cli_runner().invoke(args=["suprata", "seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        acme = db.session.scalar(select(Business).where(Business.slug == "acme"))
        with business_context(acme.id):
            part_paid = db.session.scalar(select(Invoice).where(Invoice.status == "open",
                                                                Invoice.amount_paid > 0))
            values = {
                "invoice_id": part_paid.id,
                "customer_id": db.session.scalar(select(Customer.id).order_by(Customer.id)),
                "payment_id": db.session.scalar(select(Payment.id).where(Payment.invoice_id == part_paid.id)),
                "user_id": db.session.scalar(select(StaffUser.id).where(StaffUser.email == "lee@acme.test")),
                "key": "invoice_sent",
            }
    realms = app.extensions["suprata"].blueprint_realms
    adapter = app.url_map.bind("localhost")
    paths = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if (realms.get(rule.endpoint.rpartition(".")[0]) != "staff" or "GET" not in rule.methods
                or getattr(view, "login_exempt", False)):
            continue
        arguments = {name: values.get(name, 1 if isinstance(converter, IntegerConverter) else "x")
                     for name, converter in rule._converters.items()}
        paths.add("/b/acme" + adapter.build(rule.endpoint, arguments))
    return sorted(paths), acme.id


def test_every_console_page_passes_axe_and_its_policy(served_app, browser, console_pages):
    paths, _ = console_pages
    page = browser.new_context().new_page()
    breaches = policy_breaches(page)
    _log_in(page, f"{served_app.url}/b/acme", password="demo-pass-acme")
    problems, scanned = [], 0
    for path in paths:
        answer = page.request.get(served_app.url + path)  # downloads (CSV, documents) are not pages
        if answer.status != 200 or not answer.headers.get("content-type", "").startswith("text/html"):
            continue
        page.goto(served_app.url + path)
        scanned += 1
        problems += [f"{path}: {problem}" for problem in accessibility_problems(page)]
    assert problems == [], "\n".join(problems)
    assert breaches == []
    assert scanned >= 25
