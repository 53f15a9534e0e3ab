"""What signing in looks like in both realms: credentials checked in constant time, rate-limit keys, safe
redirects after login, private pages for links that carry a token, and setting a new password.

The staff console (``core.console.auth``) and the customer account (``core.account``) use these, so the
two logins follow one set of rules while keeping their own tables, cookies and pages.
"""

from __future__ import annotations

import math
from datetime import datetime
from urllib.parse import urlsplit

from flask import request
from sqlalchemy import func, select

from core.extensions import db
from core.identity.passwords import hash_password, needs_rehash, verify_password, verify_unknown_user
from core.identity.sessions import revoke_user_sessions
from core.tenancy import utcnow
from core.tenancy.state import current_business
from core.web.helpers import format_datetime

LOGIN_FAILED = "Email or password is incorrect."
# One address cannot guess quickly; many addresses cannot focus on one account either (core.identity.lockout).
LOGIN_LIMIT_PER_IP = "10 per minute"
FORGOT_LIMIT_PER_IP = "5 per minute"
FORGOT_LIMIT_PER_EMAIL = "5 per hour"


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path inside this business's site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    # Browsers treat a backslash like a slash and drop tabs and newlines: "/\evil.com" is "//evil.com".
    if "\\" in target or any(ord(char) < 0x21 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def next_url(default: str) -> str:
    """Where to go after signing in: the page the visitor came for (``?next=``), if safe, else ``default``."""
    next_path = safe_next(request.args.get("next"))
    return request.script_root + next_path if next_path else default


def locked_message(until: datetime) -> str:
    """What a login page says while a login is locked: how long the lock really lasts, and the way out."""
    minutes = max(1, math.ceil((until - utcnow()).total_seconds() / 60))
    duration = f"about {minutes} minute{'s' if minutes != 1 else ''}"
    return (f"Too many failed attempts: logging in to this account is locked until {format_datetime(until)} "
            f"({duration}). To log in now, choose a new password with “Forgot your password?”: the emailed "
            "link also ends the lock.")


def email_limit_key(realm: str):
    """A rate-limit key function: one counter per business, page and submitted email address."""

    def key() -> str:
        email = (request.form.get("email") or "").strip().lower()
        return f"{realm}-login:{current_business().id}:{request.endpoint}:{email}"

    return key


def find_by_email(model, email: str):
    """The ``model`` user (StaffUser or CustomerUser) of the current business with this email, any case."""
    email = email.strip().lower()
    return db.session.scalar(select(model).where(func.lower(model.email) == email))


def authenticate(model, email: str, password: str):
    """The active user with these credentials, taking as long for unknown emails as for known ones."""
    user = find_by_email(model, email)
    if user is None:
        verify_unknown_user(password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def replace_password(user, password: str) -> None:
    """Give ``user`` a new password; every session of theirs ends (the caller starts a new one if wanted)."""
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    revoke_user_sessions(user)


def private(page: str, status: int = 200):
    """A page whose address or content opens an account: no cache keeps it, no referrer carries it on."""
    return page, status, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
