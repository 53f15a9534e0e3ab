"""The console's side menu: core's pages, then plugins' items, each only if the member may open it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from core.console.blueprint import bp
from core.identity.roles import can_open
from core.web.helpers import hook_slot

# (endpoint, title, section): the section is what a page sets as ``active_section`` to be highlighted.
CORE_PAGES = (
    ("console.dashboard", "Dashboard", "dashboard"),
    ("console.customers", "Customers", "customers"),
    ("console.invoices", "Invoices", "invoices"),
    ("console.saved_items", "Saved items", "items"),
    ("console.past_due_list", "Past due", "past_due"),
    ("console.outbox_page", "Outbox", "outbox"),
    ("console.notification_events", "Notifications", "notifications"),
    ("console.notification_templates", "Message templates", "templates"),
    ("console.plugins", "Plugins", "plugins"),
    ("console.settings", "Settings", "settings"),
    ("console.sign_in_apps", "Sign-in apps", "sign_in_apps"),
    ("console.staff", "Staff", "staff"),
    ("console.audit_trail", "Audit trail", "audit"),
)


@dataclass(frozen=True)
class MenuEntry:
    title: str
    url: str
    section: str | None = None


@bp.app_template_global()
def console_menu() -> list[MenuEntry]:
    """The menu for the signed-in staff member: what their role cannot open is not offered."""
    entries = [MenuEntry(title, url_for(endpoint), section)
               for endpoint, title, section in CORE_PAGES if can_open(endpoint)]
    for item in hook_slot("render_console_menu", staff_user=current_user._get_current_object()):
        endpoint = endpoint_of(item.url)
        if endpoint is None or can_open(endpoint):
            entries.append(MenuEntry(item.title, item.url))
    return entries


def endpoint_of(url: str) -> str | None:
    """The endpoint of this app that ``url`` opens with GET, or None for an address elsewhere."""
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    root = request.script_root
    adapter = current_app.url_map.bind(request.host, script_name=root or "/")
    path = parts.path.removeprefix(root) if root and parts.path.startswith(root + "/") else parts.path
    try:
        try:
            endpoint, _ = adapter.match(path, method="GET")
        except RequestRedirect as redirect:  # "/x" for a rule "/x/": the address it redirects to
            endpoint, _ = adapter.match(urlsplit(redirect.new_url).path.removeprefix(root), method="GET")
    except HTTPException:
        return None
    return endpoint
