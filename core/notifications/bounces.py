"""Bounces: a delivery status notification (RFC 3464) about one of our emails, recorded on its message.

A mail server that accepted a message may still fail to deliver it later; it then mails a report back. The
installation's mail server hands such reports to ``suprata ingest-bounce`` (an alias that pipes the message
to the command). The report quotes our Message-ID, which names the business and the outbox message
(``<outbox-<business>-<message>@domain>``): the message is marked ``bounced`` with the reason, and the
customer's timeline says so, so staff see on the customer record that the address does not work.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage

from core.activity import record
from core.extensions import db
from core.models import OutboxMessage
from core.tenancy import business_context

_OUR_MESSAGE_ID = re.compile(r"<outbox-(\d+)-(\d+)@[^>]+>")


@dataclass(frozen=True)
class Bounce:
    """What a report says: the message it is about, the recipient, the status code and the reason."""

    business_id: int
    message_id: int
    recipient: str
    status: str
    reason: str


def parse_bounce(raw: bytes) -> Bounce | None:
    """The failure a delivery report describes; None when it reports no failure of one of our messages."""
    report = email.message_from_bytes(raw, policy=email.policy.default)
    failed = None
    original_id = None
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            # Its parts are header blocks: the first about the message, then one per recipient.
            for block in part.get_payload():
                if str(block.get("Action", "")).strip().lower() == "failed":
                    failed = block
        elif kind in ("message/rfc822", "text/rfc822-headers"):
            original_id = original_id or _message_id_in(part)
    match = _OUR_MESSAGE_ID.search(original_id or "")
    if failed is None or match is None:
        return None
    recipient = str(failed.get("Final-Recipient", "")).rpartition(";")[2].strip()
    reason = str(failed.get("Diagnostic-Code", "")).rpartition(";")[2].strip()
    return Bounce(int(match[1]), int(match[2]), recipient, str(failed.get("Status", "")).strip(),
                  " ".join(reason.split()) or "the receiving server gave no reason")


def _message_id_in(part: EmailMessage) -> str | None:
    if part.get_content_type() == "message/rfc822":
        original = part.get_payload()[0]
    else:
        original = email.message_from_string(part.get_content(), policy=email.policy.default)
    return original.get("Message-ID")


def record_bounce(raw: bytes) -> Bounce | None:
    """Mark the message a delivery report is about as bounced (once) and commit; returns what it said, or
    None when it is not about one of our messages to that recipient."""
    bounce = parse_bounce(raw)
    if bounce is None:
        return None
    with business_context(bounce.business_id):
        message = db.session.get(OutboxMessage, bounce.message_id)
        # The recipient must match too: a forged report cannot mark just any message by guessing its id.
        if message is None or message.recipient.lower() != bounce.recipient.lower():
            return None
        if message.status == "bounced":
            return bounce
        message.status = "bounced"
        message.last_error = f"Bounced ({bounce.status}): {bounce.reason}"[:2000]
        if message.customer_id is not None:
            record(message.customer_id, surface="system", kind="notification.bounced",
                   summary=f"Email to {message.recipient} bounced: {bounce.reason}",
                   outbox_message_id=message.id)
        db.session.commit()
    return bounce
