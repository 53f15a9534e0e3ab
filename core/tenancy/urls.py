"""Absolute links for emails, webhooks and redirects, built from configuration, never from the Host header."""

from __future__ import annotations

from flask import current_app

from core.tenancy import require_business_id
from core.tenancy.state import current_business


def business_base_url(business) -> str:
    """The address customers use for a business: its own public URL, or the installation's plus /b/<slug>."""
    if business.public_url:
        return business.public_url.rstrip("/")
    return current_app.config["SUPRATA_PUBLIC_URL"].rstrip("/") + f"/b/{business.slug}"


def public_url_for(endpoint: str, **values) -> str:
    """Like ``url_for(..., _external=True)`` for the current business, but safe outside a request too."""
    require_business_id()
    business = current_business()
    adapter = current_app.url_map.bind("localhost", script_name="/")
    path = adapter.build(endpoint, values, force_external=False)
    return business_base_url(business) + path
