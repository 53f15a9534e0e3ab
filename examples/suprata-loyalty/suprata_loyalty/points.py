"""Earning and reading points. Every query here is scoped to the current business by core."""

from __future__ import annotations

from sqlalchemy import func, select

from core.plugin_api import Customer, Invoice, Payment, db, to_major
from suprata_loyalty import webhooks
from suprata_loyalty.models import LoyaltyPoints
from suprata_loyalty.settings import points_per_unit


def whole_units(amount: int, currency: str) -> int:
    """Whole currency units in an amount of minor units: 12_345 USD cents -> 123 (the currency's digits come
    from core)."""
    return int(to_major(amount, currency))


def award_points(payment: Payment) -> LoyaltyPoints | None:
    """Credit the payment's customer for a captured payment, once, and queue the news for the business's
    webhook in the same transaction. Commits; returns the new row, if any."""
    points = whole_units(payment.amount, payment.currency) * points_per_unit()
    if points <= 0:
        return None
    if db.session.scalar(select(LoyaltyPoints.id).where(LoyaltyPoints.payment_id == payment.id)):
        return None
    row = LoyaltyPoints(customer_id=payment.customer_id, invoice_id=payment.invoice_id, payment_id=payment.id,
                        points=points)
    db.session.add(row)
    db.session.flush()
    webhooks.announce(row)
    db.session.commit()
    return row


def balance(customer_id: int) -> int:
    total = func.coalesce(func.sum(LoyaltyPoints.points), 0)
    return db.session.scalar(select(total).where(LoyaltyPoints.customer_id == customer_id))


def history(customer_id: int) -> list:
    """The customer's points, newest first, with the invoice number and payment date of each."""
    return db.session.execute(
        select(LoyaltyPoints.points, Invoice.number, Payment.captured_at)
        .join(Invoice, Invoice.id == LoyaltyPoints.invoice_id)
        .join(Payment, Payment.id == LoyaltyPoints.payment_id)
        .where(LoyaltyPoints.customer_id == customer_id)
        .order_by(LoyaltyPoints.id.desc())
    ).all()


def balances() -> list:
    """Every customer holding points, with their balance, largest first (one query)."""
    total = func.sum(LoyaltyPoints.points).label("points")
    return db.session.execute(
        select(Customer.id, Customer.name, total)
        .join(LoyaltyPoints, LoyaltyPoints.customer_id == Customer.id)
        .group_by(Customer.id, Customer.name)
        .order_by(total.desc(), Customer.name)
    ).all()


def recent(limit: int = 20) -> list:
    """The latest points earned, newest first, with the customer, the invoice and the webhook's answer."""
    return db.session.execute(
        select(LoyaltyPoints.points, LoyaltyPoints.announced_at, Customer.name, Invoice.number)
        .join(Customer, Customer.id == LoyaltyPoints.customer_id)
        .join(Invoice, Invoice.id == LoyaltyPoints.invoice_id)
        .order_by(LoyaltyPoints.id.desc())
        .limit(limit)
    ).all()
