"""Scaled out: two web servers and two workers share one PostgreSQL and one Redis, and survive their outages.

The tests run in order on one set of processes (see ``conftest.py``); each says what it proves.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import redis as redis_client
import requests
from sqlalchemy import func, select

from core.extensions import db
from core.models import Invoice, OutboxMessage, Payment
from core.notifications.outbox import enqueue
from core.tenancy import business_context
from core.testing.helpers import csrf_token_from
from plugins.payments_stripe.models import StripeEvent
from plugins.payments_stripe.testing import pay_on_hosted_page

INVITE = {"customer_name": "Jordan Rivera", "invite_url": "http://suprata.test/invite/x"}


def queue_mail(stack, *recipients: str) -> list[int]:
    """Queue a portal invitation to each recipient from the test's own app, as a web request would."""
    with stack.app.app_context(), business_context(stack.business.id):
        ids = [enqueue("portal_invitation", to=recipient, context=INVITE).id for recipient in recipients]
        db.session.commit()
    return ids


def outbox_status(stack, message_id: int) -> str | None:
    """The message's status, or None while the database does not answer."""
    with stack.app.app_context(), business_context(stack.business.id):
        try:
            return db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == message_id))
        except Exception:
            db.session.remove()
            db.engine.dispose()
            return None


def count_in_business(stack, model, *where) -> int:
    with stack.app.app_context(), business_context(stack.business.id):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def get(url: str, **kwargs) -> requests.Response:
    return requests.get(url, timeout=15, allow_redirects=False, **kwargs)


def log_records(stack, name: str) -> list[dict]:
    """Every line of a process's log, each of which must be one JSON object."""
    return [json.loads(line) for line in stack.log_of(name).splitlines() if line.strip()]


