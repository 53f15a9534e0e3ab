"""Plugins for tests: a sandbox payment processor that pays invoices in-process, and a recorder of hooks.

The sandbox processor takes no card and talks to no one: a test decides the outcome and it reports it
through core's ledger, as a processor reports a verified webhook, so everything after it (invoice paid,
receipt queued, ``on_payment_captured`` after commit) is core's real path. Register it for a test with the
``pay_invoice`` fixture (``core.testing.fixtures``).
"""

from __future__ import annotations

from core.extensions import db
from core.models import Invoice, Payment
from core.money.payments.checkout import open_checkout
from core.money.payments.ledger import record_payment_captured, record_payment_failed
from core.money.payments.processor import PaymentProcessor
from core.money.payments.types import CheckoutRedirect
from core.plugin_api import hookimpl
from core.tenancy import business_context

SANDBOX_PLUGIN = "sandbox_payments"


class SandboxProcessor(PaymentProcessor):
    """A processor whose hosted page is never shown: :func:`pay_through_sandbox` says how it went."""

    name = "sandbox"
    label = "Sandbox (tests)"

    def is_connected(self) -> bool:
        return True

    def create_checkout(self, payment, *, save_card, success_url, cancel_url) -> CheckoutRedirect:
        return CheckoutRedirect(url=success_url, checkout_ref=f"sandbox_checkout_{payment.id}")

    def expire_checkout(self, payment) -> None:
        """Nothing to close: the sandbox's page is never shown, and any payment on it is already reported."""

    def refresh_payment(self, payment) -> None:
        """Nothing to ask: the sandbox reported the outcome when the test decided it."""

    def charge_saved_method(self, payment, method) -> None:
        record_payment_captured(self.name, f"sandbox_charge_{payment.id}", amount=payment.amount,
                                currency=payment.currency, payment_id=payment.id)

    def detach_saved_method(self, method) -> None:
        """Nothing is kept in the sandbox."""

    def refund(self, payment, amount: int, idempotency_key: str) -> str:
        return f"sandbox_refund_{idempotency_key}"


class SandboxPayments:
    """The plugin that offers :class:`SandboxProcessor` (``payment_processors``)."""

    def __init__(self):
        self.processor = SandboxProcessor()

    @hookimpl
    def payment_processors(self):
        return self.processor


def pay_through_sandbox(app, business, invoice_id: int, *, decline: str | None = None) -> int:
    """Pay what is due on an invoice as a customer does from its pay link, through the sandbox processor.

    The checkout is opened by core (a pending payment of the amount due), then the sandbox reports the
    capture, or with ``decline`` (a reason such as ``"card_declined"``) the failure. Commits, so
    ``on_payment_captured`` or ``on_payment_failed`` has run when this returns. Returns the payment's id.
    The sandbox plugin must be registered and on for ``business`` (the ``pay_invoice`` fixture does both).
    """
    with app.app_context(), business_context(business.id):
        from_link = f"{app.config['SUPRATA_PUBLIC_URL']}/b/{business.slug}/"
        opened = open_checkout(db.session.get(Invoice, invoice_id),
                               source="pay_link", consent=None, success_url=lambda _payment: from_link,
                               cancel_url=from_link)
        payment = db.session.get(Payment, opened.payment_id)
        assert payment.processor == SandboxProcessor.name, (
            f"{payment.processor!r} took the payment: switch other payment plugins off to use the sandbox")
        if decline:
            record_payment_failed(SandboxProcessor.name, f"sandbox_pay_{payment.id}", code=decline,
                                  message="The sandbox declined the card.", payment_id=payment.id)
        else:
            record_payment_captured(SandboxProcessor.name, f"sandbox_pay_{payment.id}", amount=payment.amount,
                                    currency=payment.currency, payment_id=payment.id)
        db.session.commit()
        return payment.id


class HookRecorder:
    """A plugin that remembers the invoice and payment hooks it receives (register it and switch it on)."""

    def __init__(self):
        self.calls: list[tuple] = []

    @hookimpl
    def on_payment_captured(self, payment, invoice):
        self.calls.append(("on_payment_captured", payment.id, invoice.id))

    @hookimpl
    def on_payment_failed(self, payment, invoice, reason):
        self.calls.append(("on_payment_failed", payment.id, reason))

    @hookimpl
    def on_invoice_sent(self, invoice):
        self.calls.append(("on_invoice_sent", invoice.id))

    @hookimpl
    def on_invoice_viewed(self, invoice, when):
        self.calls.append(("on_invoice_viewed", invoice.id))

    def named(self, hook_name: str) -> list[tuple]:
        return [call for call in self.calls if call[0] == hook_name]
