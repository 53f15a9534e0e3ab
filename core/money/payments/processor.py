"""What a payment processor is to core, and how core finds the business's processors.

A processor plugin returns :class:`PaymentProcessor` objects from the ``payment_processors`` hook. Core keeps
the payments, saved-method rows and consent records; each processor verifies its own webhooks on a route of
its own and reports what it learned through the ledger (:mod:`core.money.payments.ledger`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from flask import current_app

from core.models import Payment, SavedPaymentMethod
from core.money.payments.types import CheckoutRedirect, PaymentError


class PaymentProcessor(ABC):
    """A payment processor (returned by the ``payment_processors`` hook). Deliberately small.

    A processor never changes money state itself: it reports what its processor says, from a verified
    webhook or a server-side re-fetch, through ``record_payment_captured``, ``record_payment_failed``,
    ``record_refund``, ``record_card_saved``, ``record_checkout_expired`` and ``record_method_detached``,
    which apply each fact exactly once. Methods that talk to the processor raise
    :class:`~core.money.payments.types.ProcessorError` with a message for staff when it refuses or cannot be
    reached.
    """

    #: short identifier stored on payments and saved methods, e.g. ``"stripe"``
    name: str = ""
    #: shown to staff
    label: str = ""
    #: the endpoint of the customer page where a saved card is replaced, if the processor's plugin has one;
    #: core links to it from failed-charge and card notices
    update_card_endpoint: str | None = None

    @abstractmethod
    def is_connected(self) -> bool:
        """True when the current business has configured this processor and can take payments."""

    @abstractmethod
    def create_checkout(self, payment: Payment, *, save_card: bool, success_url: str, cancel_url: str
                        ) -> CheckoutRedirect:
        """Open the processor's hosted payment page for ``payment`` (amount and currency already set).

        ``save_card`` is True only when the customer consented to keeping the card for later
        (the consent is on ``payment.details["consent"]``); otherwise nothing may be kept.
        """

    @abstractmethod
    def expire_checkout(self, payment: Payment) -> None:
        """Close the hosted page opened for ``payment`` (its ``checkout_ref``), so it can take no money.

        Core calls this when the invoice was paid, voided or changed, or a newer page replaces this one, and
        again until it returns. Return once the processor says the page is closed, or was closed or paid
        already; if it was paid, report the capture through ``record_payment_captured`` first (core refunds
        or holds money that arrives twice). Raise ``ProcessorError`` when the processor refuses or cannot be
        reached: core tries again later, and opens no other page for the invoice meanwhile.
        """

    @abstractmethod
    def refresh_payment(self, payment: Payment) -> None:
        """Re-fetch the processor's object for ``payment`` server-side and record what it says."""

    @abstractmethod
    def charge_saved_method(self, payment: Payment, method: SavedPaymentMethod) -> None:
        """Charge a saved method off-session for ``payment`` and record the outcome.

        The request carries ``payment.idempotency_key``, so charging the same payment again returns the
        first result instead of charging twice.
        """

    @abstractmethod
    def detach_saved_method(self, method: SavedPaymentMethod) -> None:
        """Remove a saved method at the processor; core marks it detached."""

    @abstractmethod
    def refund(self, payment: Payment, amount: int, idempotency_key: str) -> str:
        """Refund ``amount`` of ``payment`` at the processor, sending ``idempotency_key`` with the request;
        returns the processor's refund id."""


def processors() -> list[PaymentProcessor]:
    """The payment processors of the current business's enabled plugins."""
    return current_app.extensions["suprata"].plugins.call("payment_processors")


def connected_processor() -> PaymentProcessor | None:
    """The first enabled processor that is set up to take payments, or None."""
    return next((p for p in processors() if p.is_connected()), None)


def processor_named(name: str) -> PaymentProcessor:
    """The enabled processor called ``name``; PaymentError when its plugin is off or not set up."""
    for processor in processors():
        if processor.name == name and processor.is_connected():
            return processor
    raise PaymentError("The payment processor for this payment is not connected.")
