"""Notifications: a durable outbox, sandboxed business templates, and delivery through channels."""


def init_app(app) -> None:
    pass
