"""Raising: a plugin whose hook implementations all raise, to prove the host isolates them."""

from core.plugin_api import hookimpl


class PluginBug(RuntimeError):
    pass


@hookimpl
def render_portal_tab(customer, request):
    raise PluginBug("portal tab exploded")


@hookimpl
def render_site_links(customer):
    raise PluginBug("site links exploded")


@hookimpl
def on_ticket_replied(ticket, message):
    raise PluginBug("reply handler exploded")
