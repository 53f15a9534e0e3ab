"""Run hook calls after the current transaction commits, so plugins only ever see committed state.

``after_commit(fn)`` queues ``fn`` on the session; it runs once the commit succeeds, inside the same business
context, and is dropped on rollback. Hook calls made this way are isolated by the plugin host.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.extensions import db
from core.tenancy import business_context, current_business_id

_PENDING_KEY = "suprata_after_commit"
_COMMITTED_KEY = "suprata_committed"


def after_commit(fn) -> None:
    session = db.session()
    session.info.setdefault(_PENDING_KEY, []).append((current_business_id(), fn))


def emit_after_commit(hook_name: str, **kwargs) -> None:
    """Call ``hook_name`` on the business's enabled plugins once the current transaction has committed."""
    host = current_app.extensions["suprata"].plugins
    after_commit(lambda: host.call(hook_name, **kwargs))


@event.listens_for(Session, "after_commit")
def _mark_committed(session) -> None:
    # No SQL may run inside after_commit: the callbacks wait until the transaction has fully ended.
    session.info[_COMMITTED_KEY] = session.info.pop(_PENDING_KEY, [])


@event.listens_for(Session, "after_transaction_end")
def _run_committed(session, transaction) -> None:
    if transaction.parent is not None:
        return
    for business_id, fn in session.info.pop(_COMMITTED_KEY, []):
        with business_context(business_id):
            fn()


@event.listens_for(Session, "after_rollback")
def _drop_pending(session) -> None:
    session.info.pop(_PENDING_KEY, None)
