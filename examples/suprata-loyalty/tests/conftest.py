"""The plugin's own fixtures, on top of those core ships (``app``, ``client``, ``db``, ``make_business``,
``pay_invoice``, ``http_server``, ...: see ``examples/conftest.py``). The app finds the plugin through its
entry point, so install it first: ``pip install -e examples/suprata-loyalty``.

Like every test of the plugin, these import nothing from core but ``core.plugin_api`` and ``core.testing``.
"""

import pytest
from sqlalchemy import select
from suprata_loyalty.models import LoyaltyPoints

from core.plugin_api import business_context, db
from core.testing.records import issue_invoice


@pytest.fixture
def acme(make_business):
    """A business with the plugin on."""
    return make_business("acme", plugins=["loyalty"], name="Acme Plumbing")


@pytest.fixture
def paid(app, pay_invoice):
    """``paid(business, customer_id, amount)``: an invoice of ``amount`` minor units for the customer, paid
    through core's sandbox processor, so ``on_payment_captured`` has run; returns the payment's id."""

    def pay(business, customer_id: int, amount: int, *, currency: str = "USD") -> int:
        invoice = issue_invoice(app, business, customer_id=customer_id, currency=currency,
                                lines=[("Service call", "1", amount, 0)])
        return pay_invoice(business, invoice.id)

    return pay


@pytest.fixture
def points_of(app):
    """``points_of(business, customer_id)``: the customer's rows of points, oldest first."""

    def points(business, customer_id: int) -> list[int]:
        with app.app_context(), business_context(business.id):
            query = select(LoyaltyPoints.points).where(LoyaltyPoints.customer_id == customer_id)
            return list(db.session.scalars(query.order_by(LoyaltyPoints.id)))

    return points
