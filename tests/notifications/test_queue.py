"""The task queue: backends from configuration, delivery when the queue is down, plugins' periodic jobs."""

import logging
from datetime import datetime

import pytest
from huey import MemoryHuey, RedisHuey, SqliteHuey
from sqlalchemy import select

from core import plugin_api
from core.background.queue import PeriodicJob, make_huey
from core.config import ConfigurationError
from core.models import Customer, OutboxMessage, PluginError
from core.notifications.outbox import deliver_due, enqueue
from core.plugin_api import current_business, hookimpl
from core.tenancy import business_context
from core.testing.postgres import free_port

INVITE_CONTEXT = {"customer_name": "Jordan Rivera", "invite_url": "http://suprata.test/invite/x"}


def test_the_queue_url_chooses_the_backend(tmp_path):
    assert isinstance(make_huey("memory"), MemoryHuey)
    sqlite_huey = make_huey(f"sqlite:///{tmp_path}/new/dir/queue.db")
    assert isinstance(sqlite_huey, SqliteHuey) and (tmp_path / "new" / "dir").is_dir()
    assert isinstance(make_huey("redis://127.0.0.1:6379/0"), RedisHuey)
    with pytest.raises(ConfigurationError, match="SUPRATA_QUEUE_URL"):
        make_huey("amqp://somewhere")


def test_the_embedded_sqlite_queue_runs_the_delivery_task(other_app, tmp_path, db, business, mailbox):
    application = other_app(f"sqlite:///{tmp_path}/queue/queue.db")
    huey = application.extensions["suprata"].queue.huey
    with application.app_context(), business_context(business.id):
        enqueue("portal_invitation", to="jordan@example.com", context=INVITE_CONTEXT)
        db.session.commit()

    assert huey.pending_count() == 1
    huey.execute(huey.dequeue())

    assert [str(m["To"]) for m in mailbox.wait_for(1)] == ["jordan@example.com"]


def test_a_queue_that_is_down_breaks_nothing_and_the_sweep_delivers(other_app, db, business, mailbox, caplog):
    application = other_app(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    with application.app_context(), business_context(business.id), caplog.at_level(logging.WARNING):
        enqueue("portal_invitation", to="jordan@example.com", context=INVITE_CONTEXT)
        db.session.commit()  # does not raise
        assert db.session.scalar(select(OutboxMessage.status)) == "pending"
    assert "the periodic sweep will deliver it" in caplog.text

    with application.app_context():
        assert deliver_due() == 1
    assert len(mailbox.wait_for(1)) == 1


def test_the_outbox_sweep_is_a_periodic_task(app, db, business, in_business, mailbox):
    with in_business(business):
        enqueue("portal_invitation", to="jordan@example.com", context=INVITE_CONTEXT)
        db.session.commit()
    huey = app.extensions["suprata"].queue.huey
    [sweep] = [task for task in huey.read_periodic(datetime(2026, 1, 1, 12, 1)) if task.name == "deliver_due"]

    huey.execute(sweep)

    assert len(mailbox.wait_for(1)) == 1


class TickerPlugin:
    """Adds a customer every five minutes; refuses to work for the business called "Broken"."""

    def __init__(self):
        self.runs = []

    @hookimpl
    def register_periodic_tasks(self, schedule):
        schedule.every("tick", 5, self.tick)

    def tick(self):
        business = current_business()
        self.runs.append(business.slug)
        plugin_api.db.session.add(plugin_api.Customer(name=f"added by tick for {business.slug}"))
        if business.name == "Broken":
            raise RuntimeError("ticker cannot work here")


def test_a_periodic_job_runs_once_per_business_that_has_its_plugin_on(other_app, db, make_business):
    ticker = TickerPlugin()
    application = other_app(plugins=[("ticker", ticker)])
    acme = make_business("acme", plugins=["ticker"])
    broken = make_business("broken", plugins=["ticker"], name="Broken")
    make_business("off")
    huey = application.extensions["suprata"].queue.huey

    sweeps = ["deliver_due", "run_due_tasks", "processor_tasks_due", "autopay_due"]
    assert [t.name for t in huey.read_periodic(datetime(2026, 1, 1, 12, 3))] == sweeps
    assert "follow_up" in [t.name for t in huey.read_periodic(datetime(2026, 1, 1, 12, 15))]
    [task] = [t for t in huey.read_periodic(datetime(2026, 1, 1, 12, 5)) if t.name == "periodic:ticker.tick"]
    huey.execute(task)

    assert ticker.runs == ["acme", "broken"]
    with application.app_context():
        with business_context(acme.id):
            assert db.session.scalars(select(Customer.name)).all() == ["added by tick for acme"]
        with business_context(broken.id):
            assert db.session.scalars(select(Customer)).all() == []  # rolled back
            [error] = db.session.scalars(select(PluginError)).all()
            assert (error.plugin_name, error.hook) == ("ticker", "periodic:tick")
            assert "ticker cannot work here" in error.error


def test_periodic_jobs_are_due_on_whole_multiples_of_their_interval():
    job = PeriodicJob("ticker", "hourly", 60, lambda: None)
    assert job.is_due(datetime(2026, 3, 1, 14, 0))
    assert not job.is_due(datetime(2026, 3, 1, 14, 30))