def connection_owner(local_port: int, pids: list[int]) -> int:
    """Which of ``pids`` holds the TCP connection whose local end is ``local_port`` (from /proc)."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == local_port:
            inode = fields[9]
    assert inode, f"no connection from port {local_port}"
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if fd.readlink().name == f"socket:[{inode}]" or str(fd.readlink()) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    raise AssertionError(f"none of {pids} holds the connection from port {local_port}")


def test_both_web_servers_are_ready(stack):
    for web in ("web-a", "web-b"):
        response = get(stack.webs[web] + "/readyz")
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ready", "checks": {
            "database": "ok", "queue": "ok", "rate limits": "ok"}}
        assert get(stack.pay_link(web)).status_code == 200


def test_a_staff_login_on_a_is_valid_on_b_and_a_logout_on_b_ends_it_on_a(stack):
    browser = requests.Session()
    assert stack.login(browser, "web-a").status_code == 302

    on_b = browser.get(stack.url("web-b", "/console/"), timeout=10, allow_redirects=False)
    assert on_b.status_code == 200 and "Dashboard" in on_b.text

    logged_out = stack.post_button(browser, "web-b", "/console/", "/console/logout")
    assert logged_out.status_code == 302
    on_a = browser.get(stack.url("web-a", "/console/"), timeout=10, allow_redirects=False)
    assert on_a.status_code == 302 and "/console/login" in on_a.headers["Location"]


def test_a_plugin_switched_off_on_a_stops_answering_on_b_within_the_state_ttl(stack):
    browser = requests.Session()
    assert stack.login(browser, "web-a").status_code == 302
    webhook_on_b = stack.url("web-b", "/stripe/webhook")
    assert requests.post(webhook_on_b, data=b"{}", timeout=10).status_code == 400  # on: no signature

    switch = "/console/plugins/payments_stripe/switch"
    switched = stack.post_button(browser, "web-a", "/console/plugins", switch, enabled="off")
    assert switched.status_code == 302
    started = time.monotonic()
    stack.wait_until(lambda: requests.post(webhook_on_b, data=b"{}", timeout=10).status_code == 404,
                     stack.STATE_TTL + 5, "web B still answers for the switched-off plugin", interval=0.1)
    assert time.monotonic() - started <= stack.STATE_TTL + 1.5

    stack.post_button(browser, "web-b", "/console/plugins", switch, enabled="on")
    stack.wait_until(lambda: requests.post(stack.url("web-a", "/stripe/webhook"), data=b"{}", timeout=10)
               .status_code == 400, stack.STATE_TTL + 5, "web A did not see the plugin switched on again")


def test_rate_limits_are_shared_between_the_web_servers(stack):
    redis_client.Redis.from_url(stack.environment["SUPRATA_RATELIMIT_STORAGE"]).flushdb()
    statuses = [stack.login(requests.Session(), web, password="wrong password").status_code
                for web in ("web-a", "web-b") * 5]
    assert statuses == [401] * 10  # the login limit is 10 a minute per address, counted across both

    assert stack.login(requests.Session(), "web-a", password="wrong password").status_code == 429
    assert stack.login(requests.Session(), "web-b", password="wrong password").status_code == 429


def test_a_burst_of_outbox_messages_is_delivered_exactly_once_by_racing_workers(stack):
    recipients = [f"burst{n}@example.com" for n in range(40)]
    queue_mail(stack, *recipients)

    assert stack.mailbox.wait_for(set(recipients), timeout=60)
    time.sleep(2)  # anything sent twice would arrive by now
    for recipient in recipients:
        assert len(stack.mailbox.to(recipient)) == 1, recipient


def test_the_same_webhook_sent_to_both_web_servers_at_once_is_applied_once(stack):
    browser = requests.Session()
    page = browser.get(stack.pay_link("web-a"), timeout=10)
    hosted = browser.post(stack.pay_link("web-a") + "/checkout", timeout=10, allow_redirects=False,
                          data={"csrf_token": csrf_token_from(page.text)})
    assert hosted.status_code == 303, hosted.text
    hosted_url = hosted.headers["Location"]
    assert pay_on_hosted_page(hosted_url).status_code == 303
    delivery = stack.inbox.wait_for("checkout.session.completed", hosted_url.rsplit("/", 1)[1])

    start, answers = threading.Barrier(2), {}

    def send(web: str) -> None:
        start.wait()
        answers[web] = requests.post(stack.url(web, "/stripe/webhook"), data=delivery.body, timeout=30,
                                     headers={"Stripe-Signature": delivery.signature,
                                              "Content-Type": "application/json"})

    threads = [threading.Thread(target=send, args=(web,)) for web in ("web-a", "web-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(answer.json()["received"] for answer in answers.values()) == ["done", "duplicate"]
    assert count_in_business(stack, StripeEvent, StripeEvent.event_id == delivery.event.id) == 1
    assert count_in_business(stack, Payment, Payment.status == "succeeded") == 1
    assert count_in_business(stack, OutboxMessage, OutboxMessage.template_key == "payment_receipt") == 1
    with stack.app.app_context(), business_context(stack.business.id):
        invoice = db.session.get(Invoice, stack.invoice_id)
        assert (invoice.status, invoice.amount_paid) == ("paid", invoice.total)


def test_a_worker_killed_mid_job_loses_nothing_and_sends_nothing_twice(stack):
    hold = stack.mailbox.hold("killed@example.com")
    [message_id] = queue_mail(stack, "killed@example.com")
    assert hold["arrived"].wait(30), "no worker started sending"
    workers = {name: stack.processes[name].pid for name in ("worker-1", "worker-2")}
    sending = connection_owner(hold["peer_port"], list(workers.values()))
    victim = next(name for name, pid in workers.items() if pid == sending)

    stack.kill(victim, signal.SIGKILL)
    stack.mailbox.release(hold, accept=False)  # the connection died with the worker: nothing was accepted
    assert outbox_status(stack, message_id) == "sending"  # claimed by the dead worker until its lease ends
    stack.start_worker(victim)

    stack.wait_until(lambda: stack.mailbox.to("killed@example.com"), 100, "the message was never sent",
                     interval=1)
    stack.wait_until(lambda: outbox_status(stack, message_id) == "sent", 30, "not recorded as sent")
    time.sleep(stack.LEASE_SECONDS + 2)
    assert len(stack.mailbox.to("killed@example.com")) == 1


def test_a_redis_outage_keeps_customer_pages_working_and_work_resumes_after(stack):
    stack.redis.kill()
    try:
        assert get(stack.pay_link("web-a")).status_code == 200
        assert get(stack.pay_link("web-b")).status_code == 200
        assert stack.login(requests.Session(), "web-b").status_code == 302
        ready = get(stack.webs["web-a"] + "/readyz")
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded"
        assert ready.json()["checks"]["database"] == "ok"
        assert ready.json()["checks"]["queue"].startswith("not reachable")
        assert ready.json()["checks"]["rate limits"].startswith("not reachable")
        [message_id] = queue_mail(stack, "during-redis-outage@example.com")  # the queue refuses: it waits
        assert outbox_status(stack, message_id) == "pending"
        doctor = stack.run("doctor")
        assert doctor.returncode != 0
        errors = [line.split(":")[0] for line in doctor.stdout.splitlines() if line.startswith("error")]
        assert [" ".join(error.split()[1:]) for error in errors] == ["queue", "rate limits"], doctor.stdout
    finally:
        stack.redis.restart()

    stack.wait_until(lambda: stack.mailbox.to("during-redis-outage@example.com"), 100,
               "the message queued during the outage was not delivered", interval=1)
    stack.wait_until(lambda: get(stack.webs["web-a"] + "/readyz").json()["status"] == "ready", 30,
               "readiness did not recover", interval=1)
    time.sleep(2)
    assert len(stack.mailbox.to("during-redis-outage@example.com")) == 1


def test_a_postgresql_outage_answers_503_and_work_resumes_without_duplicates(stack):
    hold = stack.mailbox.hold("database-outage@example.com")
    [message_id] = queue_mail(stack, "database-outage@example.com")
    assert hold["arrived"].wait(30), "no worker started sending"
    lines_before = {name: len(stack.log_of(name).splitlines()) for name in stack.processes}

    stack.pg.kill()
    try:
        stack.mailbox.release(hold, accept=True)  # accepted by SMTP; the worker cannot record it yet
        for _ in range(20):
            page = get(stack.pay_link("web-a"))
            assert page.status_code == 503
        assert page.headers["Retry-After"] == "30"
        assert "We&#39;ll be right back" in page.text or "We'll be right back" in page.text
        ready = get(stack.webs["web-b"] + "/readyz")
        assert ready.status_code == 503 and ready.headers["Retry-After"]
        assert ready.json()["status"] == "unavailable"
        assert ready.json()["checks"]["database"].startswith("not reachable")
        assert get(stack.webs["web-b"] + "/healthz").status_code == 200  # alive: no reason to restart it
        time.sleep(3)
    finally:
        stack.pg.restart()

    stack.wait_until(lambda: get(stack.pay_link("web-a")).status_code == 200, 30, "web A did not recover",
               interval=0.5)
    stack.wait_until(lambda: get(stack.pay_link("web-b")).status_code == 200, 30, "web B did not recover",
               interval=0.5)
    stack.wait_until(lambda: outbox_status(stack, message_id) == "sent", 60, "the accepted message was lost")
    time.sleep(stack.LEASE_SECONDS + 3)  # its claim would have run out by now
    assert len(stack.mailbox.to("database-outage@example.com")) == 1
    for name, before in lines_before.items():
        added = [json.loads(line) for line in stack.log_of(name).splitlines()[before:] if line.strip()]
        problems = [record for record in added if record["level"] in ("WARNING", "ERROR", "CRITICAL")]
        assert len(problems) <= 12, (name, [record["message"] for record in problems])


def test_every_log_line_is_json_with_the_request_id(stack):
    response = get(stack.pay_link("web-a"))
    request_id = response.headers["X-Request-ID"]
    time.sleep(0.5)
    for name in stack.processes:
        records = log_records(stack, name)  # raises if a line is not one JSON object
        assert records and all({"time", "level", "logger", "pid", "request_id", "message"} <= set(r)
                               for r in records)
    access = [r for r in log_records(stack, "web-a") if r["request_id"] == request_id]
    [line] = access
    assert line["logger"] == "suprata.access" and line["message"].startswith("GET /pay/<token> 200 ")
    assert stack.token not in stack.log_of("web-a")
    assert any("worker started" in r["message"] for r in log_records(stack, "worker-2"))


def test_one_web_servers_metrics_add_up_every_process_of_the_host(stack):
    unauthorised = get(stack.webs["web-a"] + "/metrics")
    assert unauthorised.status_code == 401
    authorised = {"Authorization": f"Bearer {stack.METRICS_TOKEN}"}
    text = get(stack.webs["web-a"] + "/metrics", headers=authorised).text
    assert 'route="/pay/<token>"' in text and "suprata_http_request_duration_seconds_bucket" in text
    # Only web B was asked for readiness during the database outage; the webhook took effect on A or B.
    readiness_on_b = 'suprata_http_request_duration_seconds_count{method="GET",route="/readyz",status="503"}'
    assert f"{readiness_on_b} 1.0" in text
    assert 'suprata_outbox_depth{status="pending"}' in text
    assert "suprata_outbox_oldest_age_seconds" in text
    assert 'suprata_webhook_lag_seconds_count{processor="stripe"} 1.0' in text
