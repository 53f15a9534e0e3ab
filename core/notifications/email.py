"""Core's email channel: Flask-Mail over SMTP, From and Reply-To per business, DKIM-signed with the
business's key when it has one for its sending domain (:mod:`.mail_auth`).

The SMTP settings are read from the app's configuration at each delivery (``MAIL_SERVER``, ``MAIL_PORT``, ...
plus ``MAIL_TIMEOUT``, seconds), and every connection has a timeout, so a hung mail server makes a message
wait for its next attempt instead of blocking a worker past its lease.
"""

from __future__ import annotations

import re
import smtplib
from email.utils import formataddr, parseaddr

from flask import current_app
from flask_mail import Connection, Message

from core.extensions import mail
from core.models import DkimKey
from core.notifications import mail_auth
from core.notifications.channels import Channel, Delivery, DeliveryError, RenderedMessage
from core.tenancy.state import current_business

DEFAULT_TIMEOUT_SECONDS = 30


class _TimedConnection(Connection):
    """Flask-Mail's connection with a socket timeout (Flask-Mail 0.10 opens SMTP without one)."""

    def __init__(self, state, timeout: float):
        super().__init__(state)
        self.timeout = timeout

    def configure_host(self) -> smtplib.SMTP:
        state = self.mail
        smtp_class = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
        host = smtp_class(state.server, state.port, timeout=self.timeout)
        host.set_debuglevel(int(state.debug))
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
        return host


class _SignedMessage(Message):
    """A message that carries a DKIM signature of itself (when the business has a key), made as it is
    serialized for sending."""

    def __init__(self, *args, dkim_key: DkimKey | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.dkim_key = dkim_key

    def as_bytes(self) -> bytes:
        if self.dkim_key is None:
            return super().as_bytes()
        # Signed and sent with CRLF line ends, so what the receiver hashes is exactly what was signed.
        raw = re.sub(rb"\r?\n", b"\r\n", super().as_bytes())
        return (mail_auth.signature(raw, self.dkim_key) or b"") + raw


def _domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower() or "suprata.localhost"


def _is_permanent(exc: smtplib.SMTPException) -> bool:
    """Only the server refusing this recipient or this message for good (5xx) stops the retries."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500


class EmailChannel(Channel):
    name = "email"

    def deliver(self, delivery: Delivery, rendered: RenderedMessage) -> str | None:
        business = current_business()
        config = current_app.config
        # The console stores "Name <address>"; a bare address is sent under the business's name.
        sender_name, sender_address = parseaddr(business.mail_from or "")
        sender_address = sender_address or parseaddr(config["MAIL_DEFAULT_SENDER"])[1]
        email = _SignedMessage(
            subject=rendered.subject,
            recipients=[delivery.recipient],
            body=rendered.text,
            html=rendered.html,
            # Flask-Mail joins a (name, address) pair unquoted, which breaks names such as "Bolt, Electric".
            sender=formataddr((sender_name or business.name, sender_address)),
            reply_to=business.reply_to or business.email,
            dkim_key=mail_auth.current_key(_domain_of(sender_address)),
        )
        # Stable across retries: a copy re-sent after a crash between the server's acceptance and our
        # commit carries the same Message-ID, so mail clients can tell it is the same message.
        email.msgId = f"<outbox-{delivery.business_id}-{delivery.message_id}@{_domain_of(sender_address)}>"
        state = mail.init_mail(config, current_app.debug, current_app.testing)
        try:
            with _TimedConnection(state, config.get("MAIL_TIMEOUT", DEFAULT_TIMEOUT_SECONDS)) as connection:
                connection.send(email)
        except smtplib.SMTPException as exc:
            raise DeliveryError(f"SMTP: {exc}", permanent=_is_permanent(exc)) from exc
        except OSError as exc:  # refused, unreachable, timed out: the mail server may be back later
            raise DeliveryError(f"Mail server {state.server}:{state.port} unreachable: {exc}") from exc
        return email.msgId
