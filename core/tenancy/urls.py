"""Absolute links for emails, webhooks and redirects, built from configuration, never from the Host header."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app

from core.tenancy import require_business_id
from core.tenancy.state import current_business


def business_base_url(business) -> str:
    """The address customers use for a business: its primary host name, with the scheme (and port) of the
    installation's public URL; without a host name, the installation's address plus /b/<slug>, which only
    development serves."""
    installation = current_app.config["SUPRATA_PUBLIC_URL"].rstrip("/")
    host = business.primary_host
    if host is None:
        return installation + f"/b/{business.slug}"
    parts = urlsplit(installation)
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def public_url_for(endpoint: str, **values) -> str:
    """Like ``url_for(..., _external=True)`` for the current business, but safe outside a request too."""
    require_business_id()
    business = current_business()
    adapter = current_app.url_map.bind("localhost", script_name="/")
    path = adapter.build(endpoint, values, force_external=False)
    return business_base_url(business) + path
