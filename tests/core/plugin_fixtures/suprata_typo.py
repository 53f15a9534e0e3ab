"""Typo: a plugin implementing a hook name that does not exist (a misspelt ``on_payment_captured``)."""

from core.plugin_api import hookimpl


@hookimpl
def on_payment_capturd(payment, invoice):
    pass
