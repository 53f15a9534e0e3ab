"""Background work on Huey: outbox delivery and periodic jobs, with an embedded default that needs no server.

``SUPRATA_QUEUE_URL`` chooses where tasks wait:

- ``sqlite:///path/queue.db``: embedded, the default; web and worker processes on one host share the file;
- ``redis://host:port/db``: for web and worker processes on several hosts;
- ``memory``: in-process only; tests call the task functions directly.

Tasks: ``deliver_message(id)``, queued once an outbox row is committed; ``run_task(id)``, queued once a
background task's row is committed (:mod:`core.background.tasks`); ``run_processor_task(id)``, queued once a
payment processor's task is committed (close a checkout page, refund money paid twice:
:mod:`core.money.payments.tasks`); ``run_autopay_attempt(id)``, queued once an invoice's automatic charge
is planned (:mod:`core.money.autopay`); ``deliver_due``, ``run_due_tasks``, ``processor_tasks_due`` and
``autopay_due``, the sweeps of those tables (retries of the autopay ladder included), every minute;
``follow_up``, reminders of unpaid invoices and notices of expiring autopay cards
(:mod:`core.money.follow_up`), every 15 minutes; and the jobs plugins declare in their
``register_periodic_tasks(schedule)`` hook. Each task runs in an app context of its own. The worker is
:func:`run_worker` (``flask suprata worker``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import select

from core.background import tasks
from core.background.schedule import PeriodicJob, collect_schedules
from core.config import ConfigurationError
from core.extensions import db
from core.models import PluginState
from core.money.autopay.runner import run_autopay_attempt, run_due_autopay
from core.money.follow_up import INTERVAL_MINUTES as FOLLOW_UP_MINUTES
from core.money.follow_up import follow_up_everywhere
from core.money.payments.task_runner import run_due_processor_tasks, run_processor_task
from core.notifications.outbox import deliver_due, deliver_one
from core.tenancy import business_context

log = logging.getLogger("suprata.queue")

QUEUE_NAME = "suprata"
SWEEP_BATCH = 100


def run_periodic_job(job: PeriodicJob) -> None:
    """Run ``job`` once for every business that has its plugin switched on, each in its own transaction."""
    state = current_app.extensions["suprata"]
    business_ids = db.session.scalars(
        select(PluginState.business_id)
        .where(PluginState.plugin_name == job.plugin_name, PluginState.enabled.is_(True))
        .order_by(PluginState.business_id)
        .execution_options(all_businesses=True)
    ).all()
    for business_id in business_ids:
        with business_context(business_id):
            try:
                job.func()
                db.session.commit()
            except Exception as exc:  # one business's failure must not stop the others
                db.session.rollback()
                state.plugins.record_failure(job.plugin_name, f"periodic:{job.name}", exc)


def sweep_outbox() -> None:
    """Deliver every due outbox message, in batches."""
    while deliver_due(SWEEP_BATCH) == SWEEP_BATCH:
        pass


def sweep_tasks() -> None:
    """Run every due background task, in batches."""
    while tasks.run_due(SWEEP_BATCH) == SWEEP_BATCH:
        pass


def sweep_processor_tasks() -> None:
    """Carry out every due payment processor task, in batches."""
    while run_due_processor_tasks(SWEEP_BATCH) == SWEEP_BATCH:
        pass


def sweep_autopay() -> None:
    """Charge every due autopay attempt, in batches."""
    while run_due_autopay(SWEEP_BATCH) == SWEEP_BATCH:
        pass


def _in_app_context(app: Flask, fn: Callable, *bound) -> Callable:
    """A task body that runs in a fresh app context (and so its own database session) on any thread."""

    def run(*args):
        with app.app_context():
            return fn(*bound, *args)

    return run


class TaskQueue:
    """The app's Huey instance and its tasks, kept in ``app.extensions["suprata"].queue``."""

    def __init__(self, app: Flask, huey: Huey, jobs: list[PeriodicJob]):
        self.huey = huey
        self.deliver_message = huey.task(name="deliver_message")(_in_app_context(app, deliver_one))
        self.run_task = huey.task(name="run_task")(_in_app_context(app, tasks.run_one))
        huey.periodic_task(crontab(), name="deliver_due")(_in_app_context(app, sweep_outbox))
        huey.periodic_task(crontab(), name="run_due_tasks")(_in_app_context(app, sweep_tasks))
        self.run_processor_task = huey.task(name="run_processor_task")(
            _in_app_context(app, run_processor_task))
        huey.periodic_task(crontab(), name="processor_tasks_due")(
            _in_app_context(app, sweep_processor_tasks))
        self.run_autopay_attempt = huey.task(name="run_autopay_attempt")(
            _in_app_context(app, run_autopay_attempt))
        huey.periodic_task(crontab(), name="autopay_due")(_in_app_context(app, sweep_autopay))
        huey.periodic_task(crontab(minute=f"*/{FOLLOW_UP_MINUTES}"), name="follow_up")(
            _in_app_context(app, follow_up_everywhere))
        for job in jobs:
            huey.periodic_task(job.is_due, name=f"periodic:{job.task_name}")(
                _in_app_context(app, run_periodic_job, job)
            )

    def deliver_soon(self, message_id: int) -> None:
        """Ask a worker to deliver an outbox message now.

        Never raises: when the queue cannot be reached the message stays pending and the sweep delivers it.
        """
        _soon(self.deliver_message, message_id, "outbox message", "deliver")

    def run_task_soon(self, task_id: int) -> None:
        """Ask a worker to run a queued background task now; never raises (the sweep runs it later)."""
        _soon(self.run_task, task_id, "background task", "run")

    def run_processor_task_soon(self, task_id: int) -> None:
        """Ask a worker to carry out a payment processor task now; never raises (the sweep does it later)."""
        _soon(self.run_processor_task, task_id, "processor task", "run")

    def run_autopay_soon(self, attempt_id: int) -> None:
        """Ask a worker to charge an autopay attempt now; never raises (the sweep charges it later)."""
        _soon(self.run_autopay_attempt, attempt_id, "autopay attempt", "charge")


