"""Staff roles and what each may do: one table of permissions, declared by every staff route.

A staff route says which permission it needs, on its view with :func:`requires_permission` or for a whole
blueprint with ``staff_blueprint(..., permission=...)``; the staff blueprints' guard refuses (403) a member
whose role does not include it, before the view runs. A view that declares nothing opens for owners only,
and a test walks the route table so that no route, core's or a plugin's, ships without a decision. The
console hides what a member cannot open with :func:`can` and :func:`can_open`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from flask_login import current_user
from werkzeug.exceptions import Forbidden


@dataclass(frozen=True)
class Role:
    name: str
    label: str
    summary: str


ROLES = {
    role.name: role
    for role in (
        Role("owner", "Owner", "Everything, including staff, web addresses and plugin keys."),
        Role("admin", "Admin", "Business settings, email templates and plugins."),
        Role("billing", "Billing", "Customers, invoices, payments, refunds and charges."),
        Role("support", "Support", "Customers and tickets; no money actions."),
    )
}
OWNER = "owner"
#: The role of someone added without one (after the first member, who is always the owner): the least.
DEFAULT_ROLE = "support"


@dataclass(frozen=True)
class Permission:
    name: str
    covers: str  # what it opens, in words, for the "not allowed" page and the plugin guide
    roles: frozenset[str]


def _permission(name: str, covers: str, *roles: str) -> Permission:
    return Permission(name, covers, frozenset((OWNER, *roles)))


PERMISSIONS = {
    p.name: p
    for p in (
        _permission("console", "the dashboard and your own password", "admin", "billing", "support"),
        _permission("customers", "customer records", "billing", "support"),
        _permission("invoices.view", "reading invoices and payments", "billing", "support"),
        _permission("invoices.manage", "creating, sending and voiding invoices and pay links", "billing"),
        _permission("payments", "refunds and charges to saved cards", "billing"),
        _permission("tickets", "the help-desk queue", "support"),
        _permission("portal_logins", "inviting customers to the portal and approving portal sign-ups",
                    "admin", "billing", "support"),
        _permission("settings", "the business's settings", "admin"),
        _permission("templates", "email templates and the outbox", "admin"),
        _permission("plugins", "switching plugins on and off and their settings", "admin"),
        _permission("plugin_keys", "plugins' secret keys"),
        _permission("hosts", "the business's web addresses"),
        _permission("staff", "the staff and their roles"),
        _permission("audit", "the audit trail", "admin"),
    )
}


def role_allows(role: str | None, permission: str | None) -> bool:
    """True when ``role`` includes ``permission``; an undeclared permission (None) is for owners only."""
    if role == OWNER:
        return True
    if permission is None:
        return False
    return role in PERMISSIONS[permission].roles


def check_permission(name: str) -> str:
    """``name`` if it is a known permission, else ValueError (a typo fails at import, not at run time)."""
    if name not in PERMISSIONS:
        raise ValueError(f"unknown staff permission {name!r}; known: {', '.join(sorted(PERMISSIONS))}")
    return name


def requires_permission(name: str):
    """View decorator: staff need ``name`` (a key of :data:`PERMISSIONS`) to open this route."""
    check_permission(name)

    def mark(view):
        view.staff_permission = name
        return view

    return mark


def declared_permission(app: Flask, endpoint: str) -> str | None:
    """The permission an endpoint declares, on its view or else on its blueprint; None if it declares none."""
    view = app.view_functions.get(endpoint)
    declared = getattr(view, "staff_permission", None)
    if declared is None:
        blueprint = app.blueprints.get(endpoint.rpartition(".")[0])
        declared = getattr(blueprint, "staff_permission", None)
    return declared


def can(permission: str) -> bool:
    """Whether the signed-in staff member's role includes ``permission``."""
    return getattr(current_user, "realm", None) == "staff" and role_allows(current_user.role, permission)


def can_open(endpoint: str) -> bool:
    """Whether the signed-in staff member may open ``endpoint`` (for menus and buttons)."""
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return False
    if getattr(view, "login_exempt", False):
        return True
    permission = declared_permission(current_app, endpoint)
    return getattr(current_user, "realm", None) == "staff" and role_allows(current_user.role, permission)


class NotPermitted(Forbidden):
    """A staff member opened a page their role does not include; the 403 page says so in words."""

    def __init__(self, role: str | None, permission: str | None):
        role_label = ROLES[role].label if role in ROLES else "yours"
        covers = PERMISSIONS[permission].covers if permission else "this page"
        super().__init__(
            f"Your role ({role_label}) does not include {covers}. "
            "An owner of the business can change your role on the Staff page."
        )


def refuse_unless_permitted(app: Flask, endpoint: str) -> None:
    """Raise :class:`NotPermitted` unless the signed-in staff member may open ``endpoint``."""
    permission = declared_permission(app, endpoint)
    if not role_allows(current_user.role, permission):
        raise NotPermitted(current_user.role, permission)
