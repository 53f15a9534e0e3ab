"""Money taken outside the payment processor (cash, a cheque, a bank transfer), recorded by staff, and taken
back by staff with a reason when it was recorded by mistake or the cheque bounced.

A recorded payment counts towards its invoice like a processor's (partly paid, or paid), so the pay link
shows what is left and every checkout page opened for the old amount is closed. The customer gets a
receipt saying how they paid; the audit trail and the customer's timeline say who recorded it.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from core.activity import audit, record
from core.database import lock_row
from core.extensions import db
from core.models import Invoice, Payment
from core.money.amounts import format_money
from core.money.payments import emails
from core.money.payments.ledger import apply_payment
from core.money.payments.tasks import close_checkouts
from core.money.payments.types import PaymentError
from core.money.payments.wording import OFFLINE_METHODS, paid_with
from core.plugins.events import emit_after_commit
from core.tenancy import utcnow
from core.tenancy.state import current_business

OFFLINE = "offline"  # the ``processor`` of a payment staff recorded


def record_offline_payment(invoice: Invoice, *, method: str, amount: int, received_on: date,
                           reference: str = "", note: str = "") -> Payment:
    """Record ``amount`` received by ``method`` (an ``OFFLINE_METHODS`` key) on ``received_on`` for an open
    invoice, in the caller's transaction. Raises PaymentError, for staff, when it cannot be recorded."""
    invoice = lock_row(Invoice, invoice.id)
    if invoice.status != "open":
        raise PaymentError("Only an open invoice can take a payment.")
    if method not in OFFLINE_METHODS:
        raise PaymentError("Choose how the money was paid.")
    if amount <= 0:
        raise PaymentError("Enter the amount received, above zero.")
    if amount > invoice.balance:
        raise PaymentError(f"That is more than the {format_money(invoice.balance, invoice.currency)} left "
                           "to pay on this invoice.")
    if received_on > business_today():
        raise PaymentError("The date can't be in the future.")
    payment = Payment(invoice_id=invoice.id, customer_id=invoice.customer_id, processor=OFFLINE,
                      amount=amount, currency=invoice.currency, status="succeeded", source="staff",
                      method=method, reference=reference.strip()[:100] or None, note=note.strip() or None,
                      captured_at=_moment_of(received_on))
    db.session.add(payment)
    db.session.flush()
    apply_payment(invoice, payment, payment.captured_at)
    how = paid_with(payment)
    money = format_money(amount, invoice.currency)
    record(invoice.customer_id, surface="console", kind="payment.recorded",
           summary=f"Paid {money} for invoice {invoice.number} ({how})", invoice_id=invoice.id,
           payment_id=payment.id)
    audit("payment.recorded", f"invoice {invoice.number}", amount=amount, currency=invoice.currency,
          paid_with=how, received_on=received_on.isoformat(), note=payment.note or "")
    emails.queue_receipt(payment, invoice, card_saved=None)
    emit_after_commit("on_payment_captured", payment=payment, invoice=invoice)
    return payment


def reverse_offline_payment(payment: Payment, *, reason: str) -> Payment:
    """Take back a payment staff recorded (a bounced cheque, a mistake), in the caller's transaction: its
    invoice owes the money again, reopened if it was paid."""
    reason = reason.strip()
    if not reason:
        raise PaymentError("Say why the payment is reversed; it goes in the invoice's history.")
    invoice = lock_row(Invoice, payment.invoice_id)
    payment = lock_row(Payment, payment.id)
    if payment.processor != OFFLINE or payment.status != "succeeded":
        raise PaymentError("Only a payment recorded by hand, and not reversed yet, can be reversed.")
    payment.status = "reversed"
    payment.details = {**payment.details, "reversal": {"reason": reason, "at": utcnow().isoformat()}}
    invoice.amount_paid -= payment.amount
    if invoice.status == "paid" and invoice.balance > 0:
        invoice.status, invoice.paid_at = "open", None
    close_checkouts(invoice)  # a page opened for what was due before now asks for the wrong amount
    money = format_money(payment.amount, payment.currency)
    record(invoice.customer_id, surface="console", kind="payment.reversed",
           summary=f"Payment of {money} for invoice {invoice.number} reversed: {reason}",
           invoice_id=invoice.id, payment_id=payment.id)
    audit("payment.reversed", f"invoice {invoice.number}", amount=payment.amount, currency=payment.currency,
          paid_with=paid_with(payment), reason=reason)
    return payment


def business_today() -> date:
    """Today's date where the business is."""
    return utcnow().astimezone(ZoneInfo(current_business().timezone)).date()


def _moment_of(day: date) -> datetime:
    """When a payment received on ``day`` is dated: now if today, else noon that day in the business's time
    zone (so the date reads the same wherever it is shown)."""
    if day == business_today():
        return utcnow()
    return datetime.combine(day, time(12), ZoneInfo(current_business().timezone))