def _soon(task, row_id: int, what: str, does: str) -> None:
    # The row is committed already: a queue that cannot be reached only delays it until the next sweep.
    try:
        task(row_id)
    except Exception:
        log.warning("could not queue %s %s; the periodic sweep will %s it", what, row_id, does, exc_info=True)


def make_huey(url: str) -> Huey:
    """The Huey instance for a ``SUPRATA_QUEUE_URL``."""
    if url == "memory":
        return MemoryHuey(QUEUE_NAME, results=False, immediate=False)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(QUEUE_NAME, filename=str(path), results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from redis import ConnectionPool

        # A web request that queues a task must not hang on an unreachable Redis.
        pool = ConnectionPool.from_url(url, socket_connect_timeout=5)
        return RedisHuey(QUEUE_NAME, connection_pool=pool, results=False)
    raise ConfigurationError(
        f"SUPRATA_QUEUE_URL={url!r} is not supported: "
        "use sqlite:///path/queue.db, redis://host:port/db or memory"
    )


def init_app(app: Flask) -> None:
    for name, value in tasks.DEFAULT_SETTINGS.items():
        app.config.setdefault(name, value)
    state = app.extensions["suprata"]
    state.schedules = collect_schedules(state.plugins)
    state.queue = TaskQueue(app, make_huey(app.config["SUPRATA_QUEUE_URL"]), state.schedules)


def run_worker(app: Flask, workers: int = 2, *, periodic: bool = True) -> None:
    """Run the task consumer in the foreground until interrupted (Ctrl-C finishes running tasks first).

    ``workers`` threads execute tasks. The consumer also queues the periodic tasks; with several worker
    processes sharing one Redis, pass ``periodic=False`` to all but one so plugin jobs run once per period.
    """
    consumer = app.extensions["suprata"].queue.huey.create_consumer(
        workers=workers, worker_type="thread", periodic=periodic
    )
    consumer.run()
