"""Is each backend this installation depends on answering right now? Used by readiness and ``doctor``.

The database is required: nothing is served without it. The task queue and the rate-limit storage (Redis
in a scaled-out installation) are not: while they are down, delivery waits in the outbox and each process
counts rate limits on its own, so customer pages keep working; readiness reports the installation as
degraded.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.extensions import db, limiter


@dataclass(frozen=True)
class Probe:
    """``problem`` is for anyone (no addresses in it); ``detail`` names the backend for operators."""

    name: str
    required: bool
    detail: str
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def probe_database() -> Probe:
    url = db.engine.url.render_as_string(hide_password=True)
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return Probe("database", True, f"{url} is not reachable: {_first_line(exc)}",
                     problem="not reachable: pages cannot be served")
    return Probe("database", True, f"{url} answers")


def probe_queue(app: Flask) -> Probe:
    url = safe_url(app.config.get("SUPRATA_QUEUE_URL") or "")
    try:
        waiting = app.extensions["suprata"].queue.huey.pending_count()
    except Exception as exc:
        return Probe("queue", False, f"{url} is not reachable: {_first_line(exc)}",
                     problem="not reachable: notifications wait in the outbox until it is back")
    return Probe("queue", False, f"{url} answers ({waiting} task{'s' if waiting != 1 else ''} waiting)")


def probe_rate_limits(app: Flask) -> Probe:
    uri = safe_url(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if not app.config.get("RATELIMIT_ENABLED", True):
        return Probe("rate limits", False, "switched off (SUPRATA_RATELIMIT_ENABLED)")
    try:
        answers, why = limiter.storage.check(), "it does not answer"
    except Exception as exc:
        answers, why = False, _first_line(exc)
    if not answers:
        return Probe("rate limits", False, f"{uri} is not reachable: {why}",
                     problem="not reachable: each web process counts rate limits on its own until it is back")
    return Probe("rate limits", False, f"{uri} answers")


def probe_all(app: Flask) -> list[Probe]:
    """Every backend, database first; call inside an app context."""
    return [probe_database(), probe_queue(app), probe_rate_limits(app)]


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def safe_url(url: str) -> str:
    """The URL without its password, for messages and pages."""
    if "://" not in url or url.startswith("memory"):
        return url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("://")[0] + "://…"
