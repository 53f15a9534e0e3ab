"""One-off background work: a function declared with :func:`background_task`, queued with ``.enqueue()``.

``post_points.enqueue(row.id)`` writes a :class:`~core.models.QueuedTask` row in the caller's transaction:
a rollback drops it with the event that caused it, and once committed it cannot be lost, even if the process
dies before it reaches the task queue. After the commit the queue is asked to run it at once; the worker's
periodic sweep (:func:`run_due`) runs whatever that missed (a queue that was down, a retry whose time has
come, a task left half-run by a worker that crashed). Claims, leases and backoff are the outbox's
(:mod:`core.background.leases`).

A task runs in a fresh app context, inside the business that queued it (queries are scoped to it,
``current_business()`` answers), and its changes are committed when it returns. If it raises, its changes
are rolled back, the error is recorded for staff on the plugins page, and it is tried again later, up to
its ``max_attempts``; then it stays failed, listed on the plugins page, where staff may retry it. A plugin's
task runs only while the plugin is on for that business; one found switched off fails, to be retried by
staff once the plugin is back. A task may run more than once (its worker may die after the work and before
the commit), so make it safe to repeat.

Settings: ``SUPRATA_TASK_MAX_ATTEMPTS`` (8, the default of every task), ``SUPRATA_TASK_RETRY_SECONDS``
(30), ``SUPRATA_TASK_RETRY_MAX_SECONDS`` (3600), ``SUPRATA_TASK_LEASE_SECONDS`` (300).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from datetime import datetime

from flask import current_app

from core.background.leases import RetryPolicy, WorkTable, attempt_failed, retry_now
from core.extensions import db
from core.models import QueuedTask
from core.plugins.events import after_commit

log = logging.getLogger("suprata.tasks")

DEFAULT_SETTINGS = {
    "SUPRATA_TASK_MAX_ATTEMPTS": 8,
    "SUPRATA_TASK_RETRY_SECONDS": 30,
    "SUPRATA_TASK_RETRY_MAX_SECONDS": 3600,
    "SUPRATA_TASK_LEASE_SECONDS": 300,
}

TASKS = WorkTable(QueuedTask, claimed="running")

# Every declared task by name. Filled as modules are imported: a worker knows the tasks of every plugin it
# loaded, because a plugin's module (or one it imports) declares them.
_declared: dict[str, BackgroundTask] = {}


class TaskStateError(ValueError):
    """The task is not in a state that allows this action; the message is for the user."""


class BackgroundTask:
    """A function that can be queued to run later in the worker (made by :func:`background_task`).

    Calling it runs the function now, in the caller's process; :meth:`enqueue` queues a run.
    """

    def __init__(self, func: Callable, max_attempts: int | None):
        self.func = func
        self.name = f"{func.__module__}:{func.__qualname__}"
        self.max_attempts = max_attempts
        self.__doc__ = func.__doc__
        self.__wrapped__ = func

    def __call__(self, *args, **kwargs):
        return self.func(*args, **kwargs)

    def enqueue(self, *args, **kwargs) -> int:
        """Queue a run with these arguments (JSON values), in the current business and transaction.

        Returns the queued row's id. The run happens after the caller commits; nothing runs on rollback.
        """
        arguments = {"args": list(args), "kwargs": dict(kwargs)}
        try:
            arguments = json.loads(json.dumps(arguments))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"the arguments of background task {self.name} must be JSON values "
                            f"(numbers, strings, lists, dicts; pass ids, not records): {exc}") from None
        plugin_name = current_app.extensions["suprata"].plugins.plugin_owning(self.func.__module__)
        row = QueuedTask(plugin_name=plugin_name, task_name=self.name, arguments=arguments,
                         max_attempts=self.max_attempts or current_app.config["SUPRATA_TASK_MAX_ATTEMPTS"])
        db.session.add(row)
        db.session.flush()
        task_id = row.id
        after_commit(lambda: current_app.extensions["suprata"].queue.run_task_soon(task_id))
        return task_id


def background_task(func: Callable | None = None, *, max_attempts: int | None = None):
    """Declare a function as a background task: ``@background_task`` or ``@background_task(max_attempts=5)``.

    Declare it at module level, in a module your plugin's module imports, so every worker knows it.
    """

    def declare(function: Callable) -> BackgroundTask:
        if max_attempts is not None and (not isinstance(max_attempts, int) or max_attempts < 1):
            raise ValueError(f"background task {function.__qualname__}: max_attempts must be 1 or more")
        declared = BackgroundTask(function, max_attempts)
        _declared[declared.name] = declared
        return declared

    return declare(func) if func is not None else declare


# -- running (workers) -------------------------------------------------------------------------------------


def _policy(row: QueuedTask) -> RetryPolicy:
    return dataclasses.replace(RetryPolicy.from_config("SUPRATA_TASK"), max_attempts=row.max_attempts)


def run_due(limit: int = 100, *, now: datetime | None = None) -> int:
    """Claim and run up to ``limit`` due tasks of every business; returns how many were attempted.

    ``now`` runs what is due at that moment instead (tests use it to let a backoff pass).
    """
    return TASKS.work_due(limit, RetryPolicy.from_config("SUPRATA_TASK"), _run, now)


def run_one(task_id: int) -> bool:
    """Run one task now if it is due and no other worker has it; True if an attempt was made."""
    return TASKS.work_one(task_id, RetryPolicy.from_config("SUPRATA_TASK"), _run)


def _run(row: QueuedTask) -> None:
    """Run a claimed task, inside its business: its work and its removal commit together."""
    task_id = row.id
    problem = _why_not_runnable(row)
    if problem:
        _attempt_failed(row, problem, permanent=True)
        db.session.commit()
        return
    try:
        _declared[row.task_name](*row.arguments.get("args", []), **row.arguments.get("kwargs", {}))
        db.session.delete(db.session.get(QueuedTask, task_id))
        db.session.commit()
    except Exception as exc:  # a failing task must not stop the sweep; it waits for its retry
        db.session.rollback()
        row = db.session.get(QueuedTask, task_id)
        log.exception("background task %s (%s) raised", task_id, row.task_name)
        _attempt_failed(row, f"{type(exc).__name__}: {exc}", permanent=False)
        db.session.commit()
        if row.plugin_name is not None:
            current_app.extensions["suprata"].plugins.record_failure(
                row.plugin_name, f"task:{_short_name(row.task_name)}", exc)


def _why_not_runnable(row: QueuedTask) -> str | None:
    if row.task_name not in _declared:
        return f"No background task {row.task_name} is loaded: is its plugin still installed?"
    host = current_app.extensions["suprata"].plugins
    if row.plugin_name is not None and not host.is_enabled(row.plugin_name):
        return f"The plugin {row.plugin_name} was off for this business when the task was due."
    return None


def _attempt_failed(row: QueuedTask, error: str, *, permanent: bool) -> None:
    if attempt_failed(row, error, permanent=permanent, policy=_policy(row)):
        log.warning("background task %s (%s) failed for good: %s", row.id, row.task_name, error)


def _short_name(task_name: str) -> str:
    return task_name.rpartition(":")[2]


def retry(task_id: int) -> QueuedTask | None:
    """Staff want a failed or waiting task of the current business run now, with a fresh set of attempts.

    Works in the caller's transaction; the run is requested after the commit. Returns ``None`` when the
    business has no such task; raises :class:`TaskStateError` for one that is running.
    """
    row = db.session.get(QueuedTask, task_id)
    if row is None:
        return None
    if row.status == TASKS.claimed:
        raise TaskStateError("This task is running now.")
    retry_now(row)
    after_commit(lambda: current_app.extensions["suprata"].queue.run_task_soon(task_id))
    return row
