"""What Twilio tells us: texts customers send to the business's number, and delivery reports.

Both are checked against Twilio's signature (``X-Twilio-Signature``, the auth token's HMAC of the address and
the form) for the address we gave Twilio: the business's configured public address, never the Host header
the request came with. Customers' keywords are honoured whatever Twilio's own opt-out handling does:
STOP (and STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, OPTOUT, REVOKE) stops texts to the number, START (YES,
UNSTOP) resumes them, HELP (INFO) gets a reply saying who is texting and how to reach them.
"""

from __future__ import annotations

from flask import request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from core.plugin_api import CustomerPhone, current_business, db, public_url, record_activity
from plugins.sms_twilio.messages import OPTED_OUT, advance, mark_opted_out, opt_back_in, remember
from plugins.sms_twilio.models import SmsMessage
from plugins.sms_twilio.settings import TwilioConfig

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})


def signed_by_twilio(config: TwilioConfig) -> bool:
    """True when the request carries Twilio's signature, made with the business's token, for our address."""
    if not config.auth_token:
        return False
    url = public_url(request.endpoint)
    if request.query_string:
        url += "?" + request.query_string.decode()
    return RequestValidator(config.auth_token).validate(url, request.form,
                                                        request.headers.get("X-Twilio-Signature", ""))


def keyword_of(body: str, opt_out_type: str | None) -> str | None:
    """"STOP", "START", "HELP" or None: Twilio's own reading when it sends one, else the words themselves."""
    if opt_out_type in ("STOP", "START", "HELP"):
        return opt_out_type
    word = body.strip().strip(".!").upper()
    for keyword, words in (("STOP", STOP_WORDS), ("START", START_WORDS), ("HELP", HELP_WORDS)):
        if word in words:
            return keyword
    return None


def receive_text(form) -> str:
    """Act on one inbound text (once per message SID); returns the TwiML answer."""
    number, body, sid = form.get("From", ""), form.get("Body", ""), form.get("MessageSid", "")
    phone = db.session.scalar(select(CustomerPhone).where(CustomerPhone.number == number))
    try:
        with db.session.begin_nested():
            db.session.add(SmsMessage(sid=sid, direction="in", number=number, status="received", body=body,
                                      customer_id=phone.customer_id if phone else None))
        first_time = True
    except IntegrityError:
        first_time = False  # Twilio retried the webhook: answer again, act once
    keyword = keyword_of(body, form.get("OptOutType"))
    reply = MessagingResponse()
    if keyword == "HELP":
        reply.message(help_text())
    if not first_time or phone is None:
        return str(reply)
    if keyword == "STOP":
        mark_opted_out(phone, f"texted {body.strip()[:20]}: no more texts are sent")
    elif keyword == "START":
        opt_back_in(phone)
    else:
        record_activity(phone.customer_id, surface="sms", kind="sms.received",
                        summary=f"Texted from {number}: {body.strip()}")
    return str(reply)


def help_text() -> str:
    business = current_business()
    contact = " or ".join(c for c in (business.phone, business.email) if c)
    return (f"{business.name}: texts about your appointments and payments. "
            + (f"Questions: {contact}. " if contact else "") + "Reply STOP to opt out.")


def record_status(form) -> None:
    """A delivery report: move the text's status forward; tell the customer's timeline when it failed."""
    sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
    error_code = int(form["ErrorCode"]) if form.get("ErrorCode", "").isdigit() else None
    row = db.session.scalar(select(SmsMessage).where(SmsMessage.sid == sid))
    if row is None:
        # Reported before the worker that sent it recorded it: kept, and completed when it does.
        row = remember(sid, number=form.get("To", ""), status="accepted")
    if not advance(row, status, error_code) or status not in ("undelivered", "failed"):
        return
    phone = db.session.scalar(select(CustomerPhone).where(CustomerPhone.number == row.number))
    if error_code == OPTED_OUT:
        mark_opted_out(phone, "Twilio did not deliver a text: the number had texted STOP")
    elif phone is not None:
        record_activity(phone.customer_id, surface="sms", kind="sms.undelivered",
                        summary=f"Text to {row.number} was not delivered ({status}, error {error_code})")
