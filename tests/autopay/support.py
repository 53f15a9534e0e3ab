"""What autopay tests share: a customer who paid once and has autopay on, issuing, running the worker.

They pay through the Stripe plugin against the local Stripe server, with the real SDK.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import Customer, Invoice, Payment, SavedPaymentMethod
from core.money.autopay.enrolment import switch_on
from core.money.autopay.runner import run_due_autopay
from core.notifications.outbox import deliver_due
from core.tenancy import business_context, utcnow
from core.testing.records import issue_invoice
from plugins.payments_stripe.testing import GOOD_CARD, deliver, pay_now, pay_on_hosted_page

SUBSCRIPTION = (("Monthly maintenance plan", "1", 4900, 0),)


class Enrolled(NamedTuple):
    """A customer who paid once by link, saving their card, and switched autopay on."""

    customer_id: int
    method_id: int
    card_ref: str


def pay_first_invoice(app, client, shop, inbox, *, card: str = GOOD_CARD, save_card: bool = True) -> int:
    """The customer's first, manual payment: an invoice paid from its link (saving the card); returns the
    customer's id."""
    invoice_id, token = issue_invoice(app, shop, lines=(("First visit", "1", 12000, 0),))
    fields = {"save_card": "yes"} if save_card else {}
    hosted_url = pay_now(client, shop, token, fields).headers["Location"]
    assert pay_on_hosted_page(hosted_url, card).status_code == 303
    deliver(client, shop, inbox.wait_for("checkout.session.completed", hosted_url.rsplit("/", 1)[1]))
    with app.app_context(), business_context(shop.id):
        invoice = db.session.get(Invoice, invoice_id)
        assert invoice.status == "paid"
        return invoice.customer_id


def enrol(app, shop, customer_id: int, *, staff_user_id: int | None = None) -> Enrolled:
    """Switch autopay on with consent given by phone, charging the customer's saved card."""
    with app.app_context(), business_context(shop.id):
        customer = db.session.get(Customer, customer_id)
        method = db.session.scalar(select(SavedPaymentMethod)
                                   .where(SavedPaymentMethod.customer_id == customer_id))
        switch_on(customer, method, channel="phone", wording="Yes, charge my card for the monthly plan.",
                  staff_user_id=staff_user_id)
        db.session.commit()
        return Enrolled(customer_id, method.id, method.processor_ref)


@pytest.fixture
def enrolled(app, client, shop, inbox, stripe_api) -> Enrolled:
    """A customer of the shop with autopay on, their good card saved from a first payment by link."""
    return enrol(app, shop, pay_first_invoice(app, client, shop, inbox))


def issue_subscription(app, shop, customer_id: int, *, kind: str = "subscription") -> int:
    """A $49.00 invoice of ``kind`` issued to the customer; returns its id."""
    return issue_invoice(app, shop, customer_id=customer_id, lines=SUBSCRIPTION, kind=kind).id


def run_worker(app, now: datetime | None = None) -> int:
    """The worker's autopay sweep and outbox delivery, once, at ``now`` (default: now)."""
    moment = now or utcnow()
    with app.app_context():
        charged = run_due_autopay(now=moment)
    with app.app_context():
        deliver_due(now=max(moment, utcnow()))
    return charged


def later(days: float = 0, **kwargs) -> datetime:
    return utcnow() + timedelta(days=days, **kwargs)


def payments_of(app, shop, invoice_id: int) -> list[Payment]:
    with app.app_context(), business_context(shop.id):
        payments = db.session.scalars(select(Payment).where(Payment.invoice_id == invoice_id)
                                      .order_by(Payment.id)).all()
        db.session.expunge_all()
        return payments


def mail(mailbox, to: str, subject_part: str):
    """The email to ``to`` whose subject contains ``subject_part`` (delivered by :func:`run_worker`)."""
    found = [m for m in mailbox.to(to) if subject_part in m["Subject"]]
    assert found, f"no email to {to} about {subject_part!r}: {[m['Subject'] for m in mailbox.messages]}"
    return found[-1]
