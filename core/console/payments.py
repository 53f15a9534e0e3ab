"""Money actions on an invoice's page: refund a payment (all or part), charge a saved card in one click.

Both go through :mod:`core.money.payments`, which guards against double clicks (row locks, idempotency keys)
and writes the audit trail.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from core.console.blueprint import bp
from core.extensions import db, limiter
from core.identity.roles import requires_permission
from core.models import Invoice, Payment, SavedPaymentMethod
from core.money.amounts import format_money, to_minor_units
from core.money.payments.commands import charge_saved_method, refund_payment
from core.money.payments.types import PaymentError

# Money actions are rare; a burst means a stuck button or a script.
MONEY_ACTION_LIMIT = "20 per minute"


@bp.post("/invoices/<int:invoice_id>/payments/<int:payment_id>/refund")
@limiter.limit(MONEY_ACTION_LIMIT)
@requires_permission("payments")
def refund(invoice_id: int, payment_id: int):
    """Refund the amount typed (blank: everything not refunded yet) through the payment's processor."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.invoice_id != invoice_id:
        abort(404)
    remaining = payment.amount - payment.amount_refunded
    try:
        amount = _minor_units(request.form.get("amount", ""), payment.currency)
        amount = remaining if amount is None else amount
        refund_payment(payment, amount, reason=(request.form.get("reason") or "").strip()[:255],
                       staff_user_id=current_user.id)
    except (ValueError, PaymentError) as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(f"Refunded {format_money(amount, payment.currency)}.", "success")
    return redirect(url_for("console.invoice", invoice_id=invoice_id))


@bp.post("/invoices/<int:invoice_id>/charge-saved-method")
@limiter.limit(MONEY_ACTION_LIMIT)
@requires_permission("payments")
def charge_saved(invoice_id: int):
    """Charge the invoice's amount due to one of the customer's saved cards, off-session."""
    invoice = db.session.get(Invoice, invoice_id)
    method = db.session.get(SavedPaymentMethod, request.form.get("method_id", type=int) or 0)
    if invoice is None or method is None:
        abort(404)
    try:
        payment = charge_saved_method(invoice, method, source="staff")
    except PaymentError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("console.invoice", invoice_id=invoice_id))
    money = format_money(payment.amount, payment.currency)
    if payment.status == "succeeded":
        flash(f"Charged {money}. The invoice is paid and the receipt is on its way.", "success")
    elif payment.status == "failed":
        flash(f"The card was declined ({payment.failure_message}). Nothing was charged.", "error")
    else:
        flash(f"The charge of {money} is processing; this page will show the result.", "success")
    return redirect(url_for("console.invoice", invoice_id=invoice_id))


def _minor_units(text: str, currency: str) -> int | None:
    """"12.50" -> 1250 (in the currency's minor units); None when nothing was typed."""
    return to_minor_units(text, currency) if text.strip() else None
