"""Who the customer is, as the help site sees them: the one place that decides it.

Today the help site shares core's customer login (the portal's, ``/account/login``); a single sign-on
relying party with a session of the help site's own would replace the bodies here and nothing else. Help
site views never read the login themselves: they ask :func:`signed_in_customer`, send visitors to
:func:`sign_in_url`, and guard customer-only pages with :func:`customer_required`. Pages inside the portal
(its Tickets tab) belong to the portal's login and ask :func:`portal_customer`.
"""

from __future__ import annotations

from functools import wraps

from flask import redirect, request, url_for
from flask_login import current_user

from core.plugin_api import Customer


def portal_customer() -> Customer | None:
    """The customer signed in to core's customer login with a confirmed email address, else None."""
    if getattr(current_user, "realm", None) != "customer" or current_user.email_confirmed_at is None:
        return None
    return current_user.customer


def signed_in_customer() -> Customer | None:
    """The customer signed in on the help site, or None for a visitor."""
    return portal_customer()


def sign_in_url(next_path: str | None = None) -> str:
    """Where a visitor signs in, coming back to ``next_path`` (this page by default)."""
    return url_for("account.login", next=next_path or _this_page())


def sign_out_url() -> str:
    """Where the signed-in customer signs out (a POST)."""
    return url_for("account.logout")


def customer_required(view):
    """A help site view for signed-in customers only: visitors are sent to sign in and brought back."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if signed_in_customer() is None:
            return redirect(sign_in_url())
        return view(*args, **kwargs)

    return guarded


def _this_page() -> str:
    # The path inside the business's site: the login's "next" is relative to it.
    query = request.query_string.decode("utf-8", "replace")
    return request.path + (f"?{query}" if query else "")
