"""Periodic jobs that plugins declare (what their ``register_periodic_tasks(schedule)`` hook receives), and
the claim that runs each period once however many workers schedule it.

Every worker's scheduler checks each minute which periodic tasks are due. Before queueing one it claims that
task's minute in the database (a row under a unique constraint): the first worker to get there queues it,
the others see the claim and do not. So a plugin's job runs once per period across all workers and hosts,
with no worker singled out to schedule, and when that worker stops another carries on the next minute.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from core.extensions import db
from core.models import PeriodicRun

log = logging.getLogger("suprata.schedule")

# Claims older than this are deleted as new ones are made: they only need to outlive the minute they claim.
CLAIMS_KEPT = timedelta(days=1)


@dataclass(frozen=True)
class PeriodicJob:
    """One plugin job: ``func()`` every ``minutes`` minutes, once per business that has the plugin on."""

    plugin_name: str
    name: str
    minutes: int
    func: Callable[[], object]

    @property
    def task_name(self) -> str:
        return f"{self.plugin_name}.{self.name}"

    def is_due(self, when: datetime) -> bool:
        """Due on each minute since the epoch divisible by ``minutes`` (60 means on the hour, UTC)."""
        minute = int(when.replace(tzinfo=when.tzinfo or UTC).timestamp()) // 60
        return minute % self.minutes == 0


class Schedule:
    """What a plugin's ``register_periodic_tasks(schedule)`` hook receives."""

    def __init__(self, plugin_name: str):
        self.plugin_name = plugin_name
        self.jobs: list[PeriodicJob] = []

    def every(self, name: str, minutes: int, func: Callable[[], object]) -> None:
        """Run ``func()`` every ``minutes`` minutes for each business that has the plugin switched on.

        Each run happens inside that business's context (queries are scoped to it, ``current_business()``
        works) and is committed when ``func`` returns; if it raises, its changes are rolled back and the
        error is logged and shown to staff on the plugins page, and the other businesses still run.
        """
        if not isinstance(minutes, int) or minutes < 1:
            raise ValueError(f"periodic job {name!r}: minutes must be a whole number of at least 1")
        self.jobs.append(PeriodicJob(self.plugin_name, name, minutes, func))


def collect_schedules(host) -> list[PeriodicJob]:
    """Ask every loaded plugin for its periodic jobs (the ``register_periodic_tasks`` hook).

    Each plugin gets a :class:`Schedule` of its own, so every job knows which plugin's switch governs it.
    A plugin whose hook raises is listed as broken, like any plugin that fails at start-up.
    """
    schedules: dict[str, Schedule] = {}

    def own_schedule(plugin_name: str) -> dict:
        schedules[plugin_name] = Schedule(plugin_name)
        return {"schedule": schedules[plugin_name]}

    called = host.call_all_plugins("register_periodic_tasks", per_plugin=own_schedule)
    return [job for name, _ in called for job in schedules[name].jobs]


def claim_run(task_name: str, when: datetime) -> bool:
    """Claim the minute ``when`` of ``task_name`` for this worker; True if no worker had claimed it.

    Needs an app context. A database that does not answer claims nothing (the task waits for a minute
    when it does), and is logged, not raised, so the scheduler keeps running.
    """
    due_at = when.replace(second=0, microsecond=0, tzinfo=when.tzinfo or UTC)
    try:
        db.session.add(PeriodicRun(task_name=task_name, due_at=due_at,
                                   claimed_by=f"{socket.gethostname()}:{os.getpid()}"[:255]))
        db.session.flush()
        db.session.execute(delete(PeriodicRun).where(PeriodicRun.due_at < due_at - CLAIMS_KEPT))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        log.debug("periodic task %s due %s: queued by another worker", task_name, due_at.isoformat())
        return False
    except (OperationalError, InterfaceError) as exc:
        db.session.rollback()
        log.warning("periodic task %s due %s not queued: the database does not answer (%s)",
                    task_name, due_at.isoformat(), str(exc).strip().splitlines()[0])
        return False
    return True
