"""Security headers on every response, whichever surface or plugin made it.

- A Content-Security-Policy: scripts and styles only from this site or carrying the request's nonce
  (templates write ``nonce="{{ csp_nonce() }}"`` on an inline ``<script>`` or ``<style>``), no plugins or
  ``<base>``, and no framing at all (``frame-ancestors 'none'``, with ``X-Frame-Options`` for old browsers).
- ``Strict-Transport-Security`` when production serves the request over https.
- ``Cache-Control: no-store`` on every page of a login realm (console, portal), which shows one business's
  private records; pay links set it themselves.
"""

from __future__ import annotations

import secrets

from flask import Flask, current_app, g, request

from core.identity.sessions import request_realm

HSTS = "max-age=31536000"
PRIVATE_REALMS = {"staff", "customer"}


def csp_nonce() -> str:
    """The nonce of this response's Content-Security-Policy, made on first use."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def allow_inline_styles() -> None:
    """Let this response's page use inline styles (a sandboxed preview of an email, whose markup is styled
    inline by nature). Scripts stay nonce-only."""
    g.csp_inline_styles = True


def content_security_policy() -> str:
    nonce = f"'nonce-{csp_nonce()}'"
    styles = "'unsafe-inline'" if g.get("csp_inline_styles") else nonce
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self' {nonce}",
        f"style-src 'self' {styles}",
        "img-src 'self' data: https:",  # a business's logo in an email preview may live elsewhere
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ))


def add_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if current_app.config.get("SUPRATA_ENV") == "production" and request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request_realm() in PRIVATE_REALMS:
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
    app.jinja_env.globals.update(csp_nonce=csp_nonce)
