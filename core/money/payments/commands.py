"""Payment actions that customers and staff start: a pending payment, a charge of a saved card, a refund.

Amounts are always computed here, on the server, from the invoice. Each action that talks to a processor
writes its intent and commits before the call, under a lock on the invoice or payment, so a double click or a
retry reuses the first attempt instead of making a second one.
"""

from __future__ import annotations

from sqlalchemy import select

from core.activity import audit
from core.database import lock_row
from core.extensions import db
from core.models import Invoice, Payment, Refund, SavedPaymentMethod
from core.money.amounts import format_money
from core.money.payments.health import record_processor_status
from core.money.payments.ledger import record_refund, refunds_of
from core.money.payments.processor import processor_named
from core.money.payments.tasks import CLOSE_CHECKOUT, schedule
from core.money.payments.types import (
    CAPTURED_STATUSES,
    CheckoutRedirect,
    Consent,
    PaymentError,
    ProcessorError,
)
from core.money.payments.wording import card_label


def check_payable(invoice: Invoice) -> None:
    """Raise PaymentError, with a message for the customer, unless the invoice can take a payment now."""
    if invoice.status == "void":
        raise PaymentError("This invoice was cancelled and can't be paid.")
    if invoice.status == "paid":
        raise PaymentError("This invoice is already paid.")
    if invoice.status != "open":
        raise PaymentError("This invoice hasn't been issued yet.")
    if invoice.amount_due <= 0:
        raise PaymentError("There is nothing left to pay on this invoice.")


def start_payment(invoice: Invoice, processor, *, source: str, save_card: Consent | None,
                  returns_to: str | None = None) -> Payment:
    """A pending payment of the invoice's amount due, computed here on the server, for a checkout page.

    ``save_card`` is the customer's consent to keep the card, or None when the box was not ticked; it is
    stored on the payment so the card is kept only if this payment succeeds. ``returns_to`` tells which page
    the checkout goes back to (a digest: :mod:`.checkout` reuses a page only for the same one).
    """
    invoice = lock_row(Invoice, invoice.id)
    details = {"consent": save_card.as_dict()} if save_card else {}
    if returns_to:
        details["returns_to"] = returns_to
    return _new_payment(invoice, processor.name, source=source, details=details)


def _new_payment(invoice: Invoice, processor_name: str, *, source: str, **columns) -> Payment:
    """A pending payment of the amount due on ``invoice`` (locked by the caller), flushed to get its id."""
    check_payable(invoice)
    payment = Payment(invoice_id=invoice.id, customer_id=invoice.customer_id, processor=processor_name,
                      amount=invoice.amount_due, currency=invoice.currency, source=source, **columns)
    db.session.add(payment)
    db.session.flush()
    return payment


def record_checkout_started(payment: Payment, hosted: CheckoutRedirect) -> bool:
    """Remember the hosted page opened for ``payment``; False when the payment was closed while the page was
    being opened (its invoice paid, voided or changed meanwhile): that page is then owed a close as well."""
    lock_row(Invoice, payment.invoice_id)
    payment = lock_row(Payment, payment.id)
    payment.checkout_ref, payment.checkout_url = hosted.checkout_ref, hosted.url
    payment.checkout_expires_at = hosted.expires_at
    if payment.status == "pending":
        return True
    if payment.status in ("expiring", "canceled"):
        payment.status = "expiring"
        schedule(payment, CLOSE_CHECKOUT)
    return False


def cancel_payment(payment: Payment) -> None:
    """Give up a payment that is still pending (its hosted page closed or never opened)."""
    payment = lock_row(Payment, payment.id)
    if payment.status == "pending":
        payment.status = "canceled"


