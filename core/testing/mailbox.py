"""A real SMTP server (aiosmtpd) that keeps what it receives, for tests and the demo's mailbox page."""

from __future__ import annotations

import email
import email.policy
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from core.testing.postgres import free_port


class _Collector:
    def __init__(self, mailbox: SMTPMailbox):
        self.mailbox = mailbox

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's handler protocol
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mailbox._receive(message, list(envelope.rcpt_tos), envelope.content)
        return "250 Message accepted for delivery"


class SMTPMailbox:
    """Listens on 127.0.0.1; ``messages`` holds every email received, newest last (``raw_of`` gives one as
    its bytes arrived, for checks such as a DKIM signature that parsing and re-serializing would break)."""

    def __init__(self, port: int | None = None):
        # aiosmtpd's readiness probe connects to the configured port, so port 0 cannot be used.
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self._raw: list[bytes] = []
        self._lock = threading.Condition()
        self._controller = Controller(_Collector(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> SMTPMailbox:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def _receive(self, message: EmailMessage, rcpt_tos: list[str], raw: bytes) -> None:
        with self._lock:
            self.messages.append(message)
            self.recipients.append(rcpt_tos)
            self._raw.append(raw)
            self._lock.notify_all()

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.recipients.clear()
            self._raw.clear()

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[EmailMessage]:
        """Block until at least ``count`` messages arrived; returns them all."""
        with self._lock:
            self._lock.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
            return list(self.messages)

    def raw_of(self, message: EmailMessage) -> bytes:
        """The bytes ``message`` arrived as."""
        with self._lock:
            return next(raw for m, raw in zip(self.messages, self._raw, strict=True) if m is message)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    @staticmethod
    def text_of(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    @staticmethod
    def html_of(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""
