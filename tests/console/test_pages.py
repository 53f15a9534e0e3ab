"""Every console page renders in the theme, for a business with every bundled plugin switched on."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.models import Customer, CustomerEmail, Invoice, InvoiceLine
from core.tenancy import business_context
from core.testing.helpers import create_staff, login_staff

PAGES = [
    "/",
    "/customers",
    "/customers/new",
    "/customers/{customer}",
    "/customers/{customer}/edit",
    "/invoices",
    "/invoices/new",
    "/invoices/new?customer={customer}",
    "/invoices/{invoice}",
    "/invoices/{invoice}/edit",
    "/invoices/{invoice}/void",
    "/invoices/{invoice}/links/revoke",
    "/invoices?q=Ann&status=draft&from=2026-01-01",
    "/items",
    "/settings/tax-rates",
    "/staff/{staff}/deactivate",
    "/plugins",
    "/settings",
    "/settings/addresses",
    "/staff",
    "/settings/notifications",
    "/settings/notifications/invoice_sent",
    "/outbox",
    "/password",
]


@pytest.fixture
def ids(app, db, business) -> dict:
    with app.app_context(), business_context(business.id):
        customer = Customer(name="Ann Lee", emails=[CustomerEmail(email="ann@example.com", is_primary=True)])
        db.session.add(customer)
        db.session.flush()
        invoice = Invoice(customer_id=customer.id, number="INV-0001", currency="USD")
        visit = InvoiceLine(description="Visit", quantity=Decimal(1), unit_price=5000, tax_rate_bp=0)
        invoice.lines = [visit]
        invoice.recompute_totals()
        db.session.add(invoice)
        db.session.commit()
        return {"customer": customer.id, "invoice": db.session.scalar(select(Invoice.id))}


@pytest.mark.parametrize("page", PAGES)
def test_every_console_page_renders_with_every_plugin_on(app, client, business, ids, password, page):
    create_staff(app, business, password=password)
    colleague = create_staff(app, business, email="sam@acme.test", name="Sam Lee", password=password)
    login_staff(client, business, password=password)
    response = client.get("/b/acme/console" + page.format(staff=colleague.id, **ids))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="console-menu"' in html and "Acme Plumbing" in html
