"""Work a request hands to the worker by name, so the request does the same whatever the work turns out to be.

A module registers a job with :func:`job`; a request calls :func:`run_soon`, which queues it for the current
business. "Forgot your password?" uses this: the answer page costs the same for a known and an unknown
email, and the look-up, token and email happen in the worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import current_app

from core.extensions import db
from core.tenancy import business_context, require_business_id

log = logging.getLogger("suprata.queue")

_JOBS: dict[str, Callable[..., None]] = {}


def job(name: str):
    """Register the decorated function as the job ``name``; it runs inside its business and commits."""

    def register(func: Callable[..., None]) -> Callable[..., None]:
        _JOBS[name] = func
        return func

    return register


def run_job(name: str, business_id: int, kwargs: dict) -> None:
    """Run one queued job in its business, in a transaction of its own (the worker calls this)."""
    with business_context(business_id):
        try:
            _JOBS[name](**kwargs)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise


def run_soon(name: str, **kwargs) -> None:
    """Queue the job ``name`` for the current business; when the queue cannot be reached, run it now."""
    if name not in _JOBS:
        raise LookupError(f"no job called {name!r}")
    business_id = require_business_id()
    try:
        current_app.extensions["suprata"].queue.run_job(name, business_id, kwargs)
    except Exception:
        log.warning("could not queue job %s; running it in this request", name, exc_info=True)
        run_job(name, business_id, kwargs)
