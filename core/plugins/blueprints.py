"""Blueprints that belong to a login realm, for core's surfaces and plugins alike.

A blueprint's ``realm`` decides which login a request of it sees (``"staff"``, ``"customer"`` or ``None``):
a staff cookie never authenticates a customer page and the reverse. Staff and customer blueprints guard
every route they serve, so a view cannot forget: without a login of that realm for this business the
visitor is sent to that realm's sign-in page and brought back. A view that must stay open (a sign-in form,
a public page inside a customer blueprint) says so with :func:`login_exempt`.

Staff routes also need a permission of the member's role (:mod:`core.identity.roles`): declared on the view
with ``requires_permission`` or for the whole blueprint with ``staff_blueprint(..., permission=...)``, and
checked here, before the view runs.

A customer whose email address is not confirmed is signed in but sees nothing sensitive: every customer page
sends them to the page that asks them to confirm it, except the few account pages marked
:func:`open_to_unconfirmed` (confirming, signing out).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_login import current_user

from core.identity.roles import check_permission, refuse_unless_permitted

# The sign-in page of each realm; core serves both.
LOGIN_ENDPOINTS = {"staff": "console.login", "customer": "account.login"}
# Where a signed-in customer with an unconfirmed email address is sent.
CONFIRM_ENDPOINT = "account.unconfirmed"


def login_exempt(view):
    """Mark a view of a staff or customer blueprint as open to visitors who are not signed in."""
    view.login_exempt = True
    return view


def open_to_unconfirmed(view):
    """Mark a customer view as open to a signed-in customer whose email address is not yet confirmed."""
    view.open_to_unconfirmed = True
    return view


def _guard(realm: str):
    def require_login():
        view = current_app.view_functions.get(request.endpoint)
        if view is None or getattr(view, "login_exempt", False):
            return None
        if current_user.is_authenticated and current_user.realm == realm:
            if realm == "staff":
                refuse_unless_permitted(current_app, request.endpoint)
            if realm == "customer" and current_user.email_confirmed_at is None \
                    and not getattr(view, "open_to_unconfirmed", False):
                return redirect(url_for(CONFIRM_ENDPOINT))
            return None
        login = LOGIN_ENDPOINTS[realm]
        if login not in current_app.view_functions:
            abort(401)  # no sign-in page is served for this realm
        return redirect(url_for(login, next=_current_path()))

    return require_login


def _current_path() -> str:
    query = request.query_string.decode("utf-8", "replace")
    return request.path + (f"?{query}" if query else "")


def staff_blueprint(name: str, import_name: str, *, permission: str | None = None, **kwargs) -> Blueprint:
    """A blueprint of the staff console: every route needs a staff login of the current business and a
    permission of the member's role: ``permission`` for all its views, unless a view declares its own with
    ``requires_permission``."""
    bp = Blueprint(name, import_name, **kwargs)
    bp.realm = "staff"
    bp.staff_permission = check_permission(permission) if permission else None
    bp.before_request(_guard("staff"))
    return bp


def customer_blueprint(name: str, import_name: str, **kwargs) -> Blueprint:
    """A blueprint of customer pages (portal, help site): every route needs a customer login of the current
    business, except views marked :func:`login_exempt`."""
    bp = Blueprint(name, import_name, **kwargs)
    bp.realm = "customer"
    bp.before_request(_guard("customer"))
    return bp


def public_blueprint(name: str, import_name: str, **kwargs) -> Blueprint:
    """A blueprint with no login at all (webhooks, pay links, public forms)."""
    bp = Blueprint(name, import_name, **kwargs)
    bp.realm = None
    return bp
