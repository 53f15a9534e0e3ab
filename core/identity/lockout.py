"""Locking a login after repeated failures, however many addresses the guesses come from.

After :data:`LOCK_AFTER` failed logins for one email of one business, that login is refused until the
window ends, and the page says until when. The counts live in the rate limiter's storage (Redis when several
processes serve the web), so every process sees the same lock. A password set from an emailed link ends the
lock: whoever reads that mailbox is the account holder.
"""

from __future__ import annotations

from datetime import UTC, datetime

from limits import parse

from core.extensions import limiter
from core.tenancy import require_business_id

LOCK_AFTER = parse("20 per hour")


def _key(realm: str, email: str) -> str:
    return f"{realm}-login-lock:{require_business_id()}:{email.strip().lower()}"


def locked_until(realm: str, email: str) -> datetime | None:
    """When the lock on this login ends, or None when it is not locked."""
    if not limiter.enabled:
        return None
    stats = limiter.limiter.get_window_stats(LOCK_AFTER, _key(realm, email))
    if stats.remaining > 0:
        return None
    return datetime.fromtimestamp(stats.reset_time, UTC)


def record_failure(realm: str, email: str) -> datetime | None:
    """Count a failed login; when this one locks the login, when the lock ends (else None)."""
    if not limiter.enabled:
        return None
    limiter.limiter.hit(LOCK_AFTER, _key(realm, email))
    stats = limiter.limiter.get_window_stats(LOCK_AFTER, _key(realm, email))
    # Exactly at zero: the failure that used the last attempt, so the account holder is told once.
    return datetime.fromtimestamp(stats.reset_time, UTC) if stats.remaining == 0 else None


def end_lock(realm: str, email: str) -> None:
    """Forget the failed logins of this login (a new password was set from an emailed link)."""
    if limiter.enabled:
        limiter.limiter.clear(LOCK_AFTER, _key(realm, email))
