"""Records a test needs, made through core's own functions: customers, sent invoices, plugin switches and
settings. Each helper takes the app and the business (from ``make_business``), commits, and returns plain
values or detached records that stay readable after it returns."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.models import Customer, CustomerEmail, CustomerPhone, Invoice, InvoiceLine
from core.money.invoicing import next_invoice_number, send_invoice
from core.plugins.settings import save_settings, set_enabled
from core.tenancy import business_context

# (description, quantity, unit price in minor units, tax rate in basis points): $125.00 + 8.25 % and
# 2 x $34.00 + 8.25 %, $208.92 in all.
DEFAULT_LINES = (("Water heater flush", "1", 12500, 825), ("Anode rod", "2", 3400, 825))


class IssuedInvoice(NamedTuple):
    """A sent invoice: its id, and the token of its pay link (``/b/<slug>/pay/<token>``)."""

    id: int
    token: str


def create_customer(app, business, name: str = "Pat Jones", *, email: str | None = "pat@example.com",
                    phone: str | None = None, **fields) -> Customer:
    """A customer of ``business`` with a primary email (and phone, if given); returned detached."""
    with app.app_context(), business_context(business.id):
        customer = Customer(name=name, **fields)
        if email:
            customer.emails.append(CustomerEmail(email=email, is_primary=True))
        if phone:
            customer.phones.append(CustomerPhone(number=phone))
        db.session.add(customer)
        db.session.commit()
        # Loaded with its emails and phones, then detached, so the test can read them after this returns.
        customer = db.session.scalars(
            select(Customer).where(Customer.id == customer.id)
            .options(selectinload(Customer.emails), selectinload(Customer.phones))
        ).one()
        db.session.expunge_all()
        return customer


def issue_invoice(app, business, *, customer_id: int | None = None, email: str = "pat@example.com",
                  lines=DEFAULT_LINES, currency: str = "USD", kind: str = "one_off") -> IssuedInvoice:
    """An invoice issued and emailed the way staff send one (its email waits in the outbox; its automatic
    charge, for an autopay kind and a customer with autopay on, waits for the worker).

    It goes to customer ``customer_id``, or to a new customer "Pat Jones" with ``email``. ``lines`` are
    (description, quantity, unit price in minor units, tax rate in basis points).
    """
    with app.app_context(), business_context(business.id):
        if customer_id is None:
            customer = Customer(name="Pat Jones", emails=[CustomerEmail(email=email, is_primary=True)])
        else:
            customer = db.session.get(Customer, customer_id)
        invoice = Invoice(customer=customer, number=next_invoice_number("INV-"), currency=currency, kind=kind)
        for position, (description, quantity, unit_price, tax_rate_bp) in enumerate(lines):
            invoice.lines.append(InvoiceLine(position=position, description=description,
                                             quantity=Decimal(quantity), unit_price=unit_price,
                                             tax_rate_bp=tax_rate_bp))
        db.session.add(invoice)
        db.session.flush()
        token = send_invoice(invoice)
        db.session.commit()
        return IssuedInvoice(invoice.id, token)


def switch_plugin(app, business, name: str, on: bool = True) -> None:
    """Switch plugin ``name`` on (or off) for ``business``, as staff do on the plugins page."""
    with app.app_context(), business_context(business.id):
        set_enabled(name, on)
        db.session.commit()
    app.extensions["suprata"].businesses.forget(business.id)


def save_plugin_settings(app, business, name: str, values: dict) -> None:
    """Store plugin ``name``'s settings for ``business`` through the plugins page's validation; an
    ``AssertionError`` lists what the validation refused."""
    with app.app_context(), business_context(business.id):
        errors = save_settings(name, values)
        assert not errors, errors
        db.session.commit()
    app.extensions["suprata"].businesses.forget(business.id)
