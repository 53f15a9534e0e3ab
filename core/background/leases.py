"""Rows that stand for work to do (an outbox message, a queued task), each done by one worker at a time.

A row is *due* when it is waiting and its time has come, or when a worker claimed it and the claim's lease
ran out (that worker died half-way). Claiming is one conditional ``UPDATE``, so two workers never take the
same row; on PostgreSQL a sweep also locks its candidates with ``SKIP LOCKED``, so concurrent sweeps take
different rows. A failed attempt makes the row wait, twice as long after each attempt up to a cap; a
permanent failure, or the last attempt, leaves it failed for staff to see and retry.

The rows carry ``status``, ``attempts``, ``next_attempt_at``, ``lease_until`` and ``last_error`` columns;
:class:`WorkTable` says which status means waiting and which means claimed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from core.extensions import db
from core.tenancy import business_context, utcnow

WAITING = "pending"
FAILED = "failed"


@dataclass(frozen=True)
class RetryPolicy:
    """How often a row is tried and how long it waits in between; read from the app's configuration."""

    max_attempts: int
    retry_seconds: int  # the first wait is twice this, then it doubles
    retry_max_seconds: int
    lease_seconds: int

    @classmethod
    def from_config(cls, prefix: str) -> RetryPolicy:
        """``<prefix>_MAX_ATTEMPTS``, ``_RETRY_SECONDS``, ``_RETRY_MAX_SECONDS`` and ``_LEASE_SECONDS``."""
        config = current_app.config
        return cls(config[f"{prefix}_MAX_ATTEMPTS"], config[f"{prefix}_RETRY_SECONDS"],
                   config[f"{prefix}_RETRY_MAX_SECONDS"], config[f"{prefix}_LEASE_SECONDS"])

    def wait_after(self, attempts: int) -> int:
        """Seconds to wait after ``attempts`` failed attempts."""
        return min(self.retry_seconds * 2**attempts, self.retry_max_seconds)


@dataclass(frozen=True)
class WorkTable:
    """A table of work rows: its model and the status a claimed row has (``"sending"``, ``"running"``)."""

    model: type
    claimed: str

    def due(self, now: datetime):
        model = self.model
        return or_(
            and_(model.status == WAITING, model.next_attempt_at <= now),
            and_(model.status == self.claimed, model.lease_until < now),  # its worker died
        )

    def claim(self, row_id: int, now: datetime, policy: RetryPolicy) -> bool:
        """Mark one row as taken by this worker, only if it is still due; True if we got it. Not committed."""
        result = db.session.execute(
            update(self.model)
            .where(self.model.id == row_id, self.due(now))
            .values(status=self.claimed, lease_until=now + timedelta(seconds=policy.lease_seconds))
            .execution_options(all_businesses=True, synchronize_session=False)
        )
        return result.rowcount == 1

    def claim_due(self, limit: int, policy: RetryPolicy, now: datetime | None = None) -> list[int]:
        """Claim up to ``limit`` rows of every business that are due ``now`` (default: now); commits them.

        Businesses take turns: the oldest due row of every business first, then the second oldest of each,
        and so on. A business with a long queue, or rows that are slow to work, never holds back another's.
        """
        now = now or utcnow()
        model = self.model
        turn = func.row_number().over(partition_by=model.business_id,
                                      order_by=(model.next_attempt_at, model.id)).label("turn")
        due = select(model.id, turn).where(self.due(now)).execution_options(all_businesses=True).subquery()
        candidates = (
            select(model.id)
            .join(due, due.c.id == model.id)
            .order_by(due.c.turn, model.next_attempt_at, model.id)
            .limit(limit)
            .execution_options(all_businesses=True)
        )
        if db.session.get_bind().dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True, of=model)
        row_ids = db.session.scalars(candidates).all()
        claimed = [row_id for row_id in row_ids if self.claim(row_id, now, policy)]
        db.session.commit()
        return claimed

    def work_due(self, limit: int, policy: RetryPolicy, work: Callable, now: datetime | None = None) -> int:
        """Claim the due rows (see :meth:`claim_due`) and call ``work(row)`` on each, inside the row's
        business; returns how many were claimed."""
        claimed = self.claim_due(limit, policy, now)
        for row_id in claimed:
            self._work_on(row_id, work)
        return len(claimed)

    def work_one(self, row_id: int, policy: RetryPolicy, work: Callable) -> bool:
        """Claim one row if it is due and no other worker has it, and call ``work(row)`` on it inside its
        business; True if it was claimed."""
        claimed = self.claim(row_id, utcnow(), policy)
        db.session.commit()
        if claimed:
            self._work_on(row_id, work)
        return claimed

    def _work_on(self, row_id: int, work: Callable) -> None:
        query = select(self.model.business_id).where(self.model.id == row_id)
        business_id = db.session.scalar(query.execution_options(all_businesses=True))
        if business_id is None:  # deleted with its business since it was claimed
            return
        with business_context(business_id):
            work(db.session.get(self.model, row_id))


def attempt_failed(row, error: str, *, permanent: bool, policy: RetryPolicy) -> bool:
    """Count a failed attempt on a claimed row (loaded in the caller's session; the caller commits).

    The row waits its backoff and becomes due again; when ``permanent`` or out of attempts it is marked
    failed instead. Returns True when it gave up.
    """
    row.attempts += 1
    row.last_error = error[:2000]
    row.lease_until = None
    if permanent or row.attempts >= policy.max_attempts:
        row.status = FAILED
        return True
    row.status = WAITING
    row.next_attempt_at = utcnow() + timedelta(seconds=policy.wait_after(row.attempts))
    return False


def retry_now(row) -> None:
    """Staff want a failed or waiting row tried again now, with a fresh set of attempts."""
    row.status = WAITING
    row.attempts = 0
    row.next_attempt_at = utcnow()
