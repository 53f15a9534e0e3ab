"""Delivery channels: what a channel is, and which one delivers a message for the current business.

Core's channels (email) are always available; they are not plugins and cannot be switched off. A plugin's
channel (SMS, or another email provider) is offered only to businesses that switched that plugin on, and a
plugin channel of the same name takes precedence over core's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from flask import current_app


@dataclass
class RenderedMessage:
    """A message ready to send: subject, plain text and (for email) HTML."""

    subject: str
    text: str
    html: str | None = None


@dataclass(frozen=True)
class Delivery:
    """What a channel needs to send one outbox message, as documented fields.

    ``message_id`` is stable across retries (use it to make a provider call idempotent, e.g. as the email's
    Message-ID); ``attempt`` counts from 1.
    """

    message_id: int
    business_id: int
    channel: str
    template_key: str
    recipient: str
    customer_id: int | None
    attempt: int


class DeliveryError(Exception):
    """A channel could not deliver. ``permanent=True`` stops retries (bad address, opted out)."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class Channel(ABC):
    """A notification delivery channel (returned by the ``notification_channels`` hook)."""

    #: the outbox channel name this delivers, e.g. ``"email"`` or ``"sms"``
    name: str = ""

    @abstractmethod
    def deliver(self, delivery: Delivery, rendered: RenderedMessage) -> str | None:
        """Send one message; return the provider's id, or raise :class:`DeliveryError`.

        Give every network call a timeout: the worker delivers one message after another, and a delivery that
        hangs would make every business's next message wait for it.
        """


_core_channels: dict[str, Channel] = {}


def register_core_channel(channel: Channel) -> None:
    _core_channels[channel.name] = channel


def channel_for(name: str) -> Channel | None:
    """The channel that delivers ``name`` for the current business, or ``None`` if none does."""
    for channel in current_app.extensions["suprata"].plugins.call("notification_channels"):
        if getattr(channel, "name", None) == name:
            return channel
    return _core_channels.get(name)
