"""Autopay and follow-up in the console: switching a customer's autopay on (with consent given by phone) or
off, the past-due list with cards about to expire, payments taken by phone, and the confirmation before a
saved card is charged.

Money actions go through :mod:`core.money` (row locks, idempotency keys, audit); this module only asks.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from core.console.blueprint import bp
from core.console.payments import MONEY_ACTION_LIMIT
from core.extensions import db, limiter
from core.identity.roles import requires_permission
from core.models import Customer, Invoice, SavedPaymentMethod
from core.money.autopay.enrolment import AutopayError, choose_card, switch_off, switch_on
from core.money.follow_up import business_today, expiring_autopay_cards, past_due
from core.money.payments.checkout import open_checkout
from core.money.payments.types import Consent, PaymentError
from core.money.payments.wording import card_label, save_card_wording
from core.tenancy import utcnow
from core.tenancy.state import current_business
from core.tenancy.urls import public_url_for


@bp.post("/customers/<int:customer_id>/autopay")
@requires_permission("payments")
@limiter.limit(MONEY_ACTION_LIMIT)
def customer_autopay(customer_id: int):
    """Switch autopay on with the consent the customer gave by phone, choose its card, or switch it off."""
    customer = db.get_or_404(Customer, customer_id)
    action = request.form.get("action")
    back = redirect(url_for("console.customer", customer_id=customer_id) + "#autopay")
    if action == "off":
        switch_off(customer)
        db.session.commit()
        flash(f"Autopay is off for {customer.name}; their invoices go to them to pay.", "success")
        return back
    method = db.session.get(SavedPaymentMethod, request.form.get("method_id", type=int) or 0)
    try:
        if method is None or method.customer_id != customer.id:
            raise AutopayError("Choose one of the customer's saved cards.")
        if action == "card" and customer.autopay_enabled:
            choose_card(customer, method)
            message = f"Autopay now charges {card_label(method)}."
        else:
            switch_on(customer, method, channel="phone", wording=request.form.get("consent_note", ""),
                      staff_user_id=current_user.id)
            message = f"Autopay is on for {customer.name}, charging {card_label(method)}."
    except AutopayError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return back
    db.session.commit()
    flash(message, "success")
    return back


@bp.get("/past-due")
@requires_permission("invoices.view")
def past_due_list():
    """Invoices past due and declined automatic charges, side by side; autopay cards about to expire."""
    today = business_today()
    return render_template("console/past_due.html", rows=past_due(today),
                           expiring=expiring_autopay_cards(today), today=today)


@bp.get("/invoices/<int:invoice_id>/charge-saved-method/<int:method_id>")
@requires_permission("payments")
def confirm_charge(invoice_id: int, method_id: int):
    """Before a saved card is charged: the amount and the card, and one button to go ahead."""
    invoice = db.get_or_404(Invoice, invoice_id)
    method = db.session.get(SavedPaymentMethod, method_id)
    if method is None or method.customer_id != invoice.customer_id or method.detached_at is not None:
        abort(404)
    if invoice.status != "open" or invoice.amount_due <= 0:
        flash("There is nothing to charge on this invoice.", "error")
        return redirect(url_for("console.invoice", invoice_id=invoice_id))
    return render_template("console/invoices/confirm_charge.html", invoice=invoice, method=method)


@bp.post("/invoices/<int:invoice_id>/phone-payment")
@requires_permission("payments")
@limiter.limit(MONEY_ACTION_LIMIT)
def phone_payment(invoice_id: int):
    """Open the processor's payment page for this invoice, for the customer on the phone to give their card
    to the staff member; a yes to "save this card", asked out loud, is recorded as given by phone to them."""
    invoice = db.get_or_404(Invoice, invoice_id)
    consent = None
    if request.form.get("save_card") == "yes":
        consent = Consent(at=utcnow(), text=phone_consent_wording(current_user.name), ip=None,
                          user_agent=None, staff_user_id=current_user.id)
    try:
        opened = open_checkout(
            invoice, source="phone", consent=consent,
            cancel_url=public_url_for("console.invoice", invoice_id=invoice_id),
            success_url=lambda payment_id: public_url_for("console.invoice", invoice_id=invoice_id,
                                                          paid_by_phone=payment_id))
    except PaymentError as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.invoice", invoice_id=invoice_id))
    return redirect(opened.url, code=303)


def phone_consent_wording(staff_name: str) -> str:
    """The consent recorded for a card saved during a payment by phone: the words read out, and to whom."""
    return f"{save_card_wording(current_business().name)} (Said yes by phone to {staff_name}.)"
