"""After 20 failed logins a staff login is locked: the page says how long it really lasts, the account holder
is emailed, and a password reset by email ends the lock. "Forgot your password?" takes as long for any
address."""

from __future__ import annotations

import gc
import re
import statistics
import time

from sqlalchemy import func, select

from core.background.tasks import run_due
from core.extensions import db, limiter
from core.models import OutboxMessage, QueuedTask
from core.notifications.outbox import deliver_due
from core.tenancy import business_context
from core.testing.helpers import csrf_token_from, login_staff, submit_form

LOGIN = "/b/acme/console/login"
FORGOT = "/b/acme/console/forgot-password"


def _fail_logins(client, email: str, count: int) -> list:
    token = csrf_token_from(client.get(LOGIN).get_data(as_text=True))
    return [client.post(LOGIN, data={"csrf_token": token, "email": email, "password": f"guess {i}"},
                        environ_base={"REMOTE_ADDR": f"10.1.{i}.1"}) for i in range(count)]


def test_the_lock_says_how_long_it_lasts_and_holds_even_the_right_password(app, acme, staff, client,
                                                                           password):
    answers = _fail_logins(client, staff.email, 20)
    assert [a.status_code for a in answers] == [401] * 19 + [429]
    page = answers[-1].get_data(as_text=True)
    minutes = int(re.search(r"locked until .+? \(about (\d+) minutes\)", page).group(1))
    assert 1 <= minutes <= 60
    assert "wait a minute" not in page.lower()
    assert "Forgot your password?" in page and "also ends the lock" in page

    right = login_staff(app.test_client(), acme, email=staff.email, password=password)
    assert right.status_code == 429 and "locked until" in right.get_data(as_text=True)


def test_the_account_holder_is_emailed_once(app, db, acme, staff, client, mailbox):
    _fail_logins(client, staff.email, 22)
    with app.app_context(), business_context(acme.id):
        [notice] = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template_key == "staff_login_locked")).all()
        assert notice.recipient == staff.email and notice.context["attempts"] == 20
        deliver_due()
    [mail] = mailbox.wait_for(1)
    text = mailbox.text_of(mail)
    assert "typed a wrong password for your Acme Plumbing console account 20 times" in text
    assert "/b/acme/console/forgot-password" in text


def test_an_unknown_email_locks_the_same_and_mails_nobody(app, db, acme, staff, client):
    answers = _fail_logins(client, "nobody@acme.test", 20)
    assert answers[-1].status_code == 429 and "locked until" in answers[-1].get_data(as_text=True)
    with app.app_context(), business_context(acme.id):
        assert db.session.scalars(select(OutboxMessage)).all() == []


def test_a_reset_by_email_ends_the_lock(app, db, acme, staff, client):
    _fail_logins(client, staff.email, 20)
    submit_form(app.test_client(), FORGOT, {"email": staff.email})
    with app.app_context():
        run_due()  # the worker's part of "Forgot your password?"
    with app.app_context(), business_context(acme.id):
        link = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.template_key == "staff_password_reset")).context["set_password_url"]
    path = "/" + link.split("/", 3)[3]
    new = "a brand new passphrase"
    reset = submit_form(app.test_client(), path, {"new_password": new, "confirm_password": new})
    assert reset.status_code == 302

    assert login_staff(app.test_client(), acme, email=staff.email, password=new).status_code == 302


def test_forgot_password_takes_as_long_for_a_known_email_as_for_an_unknown_one(app, acme, staff,
                                                                               monkeypatch):
    monkeypatch.setattr(limiter, "enabled", False)  # the rate limit is not what is measured
    client = app.test_client()
    token = csrf_token_from(client.get(FORGOT).get_data(as_text=True))
    # A sample is a batch of requests: on a shared machine single requests fall into a fast and a slow mode,
    # and a median of single requests jumps between them; batches alternate so neither kind goes first, and
    # the garbage collector waits (as timeit makes it), so its pauses land on neither kind.
    batches, batch_size, rounds = {"known": [], "unknown": []}, 10, 20
    pair = [("known", staff.email), ("unknown", "nobody@acme.test")]
    gc.collect()
    gc.disable()
    try:
        for round_ in range(rounds):
            for kind, email in pair if round_ % 2 else reversed(pair):
                started = time.perf_counter()
                for _ in range(batch_size):
                    assert client.post(FORGOT, data={"csrf_token": token, "email": email}).status_code == 200
                batches[kind].append(time.perf_counter() - started)
    finally:
        gc.enable()
    known, unknown = statistics.median(batches["known"]), statistics.median(batches["unknown"])
    assert abs(known - unknown) / min(known, unknown) < 0.20, (known, unknown)
    with app.app_context(), business_context(acme.id):  # queued for the worker, for every request alike
        assert db.session.scalar(select(func.count(QueuedTask.id))) == 2 * rounds * batch_size
