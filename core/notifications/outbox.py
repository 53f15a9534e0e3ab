"""The durable outbox: every notification is a row written with the event that causes it, then delivered.

:func:`enqueue` adds the row in the caller's transaction, so a rolled-back event sends nothing and a
committed one cannot lose its message. After the commit the task queue is asked to deliver it at once; the
worker's periodic sweep (:func:`deliver_due`) picks up whatever that misses: a queue that was down, a retry
whose time has come, a message left half-sent by a worker that crashed.

A worker claims a message before delivering it (status ``sending`` with a lease), atomically, so two
workers never send the same message; a claim whose lease ran out is taken over. A failed attempt waits with
exponential backoff; a permanent failure or the last attempt leaves the message ``failed``, kept and shown
to staff, who may :func:`retry` it.

A message its channel accepted is never sent again because the database hiccuped: if the commit that
records the send fails, the worker keeps the acceptance and retries the commit until the database takes it,
before the claim could run out and hand the message to another worker.

Settings: ``SUPRATA_OUTBOX_MAX_ATTEMPTS`` (8), ``SUPRATA_OUTBOX_RETRY_SECONDS`` (30: the first wait is twice
that, then it doubles), ``SUPRATA_OUTBOX_RETRY_MAX_SECONDS`` (3600), ``SUPRATA_OUTBOX_LEASE_SECONDS`` (300).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from flask import current_app
from sqlalchemy import update
from sqlalchemy.exc import InterfaceError, OperationalError

from core.activity import record
from core.background.leases import RetryPolicy, WorkTable, attempt_failed, retry_now
from core.extensions import db
from core.models import OutboxMessage
from core.notifications.channels import Delivery, DeliveryError, channel_for
from core.notifications.templates import TemplateRenderError, UnknownTemplate, get_default, render
from core.plugins.events import after_commit
from core.tenancy import utcnow

log = logging.getLogger("suprata.notifications")

DEFAULT_SETTINGS = {
    "SUPRATA_OUTBOX_MAX_ATTEMPTS": 8,
    "SUPRATA_OUTBOX_RETRY_SECONDS": 30,
    "SUPRATA_OUTBOX_RETRY_MAX_SECONDS": 3600,
    "SUPRATA_OUTBOX_LEASE_SECONDS": 300,
}
# Waits between tries to record an accepted message while the database does not answer: doubling, capped.
RECORD_RETRY_FIRST_SECONDS = 0.5
RECORD_RETRY_MAX_SECONDS = 5.0


class OutboxStateError(ValueError):
    """The message is not in a state that allows this action; the message is for the user."""


def enqueue(template_key: str, *, to: str, channel: str = "email", customer_id: int | None = None,
            context: dict | None = None) -> OutboxMessage:
    """Add a notification to the outbox in the caller's transaction (flushed, not committed).

    ``context`` holds the template's variables as JSON values. Delivery is requested once the caller's
    commit succeeds; a rollback drops the message together with the event that caused it.
    """
    get_default(template_key)  # an unknown key is a programming error: fail here, not in the worker
    message = OutboxMessage(
        channel=channel,
        template_key=template_key,
        recipient=to.strip(),
        customer_id=customer_id,
        context=dict(context or {}),
        status="pending",
        attempts=0,
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    message_id = message.id
    after_commit(lambda: current_app.extensions["suprata"].queue.deliver_soon(message_id))
    return message


def retry(message_id: int) -> OutboxMessage | None:
    """Staff want a failed or waiting message of the current business sent now, with a fresh set of attempts.

    Works in the caller's transaction; delivery is requested after the commit. Returns ``None`` when the
    business has no such message; raises :class:`OutboxStateError` for one that is sent or being sent.
    """
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        return None
    if message.status not in ("failed", "pending"):
        raise OutboxStateError("Only a failed or waiting message can be retried.")
    retry_now(message)
    after_commit(lambda: current_app.extensions["suprata"].queue.deliver_soon(message_id))
    return message


# -- delivery (workers) ------------------------------------------------------------------------------------

MESSAGES = WorkTable(OutboxMessage, claimed="sending")


def _policy() -> RetryPolicy:
    return RetryPolicy.from_config("SUPRATA_OUTBOX")


def deliver_due(limit: int = 100, *, now: datetime | None = None) -> int:
    """Claim and deliver up to ``limit`` due messages of every business; returns how many were attempted.

    Businesses take turns (see :meth:`~core.background.leases.WorkTable.claim_due`), so one business's long
    or slow queue never holds back another's password reset. ``now`` delivers what is due at that moment
    instead (tests use it to let a backoff pass).
    """
    return MESSAGES.work_due(limit, _policy(), _deliver, now)


def deliver_one(message_id: int) -> bool:
    """Deliver one message now if it is due and no other worker has it; True if an attempt was made."""
    return MESSAGES.work_one(message_id, _policy(), _deliver)


def _deliver(message: OutboxMessage) -> None:
    _attempt(message)
    if message.status == "sent":
        _record_sent(message)
    else:
        db.session.commit()


_SENT_COLUMNS = ("status", "sent_at", "provider_ref", "lease_until", "last_error", "context", "body_text",
                 "subject", "template_error")


def _record_sent(message: OutboxMessage) -> None:
    """Commit a message its channel accepted, retrying for as long as the database refuses the commit."""
    accepted = {column: getattr(message, column) for column in _SENT_COLUMNS}
    message_id, wait = message.id, RECORD_RETRY_FIRST_SECONDS
    try:
        db.session.commit()
        return
    except (OperationalError, InterfaceError) as exc:
        failure = exc
    while True:
        log.warning("outbox message %s was accepted by its channel but could not be recorded as sent (%s); "
                    "trying again in %.1f s", message_id, str(failure).strip().splitlines()[0], wait)
        _discard_session()
        time.sleep(wait)
        wait = min(wait * 2, RECORD_RETRY_MAX_SECONDS)
        try:
            db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                               .values(**accepted).execution_options(synchronize_session=False))
            db.session.commit()
            return
        except (OperationalError, InterfaceError) as exc:
            failure = exc


def _discard_session() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection itself is gone; a new session gets a new one
        db.session.remove()


def _attempt(message: OutboxMessage) -> None:
    try:
        channel = channel_for(message.channel)
        if channel is None:
            raise DeliveryError(f"No {message.channel!r} channel is available to this business: "
                                "switch on the plugin that provides it.")
        if message.context is None:
            raise DeliveryError("The message's variables cannot be decrypted: this worker's secret key is "
                                "not the one of the web process that queued it (SUPRATA_SECRET_KEY).")
        rendered, message.template_error = render(message.template_key, message.context)
        message.subject, message.body_text = rendered.subject[:500], rendered.text
        delivery = Delivery(message_id=message.id, business_id=message.business_id, channel=message.channel,
                            template_key=message.template_key, recipient=message.recipient,
                            customer_id=message.customer_id, attempt=message.attempts + 1)
        provider_ref = channel.deliver(delivery, rendered)
    except DeliveryError as exc:
        _attempt_failed(message, str(exc), permanent=exc.permanent)
    except (UnknownTemplate, TemplateRenderError) as exc:
        _attempt_failed(message, f"Template {message.template_key!r}: {exc}", permanent=True)
    except Exception as exc:  # a faulty channel must not stop the sweep; the message waits for its retry
        log.exception("outbox message %s: channel %r raised", message.id, message.channel)
        _attempt_failed(message, f"{type(exc).__name__}: {exc}", permanent=False)
    else:
        message.status = "sent"
        message.sent_at = utcnow()
        message.provider_ref = provider_ref
        message.lease_until = None
        message.last_error = None
        # The variables and the text may hold live links (pay links, password links) whose tokens are
        # otherwise stored only hashed; once delivered, only the subject is kept.
        message.context = {}
        message.body_text = None


def _attempt_failed(message: OutboxMessage, error: str, *, permanent: bool) -> None:
    policy = _policy()
    if attempt_failed(message, error, permanent=permanent, policy=policy):
        log.warning("outbox message %s to %s failed for good: %s", message.id, message.recipient, error)
        if message.customer_id is not None:
            summary = f"{message.channel.title()} to {message.recipient} could not be delivered: {error}"
            record(message.customer_id, surface="system", kind="notification.failed", summary=summary,
                   outbox_message_id=message.id)
        return
    log.info("outbox message %s: attempt %s failed, next in %ss: %s",
             message.id, message.attempts, policy.wait_after(message.attempts), error)
