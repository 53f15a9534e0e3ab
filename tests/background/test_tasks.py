"""Plugins' background tasks: queued in the caller's transaction, run after commit inside the business,
retried with backoff, never lost, failures shown to staff on the plugins page."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.background.tasks import run_due, run_one
from core.extensions import db
from core.models import Customer, PluginError, QueuedTask
from core.plugin_api import background_task, current_business, hookimpl
from core.tenancy import business_context, utcnow
from core.testing.background import run_background_work
from core.testing.helpers import csrf_token_from, sign_in_staff
from core.testing.records import issue_invoice, switch_plugin

PLUGIN = "errands"
runs: list[tuple[str, str]] = []  # (business slug, text) of every run
failures = {"left": 0}


@background_task
def note(text: str) -> None:
    """Adds a customer named after ``text`` in the business it runs for; fails while failures are left."""
    business = current_business()
    runs.append((business.slug, text))
    db.session.add(Customer(name=f"{text} for {business.slug}"))
    if failures["left"] > 0:
        failures["left"] -= 1
        raise ConnectionError("the far end is down")


@background_task(max_attempts=2)
def fragile(text: str) -> None:
    runs.append((current_business().slug, text))
    raise ValueError(f"cannot do {text}")


class Errands:
    """A plugin whose tasks live in this module: it queues one for every invoice sent."""

    @hookimpl
    def on_invoice_sent(self, invoice):
        note.enqueue(f"invoice {invoice.number}")
        db.session.commit()


@pytest.fixture
def errands(register_plugin):
    runs.clear()
    failures["left"] = 0
    return register_plugin(Errands(), PLUGIN)


@pytest.fixture
def acme(make_business, errands):
    return make_business("acme", plugins=[PLUGIN])


def queued(app, business) -> list[QueuedTask]:
    with app.app_context(), business_context(business.id):
        rows = db.session.scalars(select(QueuedTask).order_by(QueuedTask.id)).all()
        db.session.expunge_all()
        return rows


def customers(app, business) -> list[str]:
    with app.app_context(), business_context(business.id):
        return db.session.scalars(select(Customer.name).order_by(Customer.id)).all()


def change_task(app, task_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(update(QueuedTask).where(QueuedTask.id == task_id).values(**values)
                           .execution_options(all_businesses=True))
        db.session.commit()


def test_a_task_runs_after_commit_inside_its_business(app, acme, make_business, in_business):
    bolt = make_business("bolt", plugins=[PLUGIN])
    with in_business(bolt):
        note.enqueue("hello")
        assert runs == []  # not before the commit
        db.session.commit()

    assert run_background_work(app).tasks == 1

    assert runs == [("bolt", "hello")]
    assert customers(app, bolt) == ["hello for bolt"]
    assert customers(app, acme) == []
    assert queued(app, bolt) == []  # done: nothing left to run


def test_a_rolled_back_transaction_queues_nothing(app, acme, in_business):
    with in_business(acme):
        note.enqueue("never")
        db.session.rollback()
    assert run_background_work(app).tasks == 0
    assert queued(app, acme) == []
    assert runs == []


def test_a_hook_queues_work_that_the_worker_runs(app, acme):
    issue_invoice(app, acme)

    run_background_work(app)

    [(slug, text)] = runs
    assert (slug, text) == ("acme", "invoice INV-0001")
    assert customers(app, acme)[-1] == "invoice INV-0001 for acme"


def test_the_commit_asks_the_task_queue_to_run_it_at_once(app, acme, in_business):
    huey = app.extensions["suprata"].queue.huey
    huey.flush()
    with in_business(acme):
        task_id = note.enqueue("soon")
        db.session.commit()
    [message] = [m for m in huey.pending() if m.name == "run_task"]
    assert message.args == (task_id,)

    huey.execute(message)

    assert runs == [("acme", "soon")]
    huey.flush()


def test_a_task_the_queue_never_heard_of_is_run_by_the_sweep(app, acme, in_business):
    """Durable: the row is the promise. A process that died between commit and queueing loses nothing."""
    huey = app.extensions["suprata"].queue.huey
    with in_business(acme):
        note.enqueue("after a crash")
        db.session.commit()
    huey.flush()  # the queue lost it

    [sweep] = [t for t in huey.read_periodic(utcnow().replace(second=0)) if t.name == "run_due_tasks"]
    huey.execute(sweep)

    assert runs == [("acme", "after a crash")]


def test_arguments_must_be_json_values(acme, in_business):
    with in_business(acme), pytest.raises(TypeError, match="must be JSON values"):
        note.enqueue(object())


def test_a_failing_task_is_retried_with_backoff_and_its_error_shown(app, acme, in_business):
    failures["left"] = 1
    with in_business(acme):
        task_id = note.enqueue("flaky")
        db.session.commit()

    before = utcnow()
    run_background_work(app)

    [row] = queued(app, acme)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "ConnectionError: the far end is down"
    wait = row.next_attempt_at - before
    assert timedelta(seconds=55) < wait < timedelta(seconds=65)  # 2 x SUPRATA_TASK_RETRY_SECONDS
    assert customers(app, acme) == []  # the failed attempt's changes were rolled back
    with app.app_context(), business_context(acme.id):
        [error] = db.session.scalars(select(PluginError)).all()
        assert (error.plugin_name, error.hook) == (PLUGIN, "task:note")
        assert "the far end is down" in error.error

    assert run_background_work(app).tasks == 0  # not due yet
    change_task(app, task_id, next_attempt_at=utcnow())
    assert run_background_work(app).tasks == 1
    assert customers(app, acme) == ["flaky for acme"]
    assert queued(app, acme) == []


def test_a_task_that_keeps_failing_is_listed_for_staff_who_can_retry_it(app, client, acme, in_business):
    with in_business(acme):
        task_id = fragile.enqueue("the impossible")
        db.session.commit()
    run_background_work(app)
    change_task(app, task_id, next_attempt_at=utcnow())
    run_background_work(app)

    [row] = queued(app, acme)
    assert (row.status, row.attempts) == ("failed", 2)
    assert run_background_work(app).tasks == 0  # given up: waits for staff

    sign_in_staff(app, client, acme, "admin")
    page = client.get("/b/acme/console/plugins").get_data(as_text=True)
    assert "Background tasks waiting: <strong>0</strong>" in page
    assert "<code>fragile</code>" in page
    assert "ValueError: cannot do the impossible" in page

    retried = client.post(f"/b/acme/console/plugins/{PLUGIN}/tasks/{task_id}/retry",
                          data={"csrf_token": csrf_token_from(page)})
    assert retried.status_code == 302
    [row] = queued(app, acme)
    assert (row.status, row.attempts) == ("pending", 0)
    run_background_work(app)
    assert runs.count(("acme", "the impossible")) == 3


def test_staff_retry_only_their_own_businesses_tasks(app, client, acme, make_business, in_business):
    bolt = make_business("bolt", plugins=[PLUGIN])
    with in_business(bolt):
        task_id = fragile.enqueue("theirs")
        db.session.commit()
    sign_in_staff(app, client, acme)
    page = client.get("/b/acme/console/plugins").get_data(as_text=True)
    refused = client.post(f"/b/acme/console/plugins/{PLUGIN}/tasks/{task_id}/retry",
                          data={"csrf_token": csrf_token_from(page)})
    assert refused.status_code == 404


def test_a_task_of_a_plugin_switched_off_waits_for_staff(app, acme, in_business):
    with in_business(acme):
        note.enqueue("while on")
        db.session.commit()
    switch_plugin(app, acme, PLUGIN, on=False)

    run_background_work(app)

    assert runs == []
    [row] = queued(app, acme)
    assert row.status == "failed"
    assert row.last_error == f"The plugin {PLUGIN} was off for this business when the task was due."


def test_a_task_left_running_by_a_crashed_worker_runs_once(app, acme, in_business):
    with in_business(acme):
        task_id = note.enqueue("half done")
        db.session.commit()
    change_task(app, task_id, status="running", lease_until=utcnow() + timedelta(minutes=5))
    assert run_background_work(app).tasks == 0  # a live worker holds it

    change_task(app, task_id, lease_until=utcnow() - timedelta(seconds=1))  # that worker died
    assert run_background_work(app).tasks == 1
    with app.app_context():
        assert run_one(task_id) is False
    assert runs == [("acme", "half done")]


def test_concurrent_sweeps_run_each_task_once(app, acme, in_business):
    with in_business(acme):
        for n in range(10):
            note.enqueue(f"job {n}")
        db.session.commit()
    start = threading.Barrier(2)
    counts = []

    def worker():
        with app.app_context():
            start.wait()
            counts.append(run_due())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(counts) == 10
    assert sorted(text for _, text in runs) == sorted(f"job {n}" for n in range(10))
