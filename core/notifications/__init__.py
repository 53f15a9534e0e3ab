"""Notifications: a durable outbox, sandboxed business templates, and delivery through channels.

Senders call :func:`core.notifications.outbox.enqueue` (plugins: ``core.plugin_api.notify``) in the
transaction of the event; the worker renders (:mod:`.templates`) and delivers through a channel
(:mod:`.channels`: core's email, or a plugin's). See :mod:`.outbox` for retries and failure handling.
"""

from core.notifications.catalogue import register_core_events
from core.notifications.channels import register_core_channel
from core.notifications.defaults import register_core_defaults
from core.notifications.email import EmailChannel
from core.notifications.outbox import DEFAULT_SETTINGS


def init_app(app) -> None:
    for name, value in DEFAULT_SETTINGS.items():
        app.config.setdefault(name, value)
    register_core_channel(EmailChannel())
    register_core_defaults()
    register_core_events()
