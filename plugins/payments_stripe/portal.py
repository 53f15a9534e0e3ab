"""The customer's "Payment methods" tab: the cards kept for them (core keeps the rows), adding or replacing
one through Stripe's hosted page in setup mode, removing one, choosing which is used first, and the autopay
toggle (core decides when autopay may go on and records the customer's consent). Core links here from every
notice about a failed automatic charge or an expiring card (``StripeProcessor.update_card_endpoint``).

A card is kept only with the customer's consent, recorded with it; whether the hosted page really saved a
card is asked of Stripe by our server (here on return, and by the ``setup_intent.succeeded`` webhook),
never taken from the browser's return.
"""

from __future__ import annotations

import logging

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from core.plugin_api import (
    AutopayError,
    Consent,
    ProcessorError,
    SavedPaymentMethod,
    autopay_consent_wording,
    card_label,
    current_business,
    customer_blueprint,
    db,
    detach_payment_method,
    limiter,
    make_default,
    public_url,
    record_activity,
    save_card_wording,
    saved_methods_of,
    switch_autopay_off,
    switch_autopay_on,
    utcnow,
    why_autopay_not_allowed,
)
from plugins.payments_stripe.processor import StripeProcessor

log = logging.getLogger("suprata.payments_stripe")

portal = customer_blueprint("payments_stripe_portal", __name__, url_prefix="/portal/payment-methods",
                            template_folder="templates")
SETUP_KEY = "stripe_card_setup"  # the Checkout Session this browser opened, in its signed session cookie
SETUP_LIMIT = "10 per hour"
# Core's reasons are written for staff; the customer is told what to do themselves.
NOT_YET = ("Autopay can be switched on once you have paid an invoice online yourself with \u201csave this "
           "card\u201d ticked, and have a saved card.")


def _own_method(method_id: int) -> SavedPaymentMethod:
    method = db.session.get(SavedPaymentMethod, method_id)
    if method is None or method.customer_id != current_user.customer_id or method.detached_at is not None:
        abort(404)
    return method


@portal.get("/")
def methods():
    processor = StripeProcessor()
    customer = current_user.customer
    methods = saved_methods_of(customer.id)
    return render_template("payments_stripe/payment_methods.html",
                           methods=methods,
                           can_add=processor.is_connected(),
                           consent_wording=save_card_wording(current_business().name),
                           autopay_on=customer.autopay_enabled,
                           autopay_card=next((m for m in methods if m.used_for_autopay), None),
                           autopay_not_yet=None if why_autopay_not_allowed(customer) is None else NOT_YET,
                           autopay_wording=autopay_consent_wording(current_business().name))


@portal.post("/autopay")
@limiter.limit(SETUP_LIMIT)
def autopay():
    """Switch autopay on (charging the card chosen, with the consent ticked) or off."""
    customer = current_user.customer
    back = redirect(url_for("payments_stripe_portal.methods"))
    if request.form.get("switch") == "off":
        switch_autopay_off(customer, by_customer=True)
        db.session.commit()
        flash("Autopay is off. New invoices come to you to pay, as before.", "success")
        return back
    if why_autopay_not_allowed(customer) is not None:
        flash(NOT_YET, "error")
        return back
    if request.form.get("consent") != "yes":
        flash("Tick the box to agree to automatic charges; autopay stays as it was.", "error")
        return back
    method = _own_method(request.form.get("method_id", type=int) or 0)
    try:
        switch_autopay_on(customer, method, channel="portal",
                          wording=autopay_consent_wording(current_business().name), ip=request.remote_addr,
                          user_agent=request.user_agent.string[:300] or None)
    except AutopayError:
        db.session.rollback()
        flash(NOT_YET, "error")
        return back
    db.session.commit()
    flash(f"Autopay is on: {card_label(method)} is charged when an invoice it covers is issued.", "success")
    return back


@portal.post("/add")
@limiter.limit(SETUP_LIMIT)
def add():
    return _open_setup(replaces=None)


@portal.post("/<int:method_id>/replace")
@limiter.limit(SETUP_LIMIT)
def replace(method_id: int):
    return _open_setup(replaces=_own_method(method_id).id)


def _open_setup(replaces: int | None):
    if request.form.get("consent") != "yes":
        flash("Tick the box to allow us to keep the card; nothing is saved without it.", "error")
        return redirect(url_for("payments_stripe_portal.methods"))
    processor = StripeProcessor()
    if not processor.is_connected():
        abort(404)
    consent = Consent(at=utcnow(), text=save_card_wording(current_business().name), ip=request.remote_addr,
                      user_agent=request.user_agent.string[:300] or None)
    try:
        hosted = processor.create_card_setup(current_user.customer, consent, replaces=replaces,
                                             success_url=public_url("payments_stripe_portal.added"),
                                             cancel_url=public_url("payments_stripe_portal.methods"))
    except ProcessorError:
        log.exception("could not open a card setup for customer %s", current_user.customer_id)
        db.session.rollback()
        flash("We couldn't open the card page. Please try again in a moment.", "error")
        return redirect(url_for("payments_stripe_portal.methods"))
    db.session.commit()  # the Stripe customer made for this card is kept
    session[SETUP_KEY] = hosted.checkout_ref
    return redirect(hosted.url, code=303)


@portal.get("/added")
def added():
    """Back from Stripe's page: the card is kept once Stripe confirms it (the webhook may do so first)."""
    session_id = session.pop(SETUP_KEY, None)
    if not session_id:
        return redirect(url_for("payments_stripe_portal.methods"))
    try:
        method, replaces = StripeProcessor().finish_card_setup(session_id)
    except ProcessorError:
        log.exception("could not check card setup %s", session_id)
        db.session.rollback()
        method, replaces = None, None
    if method is None or method.customer_id != current_user.customer_id:
        db.session.commit()
        flash("We're waiting for confirmation of your card; it appears here once we have it.", "success")
        return redirect(url_for("payments_stripe_portal.methods"))
    if replaces and replaces != method.id:
        old = db.session.get(SavedPaymentMethod, replaces)
        if old is not None and old.customer_id == method.customer_id and old.detached_at is None:
            was_default = old.is_default
            _remove(old)
            if was_default:
                make_default(method)
    db.session.commit()
    flash(f"{card_label(method)} is saved.", "success")
    return redirect(url_for("payments_stripe_portal.methods"))


@portal.post("/<int:method_id>/default")
def choose_default(method_id: int):
    method = _own_method(method_id)
    make_default(method)
    db.session.commit()
    flash(f"{card_label(method)} is now used first.", "success")
    return redirect(url_for("payments_stripe_portal.methods"))


@portal.post("/<int:method_id>/remove")
def remove(method_id: int):
    method = _own_method(method_id)
    try:
        _remove(method)
    except ProcessorError:
        log.exception("could not remove card %s at Stripe", method.id)
        db.session.rollback()
        flash("We couldn't remove the card just now. Please try again in a moment.", "error")
        return redirect(url_for("payments_stripe_portal.methods"))
    db.session.commit()
    flash(f"{card_label(method)} is removed.", "success")
    return redirect(url_for("payments_stripe_portal.methods"))


def _remove(method: SavedPaymentMethod) -> None:
    """Detach the card at Stripe and here; another card becomes the default if this one was."""
    was_default = method.is_default
    detach_payment_method(method)
    record_activity(method.customer_id, surface="portal", kind="payment_method.removed_by_customer",
                    summary=f"Removed {card_label(method)} in the portal", payment_method_id=method.id)
    remaining = saved_methods_of(method.customer_id)
    if was_default and remaining:
        make_default(remaining[0])
