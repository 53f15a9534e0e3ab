"""Proving a phone is the customer's: a six-digit code texted to it, typed back in the portal or read out
to staff.

A code is stored only as an HMAC under the app's secret key, is valid for ten minutes, works once, and allows
five tries; a new code replaces the old one. Codes to one number are limited (one a minute, five an hour),
counted in the database so every web process sees the same count. The atomic updates below make a try
and a use count once each, even when two requests race.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from core.plugin_api import CustomerPhone, db, notify, record_activity, utcnow
from plugins.sms_twilio.messages import VERIFICATION_TEMPLATE, why_not_text
from plugins.sms_twilio.models import SmsVerification

CODE_DIGITS = 6
VALID_FOR = timedelta(minutes=10)
MAX_ATTEMPTS = 5
RESEND_AFTER = timedelta(minutes=1)
MAX_CODES_PER_HOUR = 5


class VerificationError(ValueError):
    """The code could not be sent or accepted; the message is for the person who asked."""


def _hash(phone_id: int, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"sms-code:{phone_id}:{code}".encode(), hashlib.sha256).hexdigest()


def send_code(phone: CustomerPhone, *, started_by: str) -> None:
    """Text a new code to ``phone`` (in the caller's transaction); :class:`VerificationError` when it may
    not be sent now."""
    if phone.verified_at is not None:
        raise VerificationError(f"{phone.number} is verified already.")
    refusal = why_not_text(phone, VERIFICATION_TEMPLATE)
    if refusal:
        raise VerificationError(f"No code can be texted to {phone.number}: {refusal}.")
    now = utcnow()
    recent = db.session.execute(
        select(func.count(SmsVerification.id), func.max(SmsVerification.created_at))
        .where(SmsVerification.phone_id == phone.id, SmsVerification.created_at > now - timedelta(hours=1))
    ).one()
    if recent[0] >= MAX_CODES_PER_HOUR:
        raise VerificationError("Too many codes were sent to this number in the last hour. Try again later.")
    if recent[1] is not None and recent[1] > now - RESEND_AFTER:
        raise VerificationError("A code was sent less than a minute ago. Wait a moment before asking again.")
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    db.session.add(SmsVerification(phone_id=phone.id, code_hash=_hash(phone.id, code), started_by=started_by,
                                   attempts=0, created_at=now, expires_at=now + VALID_FOR))
    notify(VERIFICATION_TEMPLATE, to=phone.number, channel="sms", customer_id=phone.customer_id,
           context={"code": code, "minutes": int(VALID_FOR.total_seconds() // 60)})
    record_activity(phone.customer_id, surface="console" if started_by == "staff" else "portal",
                    kind="sms.code_sent", summary=f"Verification code texted to {phone.number}")


def confirm_code(phone: CustomerPhone, code: str) -> None:
    """Mark ``phone`` verified if ``code`` is its newest live code; :class:`VerificationError` otherwise,
    saying what to do. Works in the caller's transaction, which must be committed whether this raised or
    not: a wrong code uses up a try."""
    code = "".join(code.split())
    pending = db.session.scalar(
        select(SmsVerification).where(SmsVerification.phone_id == phone.id)
        .order_by(SmsVerification.created_at.desc(), SmsVerification.id.desc()).limit(1))
    now = utcnow()
    if pending is None or pending.used_at is not None or pending.expires_at <= now:
        raise VerificationError("That code has expired or was used already. Ask for a new one.")
    counted = db.session.execute(
        update(SmsVerification)
        .where(SmsVerification.id == pending.id, SmsVerification.attempts < MAX_ATTEMPTS,
               SmsVerification.used_at.is_(None))
        .values(attempts=SmsVerification.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not counted:
        raise VerificationError("Too many wrong codes. Ask for a new one.")
    if not hmac.compare_digest(pending.code_hash, _hash(phone.id, code)):
        left = MAX_ATTEMPTS - pending.attempts - 1
        raise VerificationError("That code is not right." + (f" {left} tries left." if left > 0 else
                                                             " Ask for a new one."))
    used = db.session.execute(
        update(SmsVerification).where(SmsVerification.id == pending.id, SmsVerification.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if not used:
        raise VerificationError("That code has expired or was used already. Ask for a new one.")
    phone.verified_at = now
    record_activity(phone.customer_id, surface="sms", kind="sms.verified", summary=f"{phone.number} verified")
