"""Where messages go out: core's own channels plus those contributed by the business's enabled plugins.

Core's channels (email) are always available; they are not plugins and cannot be switched off. A plugin's
channel (SMS, or another email provider) is offered only to businesses that switched that plugin on, and a
plugin channel of the same name takes precedence over core's.
"""

from __future__ import annotations

from flask import current_app

from core.plugin_api import Channel

_core_channels: dict[str, Channel] = {}


def register_core_channel(channel: Channel) -> None:
    _core_channels[channel.name] = channel


def channel_for(name: str) -> Channel | None:
    """The channel that delivers ``name`` for the current business, or ``None`` if none does."""
    for channel in current_app.extensions["suprata"].plugins.call("notification_channels"):
        if getattr(channel, "name", None) == name:
            return channel
    return _core_channels.get(name)
