"""Money actions on an invoice's page: refund a payment (all or part, after a confirmation that says how much
goes back to which card), charge a saved card in one click, record money taken outside the processor, and
reverse such a payment with a reason.

All go through :mod:`core.money.payments`, which guards against double clicks (row locks, idempotency keys)
and writes the audit trail.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from core.console.blueprint import bp
from core.console.invoice_forms import OfflinePaymentForm, RefundForm, ReversalForm
from core.extensions import db, limiter
from core.identity.roles import requires_permission
from core.models import Invoice, Payment, SavedPaymentMethod
from core.money.amounts import format_money, to_minor_units
from core.money.payments.commands import charge_saved_method, refund_payment
from core.money.payments.offline import record_offline_payment, reverse_offline_payment
from core.money.payments.types import CAPTURED_STATUSES, PaymentError
from core.money.payments.wording import paid_with

# Money actions are rare; a burst means a stuck button or a script.
MONEY_ACTION_LIMIT = "20 per minute"


def _payment_or_404(invoice_id: int, payment_id: int) -> Payment:
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.invoice_id != invoice_id:
        abort(404)
    return payment


def _back(invoice_id: int, anchor: str = "payments"):
    return redirect(url_for("console.invoice", invoice_id=invoice_id, _anchor=anchor))


@bp.route("/invoices/<int:invoice_id>/payments/<int:payment_id>/refund", methods=["GET", "POST"])
@limiter.limit(MONEY_ACTION_LIMIT, methods=["POST"])
@requires_permission("payments")
def refund(invoice_id: int, payment_id: int):
    """Refund the amount typed (blank: everything not refunded yet) through the payment's processor, once
    staff confirmed the amount and the card it goes back to."""
    payment = _payment_or_404(invoice_id, payment_id)
    if payment.status not in CAPTURED_STATUSES or payment.method is not None:
        abort(404)
    form = RefundForm()
    remaining = payment.amount - payment.amount_refunded
    amount = None
    if form.validate_on_submit():
        try:
            typed = (form.amount.data or "").strip()
            amount = to_minor_units(typed, payment.currency) if typed else remaining
            if amount <= 0:
                raise ValueError("Enter an amount above zero to refund, or leave it blank to refund "
                                 "everything left.")
            if amount > remaining:
                raise ValueError(f"You can refund at most {format_money(remaining, payment.currency)}.")
        except ValueError as exc:
            form.amount.errors.append(str(exc))
            amount = None
    if amount is not None and form.confirmed.data == "yes":
        try:
            refund_payment(payment, amount, reason=(form.reason.data or "").strip(),
                           staff_user_id=current_user.id)
        except PaymentError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(f"Refunded {format_money(amount, payment.currency)} to {paid_with(payment)}. The customer "
                  "gets a refund receipt by email.", "success")
        return _back(invoice_id)
    invoice = db.session.get(Invoice, invoice_id)
    status = 400 if form.errors else 200
    return render_template("console/invoices/refund.html", invoice=invoice, payment=payment, form=form,
                           amount=amount, remaining=remaining, paid_with=paid_with(payment)), status


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
        return _back(invoice_id)
    money = format_money(payment.amount, payment.currency)
    if payment.status == "succeeded":
        flash(f"Charged {money}. The receipt is on its way.", "success")
    elif payment.status == "failed":
        flash(f"The card was declined ({payment.failure_message}). Nothing was charged.", "error")
    else:
        flash(f"The charge of {money} is processing; this page will show the result.", "success")
    return _back(invoice_id)


@bp.post("/invoices/<int:invoice_id>/payments/record")
@limiter.limit(MONEY_ACTION_LIMIT)
@requires_permission("payments")
def record_payment(invoice_id: int):
    """Money received by cash, cheque, bank transfer or otherwise: the invoice is partly paid or paid, and
    the customer gets a receipt saying how they paid."""
    invoice = db.get_or_404(Invoice, invoice_id)
    form = OfflinePaymentForm()
    if form.validate_on_submit():
        try:
            payment = record_offline_payment(
                invoice, method=form.method.data, amount=to_minor_units(form.amount.data, invoice.currency),
                received_on=form.received_on.data, reference=form.reference.data or "",
                note=form.note.data or "")
        except (ValueError, PaymentError) as exc:
            db.session.rollback()
            flash(f"The payment is not recorded: {exc}", "error")
        else:
            db.session.commit()
            left = db.session.get(Invoice, invoice_id).balance
            rest = (f"{format_money(left, invoice.currency)} is left to pay." if left
                    else "The invoice is paid.")
            flash(f"Recorded {format_money(payment.amount, payment.currency)} ({paid_with(payment)}). {rest} "
                  "The receipt is on its way.", "success")
    else:
        problems = [f"{field.label.text}: {error}" for field in form for error in field.errors]
        flash("The payment is not recorded. " + " ".join(problems), "error")
    return _back(invoice_id)


@bp.route("/invoices/<int:invoice_id>/payments/<int:payment_id>/reverse", methods=["GET", "POST"])
@limiter.limit(MONEY_ACTION_LIMIT, methods=["POST"])
@requires_permission("payments")
def reverse_payment(invoice_id: int, payment_id: int):
    """Take back a payment recorded by hand (a bounced cheque, a mistake), with a reason."""
    payment = _payment_or_404(invoice_id, payment_id)
    if payment.method is None or payment.status != "succeeded":
        abort(404)
    form = ReversalForm()
    if form.validate_on_submit():
        try:
            reverse_offline_payment(payment, reason=form.reason.data)
        except PaymentError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(f"The payment of {format_money(payment.amount, payment.currency)} is reversed; the invoice "
                  "owes it again.", "success")
        return _back(invoice_id)
    invoice = db.session.get(Invoice, invoice_id)
    status = 400 if form.is_submitted() else 200
    return render_template("console/invoices/reverse.html", invoice=invoice, payment=payment, form=form,
                           paid_with=paid_with(payment)), status
