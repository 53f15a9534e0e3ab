"""The SMS plugin's routes: Twilio's webhooks (public, signed), staff actions (a test text, verifying a
customer's phone from their record), and the customer's page (their numbers and how they are told)."""

from __future__ import annotations

import logging

import requests
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from twilio.base.exceptions import TwilioRestException

from core.plugin_api import (
    CustomerPhone,
    PhoneNumberError,
    csrf,
    current_business,
    customer_blueprint,
    customer_choices,
    db,
    limiter,
    normalise_phone,
    public_blueprint,
    requires_permission,
    save_customer_choice,
    staff_blueprint,
)
from plugins.sms_twilio import webhooks
from plugins.sms_twilio.settings import client_for, current_config
from plugins.sms_twilio.verification import VerificationError, confirm_code, send_code

log = logging.getLogger("suprata.sms_twilio")

public = public_blueprint("sms_twilio_public", __name__)
staff = staff_blueprint("sms_twilio", __name__, url_prefix="/console/texts", template_folder="templates")
portal = customer_blueprint("sms_twilio_portal", __name__, url_prefix="/texts", template_folder="templates")

CODE_LIMIT = "10 per hour"  # per address, on top of the per-number limits in verification.py
VERIFY_LIMIT = "30 per hour"


# -- Twilio's webhooks ---------------------------------------------------------------------------------------


@public.post("/sms/inbound")
@csrf.exempt
def inbound():
    """A customer texted the business's number: STOP, START, HELP or words for the timeline."""
    if not webhooks.signed_by_twilio(current_config()):
        return {"error": "invalid signature"}, 403
    answer = webhooks.receive_text(request.form)
    db.session.commit()
    return Response(answer, mimetype="text/xml")


@public.post("/sms/status")
@csrf.exempt
def status_callback():
    """Twilio's delivery report for one text we sent."""
    if not webhooks.signed_by_twilio(current_config()):
        return {"error": "invalid signature"}, 403
    webhooks.record_status(request.form)
    db.session.commit()
    return "", 204


# -- staff --------------------------------------------------------------------------------------------------


@staff.post("/test")
@requires_permission("plugins")
def send_test():
    """Text the number staff typed now, with the saved settings, and say how that went."""
    config = current_config()
    try:
        to = normalise_phone(request.form.get("to", ""))
    except PhoneNumberError as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.plugins", _anchor="plugin-sms_twilio"))
    if not config.complete:
        flash("Enter and save the account SID, auth token and sender first.", "error")
    else:
        try:
            client_for(config).messages.create(
                to=to, body=f"{current_business().name}: this is a test text from Suprata. It works!",
                **config.sender_fields())
        except TwilioRestException as exc:
            flash(f"Twilio refused the test text (error {exc.code}): {exc.msg}", "error")
        except requests.RequestException as exc:
            flash(f"Twilio could not be reached: {exc}", "error")
        else:
            flash(f"Test text sent to {to} in {config.mode} mode.", "success")
    return redirect(url_for("console.plugins", _anchor="plugin-sms_twilio"))


def _back_to_customer(phone: CustomerPhone):
    return redirect(url_for("console.customer", customer_id=phone.customer_id, _anchor="texts"))


@staff.post("/phones/<int:phone_id>/code")
@requires_permission("customers")
def staff_send_code(phone_id: int):
    phone = db.get_or_404(CustomerPhone, phone_id)
    try:
        send_code(phone, started_by="staff")
    except VerificationError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(f"A code is on its way to {phone.number}. Ask the customer to read it to you, or to enter it "
              "in the portal.", "success")
    return _back_to_customer(phone)


@staff.post("/phones/<int:phone_id>/verify")
@requires_permission("customers")
def staff_verify(phone_id: int):
    phone = db.get_or_404(CustomerPhone, phone_id)
    _confirm(phone)
    return _back_to_customer(phone)


def _confirm(phone: CustomerPhone) -> None:
    try:
        confirm_code(phone, request.form.get("code", ""))
    except VerificationError as exc:
        flash(str(exc), "error")
    else:
        flash(f"{phone.number} is verified.", "success")
    db.session.commit()  # a wrong code used up a try, and that must stick


# -- the customer's page ------------------------------------------------------------------------------------


def _own_phone(phone_id: int) -> CustomerPhone:
    phone = db.session.scalar(select(CustomerPhone).where(
        CustomerPhone.id == phone_id, CustomerPhone.customer_id == current_user.customer_id))
    if phone is None:
        abort(404)
    return phone


@portal.get("/")
def page():
    customer_id = current_user.customer_id
    phones = db.session.scalars(select(CustomerPhone).where(CustomerPhone.customer_id == customer_id)
                                .order_by(CustomerPhone.id)).all()
    return render_template("sms_twilio/portal.html", phones=phones, choices=customer_choices(customer_id))


@portal.post("/phones")
@limiter.limit(CODE_LIMIT)
def add_phone():
    """The customer adds a number: kept unverified, and a code is texted to it."""
    try:
        number = normalise_phone(request.form.get("number", ""))
    except PhoneNumberError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".page"))
    phone = db.session.scalar(select(CustomerPhone).where(CustomerPhone.number == number))
    if phone is not None and phone.customer_id != current_user.customer_id:
        flash("This number cannot be added to your account. Call us and we will sort it out.", "error")
        return redirect(url_for(".page"))
    if phone is None:
        phone = CustomerPhone(customer_id=current_user.customer_id, number=number, label="mobile")
        db.session.add(phone)
        db.session.flush()
    try:
        send_code(phone, started_by="customer")
    except VerificationError as exc:
        flash(str(exc), "error")
    else:
        flash(f"We texted a code to {number}. Enter it below.", "success")
    db.session.commit()
    return redirect(url_for(".page"))


@portal.post("/phones/<int:phone_id>/code")
@limiter.limit(CODE_LIMIT)
def resend_code(phone_id: int):
    phone = _own_phone(phone_id)
    try:
        send_code(phone, started_by="customer")
    except VerificationError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(f"We texted a new code to {phone.number}.", "success")
    return redirect(url_for(".page"))


@portal.post("/phones/<int:phone_id>/verify")
@limiter.limit(VERIFY_LIMIT)
def verify(phone_id: int):
    _confirm(_own_phone(phone_id))
    return redirect(url_for(".page"))


@portal.post("/channels")
def save_channels():
    """The customer's channels, event by event, among those the business offers."""
    for choice in customer_choices(current_user.customer_id):
        key = choice.event.key
        save_customer_choice(current_user.customer_id, key, request.form.getlist(key))
    db.session.commit()
    flash("Your choices are saved.", "success")
    return redirect(url_for(".page"))
