"""Texts out through Twilio (core's ``Channel`` for ``"sms"``), and what Twilio later says about them.

A text goes only to a verified number whose owner has not opted out; the one exception is the verification
code itself, which goes to the number being verified. Twilio refusing a number that texted STOP (error
21610) marks it opted out and is never retried. Every accepted text is remembered by its SID with a status
callback address, so delivery reports can update it, forward only.
"""

from __future__ import annotations

import logging

import requests
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from twilio.base.exceptions import TwilioRestException

from core.plugin_api import (
    Channel,
    CustomerPhone,
    Delivery,
    DeliveryError,
    RenderedMessage,
    db,
    public_url,
    record_activity,
    utcnow,
)
from plugins.sms_twilio.models import STATUS_RANK, SmsMessage
from plugins.sms_twilio.settings import client_for, current_config

log = logging.getLogger("suprata.sms_twilio")

VERIFICATION_TEMPLATE = "sms_verification_code"
OPTED_OUT = 21610
# Twilio errors about the recipient that no retry can mend.
PERMANENT_ERRORS = {
    21211: "not a valid phone number",
    OPTED_OUT: "the customer texted STOP",
    21612: "the number cannot receive texts from this sender",
    21614: "not a mobile number",
    21617: "the text is longer than 1,600 characters",
}


class TwilioChannel(Channel):
    name = "sms"

    def deliver(self, delivery: Delivery, rendered: RenderedMessage) -> str | None:
        phone = db.session.scalar(select(CustomerPhone).where(CustomerPhone.number == delivery.recipient))
        refusal = why_not_text(phone, delivery.template_key)
        if refusal:
            raise DeliveryError(f"Not sent to {delivery.recipient}: {refusal}.", permanent=True)
        config = current_config()
        if not config.complete:
            raise DeliveryError("Twilio is not set up: enter the account SID, auth token and sender on the "
                                "plugins page.")
        try:
            sent = client_for(config).messages.create(
                to=delivery.recipient, body=rendered.text,
                status_callback=public_url("sms_twilio_public.status_callback"), **config.sender_fields())
        except TwilioRestException as exc:
            if exc.code == OPTED_OUT:
                mark_opted_out(phone, "Twilio refused a text: the number had texted STOP")
            reason = PERMANENT_ERRORS.get(exc.code)
            raise DeliveryError(f"Twilio error {exc.code}: {reason or exc.msg}", permanent=reason is not None
                                ) from exc
        except requests.RequestException as exc:  # Twilio unreachable: the outbox tries again later
            raise DeliveryError(f"Twilio could not be reached: {exc}") from exc
        remember(sent.sid, number=delivery.recipient, status=sent.status, customer_id=delivery.customer_id,
                 outbox_message_id=delivery.message_id)
        return sent.sid


def why_not_text(phone: CustomerPhone | None, template_key: str) -> str | None:
    """Why a text may not go to this number now, in words; None when it may."""
    if phone is None:
        return "the number is not on file for any customer"
    if phone.sms_opted_out_at is not None:
        return "the customer texted STOP (they can text START to receive texts again)"
    if phone.verified_at is None and template_key != VERIFICATION_TEMPLATE:
        return "the number is not verified"
    return None


def mark_opted_out(phone: CustomerPhone | None, why: str) -> None:
    if phone is None or phone.sms_opted_out_at is not None:
        return
    phone.sms_opted_out_at = utcnow()
    record_activity(phone.customer_id, surface="sms", kind="sms.opted_out", summary=f"{phone.number}: {why}")


def opt_back_in(phone: CustomerPhone) -> None:
    if phone.sms_opted_out_at is None:
        return
    phone.sms_opted_out_at = None
    record_activity(phone.customer_id, surface="sms", kind="sms.opted_in",
                    summary=f"{phone.number} texted START: texts are sent again")


def remember(sid: str, **fields) -> SmsMessage:
    """Record a text by its SID, or bring a record a status callback made first up to date."""
    row = db.session.scalar(select(SmsMessage).where(SmsMessage.sid == sid))
    if row is None:
        try:
            # A savepoint: a callback that raced us to the insert must not undo the outbox's "sent".
            with db.session.begin_nested():
                row = SmsMessage(sid=sid, **fields)
                db.session.add(row)
            return row
        except IntegrityError:
            row = db.session.scalar(select(SmsMessage).where(SmsMessage.sid == sid))
    status = fields.pop("status")
    for name, value in fields.items():
        if getattr(row, name) is None:
            setattr(row, name, value)
    advance(row, status, None)
    return row


def advance(row: SmsMessage, status: str, error_code: int | None) -> bool:
    """Move a text's status forward (a late "sent" after "delivered" changes nothing); True if it moved."""
    if STATUS_RANK.get(status, -1) <= STATUS_RANK.get(row.status, -1):
        return False
    row.status = status
    row.error_code = error_code or row.error_code
    return True
