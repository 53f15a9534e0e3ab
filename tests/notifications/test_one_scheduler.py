"""Every worker schedules the periodic jobs, and each run happens once: tested with two worker processes."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from core.models import Customer, PeriodicRun
from core.tenancy import business_context

REPOSITORY = Path(__file__).resolve().parents[2]
# A worker whose plugin adds a customer named after the minute and process of each run of its job.
WORKER = """
import os
from core import create_app
from core.background.queue import run_worker
from core.plugin_api import Customer, db, hookimpl, utcnow

class Ticker:
    @hookimpl
    def register_periodic_tasks(self, schedule):
        schedule.every("tick", 1, self.tick)

    def tick(self):
        db.session.add(Customer(name=f"tick {utcnow():%H:%M} by {os.getpid()}"))

run_worker(create_app(plugins=[("ticker", Ticker())]), 1)
"""


def test_two_workers_run_a_periodic_job_once_per_period(database_url, tmp_path, db, app, make_business):
    business = make_business("acme", plugins=["ticker"])
    environment = {**os.environ, "SUPRATA_DATABASE_URL": database_url, "SUPRATA_INSTANCE_DIR": str(tmp_path),
                   "SUPRATA_QUEUE_URL": f"sqlite:///{tmp_path}/queue.db", "SUPRATA_LOG_LEVEL": "DEBUG"}
    if datetime.now(UTC).second > 45:  # start both in the same minute, so both try to schedule it
        time.sleep(61 - datetime.now(UTC).second)
    workers = [subprocess.Popen([sys.executable, "-c", WORKER], env=environment, cwd=REPOSITORY,  # noqa: S603
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        with app.app_context(), business_context(business.id):
            while not db.session.scalars(select(Customer.name)).all() and time.monotonic() < deadline:
                db.session.rollback()
                time.sleep(0.5)
        time.sleep(3)  # a second run, if there were one, would be in by now
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGINT)
        output = [worker.communicate(timeout=30)[0] for worker in workers]

    with app.app_context(), business_context(business.id):
        ticks = db.session.scalars(select(Customer.name)).all()
    minutes = [tick.split()[1] for tick in ticks]
    assert ticks and len(minutes) == len(set(minutes)), (ticks, output)
    # Both schedulers reached the same minute: one queued the job, the other saw its claim.
    assert sum("periodic:ticker.tick due" in out and "queued by another worker" in out for out in output) >= 1


def test_a_periodic_run_is_claimed_by_one_scheduler_only(app, db, other_app):
    second = other_app()
    when = datetime(2026, 3, 1, 14, 0)

    first_tasks = [task.name for task in app.extensions["suprata"].queue.huey.read_periodic(when)]
    second_tasks = [task.name for task in second.extensions["suprata"].queue.huey.read_periodic(when)]

    sweeps = app.extensions["suprata"].queue.periodic_task_names  # the outbox's and the task tables' sweeps
    assert "deliver_due" in sweeps and first_tasks == sweeps and second_tasks == []
    with app.app_context():
        claims = db.session.execute(select(PeriodicRun.task_name, PeriodicRun.due_at)).all()
    assert sorted(claims) == sorted((name, when.replace(tzinfo=UTC)) for name in sweeps)