def charge_saved_method(invoice: Invoice, method: SavedPaymentMethod, *, source: str = "staff") -> Payment:
    """Charge a saved card off-session for the invoice's amount due; commits.

    The invoice row is locked while the payment is created, so a double click cannot create two payments:
    the second request finds the first one pending and charges that one again with the same idempotency key,
    which the processor answers with the first result instead of charging twice.
    """
    invoice = lock_row(Invoice, invoice.id)
    method = db.session.get(SavedPaymentMethod, method.id)
    if method is None or method.detached_at is not None or method.customer_id != invoice.customer_id:
        raise PaymentError("That saved card is not available for this customer.")
    payment = db.session.scalar(
        select(Payment).where(
            Payment.invoice_id == invoice.id,
            Payment.status == "pending",
            Payment.saved_method_id.is_not(None),
        )
    )
    if payment is None:
        processor = processor_named(method.processor)
        payment = new_saved_method_payment(invoice, method, source=source)
        audit("payment.charge_saved_method", f"invoice {invoice.number}",
              amount=payment.amount, currency=payment.currency, card=card_label(method))
    else:
        processor = processor_named(payment.processor)
        method = db.session.get(SavedPaymentMethod, payment.saved_method_id)
    db.session.commit()
    try:
        processor.charge_saved_method(payment, method)
    except ProcessorError as exc:
        db.session.rollback()
        raise PaymentError(f"The charge did not go through: {exc}") from exc
    db.session.commit()
    return db.session.get(Payment, payment.id)


def new_saved_method_payment(invoice: Invoice, method: SavedPaymentMethod, *, source: str,
                             idempotency_key: str | None = None) -> Payment:
    """A pending payment of the amount due on ``invoice`` (locked by the caller) to charge ``method``
    off-session, with the idempotency key every charge of it carries (default: one of its own)."""
    payment = _new_payment(invoice, method.processor, source=source, saved_method_id=method.id)
    payment.idempotency_key = idempotency_key or f"suprata-{payment.business_id}-payment-{payment.id}"
    return payment


def refund_payment(payment: Payment, amount: int, *, reason: str = "", staff_user_id: int | None = None,
                   actor: str | None = None) -> Refund:
    """Refund ``amount`` (minor units) of a captured payment through its processor; commits.

    The refund is written (pending) and committed before the processor is asked, under a lock on the
    payment, so two clicks can never refund more than was paid; the processor call carries an idempotency
    key derived from the refund's id. ``actor`` names who asked in the audit trail when no staff member did.
    """
    if amount <= 0:
        raise PaymentError("Enter an amount above zero to refund, or leave it blank to refund everything "
                           "left.")
    payment = lock_row(Payment, payment.id)
    if payment.status not in CAPTURED_STATUSES:
        raise PaymentError("Only a completed payment can be refunded.")
    if payment.method is not None:
        raise PaymentError("A payment recorded by hand is not refunded here: give the money back as you "
                           "took it, and reverse the payment.")
    in_flight = sum(r.amount for r in refunds_of(payment) if r.status == "pending")
    refundable = payment.amount - payment.amount_refunded - in_flight
    if amount > refundable:
        raise PaymentError(f"You can refund at most {format_money(max(refundable, 0), payment.currency)}.")
    processor = processor_named(payment.processor)
    refund = Refund(payment_id=payment.id, amount=amount, reason=reason or None, staff_user_id=staff_user_id)
    db.session.add(refund)
    db.session.flush()
    invoice = db.session.get(Invoice, payment.invoice_id)
    audit("payment.refund_requested", f"invoice {invoice.number}", actor=actor, amount=amount,
          currency=payment.currency, reason=reason)
    db.session.commit()
    try:
        refund_ref = processor.refund(payment, amount, f"suprata-{payment.business_id}-refund-{refund.id}")
    except ProcessorError as exc:
        refund = db.session.get(Refund, refund.id)
        refund.status = "failed"
        audit("payment.refund_failed", f"invoice {invoice.number}", actor=actor, amount=amount,
              error=str(exc))
        record_processor_status(payment.processor, f"a refund did not go through ({exc})")
        db.session.commit()
        raise PaymentError(f"The refund did not go through: {exc}") from exc
    record_processor_status(payment.processor, None)
    refund = record_refund(payment.processor, payment.processor_ref, refund_ref=refund_ref, amount=amount,
                           refund_id=refund.id)
    db.session.commit()
    return refund
