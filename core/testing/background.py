"""Run what the worker would: due background tasks, then due outbox messages, once, in the test's process."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from core.background.tasks import run_due
from core.notifications.outbox import deliver_due
from core.tenancy import utcnow


class BackgroundRun(NamedTuple):
    """How many tasks and messages one :func:`run_background_work` attempted."""

    tasks: int
    messages: int


def run_background_work(app, *, later: timedelta = timedelta(0)) -> BackgroundRun:
    """Run every background task that is due, then deliver every due outbox message (the emails a task
    queued included), once, the way the worker's sweeps do.

    A retry waiting for its backoff is not due yet; ``later=timedelta(minutes=5)`` runs what will be due by
    then. Tests need this because their task queue is in memory and no worker runs: after it returns, a
    task's effects are committed and its emails are on their way to the ``mailbox`` (``mailbox.wait_for()``).
    """
    moment = utcnow() + later
    with app.app_context():
        tasks = run_due(now=moment)
    with app.app_context():
        messages = deliver_due(now=moment)
    return BackgroundRun(tasks, messages)
