"""Two web servers and two workers on one throwaway PostgreSQL and one throwaway Redis, all on loopback.

The processes are the production ones (``suprata serve``, ``suprata worker``), started from the same
environment as a deployment's unit files would give them. The test process plays the rest: a mailbox that
can hold a message mid-delivery, the Stripe test server, and an app of its own on the same database for
setting up data and queueing mail.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller

from core import create_app
from core.extensions import db
from core.identity.passwords import hash_password
from core.identity.roles import OWNER
from core.models import StaffUser
from core.tenancy import business_context
from core.tenancy.businesses import create_business
from core.testing.fixtures import base_test_config
from core.testing.helpers import csrf_token_from
from core.testing.postgres import ThrowawayPostgres, free_port
from core.testing.records import issue_invoice
from core.testing.redis_server import ThrowawayRedis, find_redis_server
from core.testing.stripe_server import StripeTestServer
from plugins.payments_stripe.testing import WEBHOOK_SECRET, WebhookInbox, connect_stripe

SUPRATA = str(Path(sys.executable).with_name("suprata"))  # the console script, as a deployment runs it
REPOSITORY = Path(__file__).resolve().parents[2]
SECRET_KEY = "scale-out-test-secret-key"
STAFF_EMAIL, STAFF_PASSWORD = "dana@acme.test", "correct horse battery"


class StallingMailbox:
    """An SMTP server that keeps every message, except that it can hold one recipient's message before
    answering, until the test releases it, and then accept it or refuse it (as if the sender died)."""

    def __init__(self):
        self.port = free_port()
        self.received: list[tuple[str, str]] = []  # (recipient, Message-ID)
        self._changed = threading.Condition()
        self._hold: dict[str, dict] = {}
        mailbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's protocol
                recipient = envelope.rcpt_tos[0]
                hold = mailbox._hold.pop(recipient, None)
                if hold is not None:
                    hold["peer_port"] = session.peer[1]
                    hold["arrived"].set()
                    await asyncio.get_running_loop().run_in_executor(None, hold["released"].wait, 120)
                    if not hold["accept"]:
                        return "451 4.3.0 Try again later"
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                with mailbox._changed:
                    mailbox.received.append((recipient, str(message["Message-ID"])))
                    mailbox._changed.notify_all()
                return "250 Message accepted for delivery"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> StallingMailbox:
        self._controller.start()
        return self

    def stop(self) -> None:
        for hold in self._hold.values():
            hold["released"].set()
        self._controller.stop()

    def hold(self, recipient: str) -> dict:
        """Hold the next message to ``recipient``; ``hold["arrived"]`` is set while it is held."""
        self._hold[recipient] = hold = {"arrived": threading.Event(), "released": threading.Event(),
                                        "accept": True}
        return hold

    @staticmethod
    def release(hold: dict, *, accept: bool) -> None:
        hold["accept"] = accept
        hold["released"].set()

    def to(self, recipient: str) -> list[tuple[str, str]]:
        with self._changed:
            return [item for item in self.received if item[0] == recipient]

    def wait_for(self, recipients: set[str], timeout: float) -> bool:
        """True once every one of ``recipients`` received at least one message."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not recipients <= {recipient for recipient, _ in self.received}:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True


@dataclass
class Stack:
    """Everything the scale-out test runs, and how to reach it."""

    STATE_TTL = 2
    LEASE_SECONDS = 5
    METRICS_TOKEN = "scale-out-metrics"

    pg: ThrowawayPostgres
    redis: ThrowawayRedis
    mailbox: StallingMailbox
    stripe: StripeTestServer
    inbox: WebhookInbox
    app: object  # the test process's own app on the same database and queue
    environment: dict
    logs: Path
    business: object = None
    token: str = ""  # a pay link of the business
    invoice_id: int = 0
    webs: dict = field(default_factory=dict)  # name -> base URL
    processes: dict = field(default_factory=dict)  # name -> Popen

    # -- processes --------------------------------------------------------------------------------------

    def start(self, name: str, *args: str, **extra_env: str) -> subprocess.Popen:
        with open(self.logs / f"{name}.log", "ab") as log:
            process = subprocess.Popen([SUPRATA, *args], env={**self.environment, **extra_env},  # noqa: S603
                                       cwd=REPOSITORY, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.processes[name] = process
        return process

    def run(self, *args: str) -> subprocess.CompletedProcess:
        """Run a ``suprata`` command to its end, in the same environment as the servers."""
        return subprocess.run([SUPRATA, *args], env=self.environment, cwd=REPOSITORY,  # noqa: S603
                              capture_output=True, text=True, timeout=120)

    def start_web(self, name: str) -> str:
        port = free_port()
        self.start(name, "serve", SUPRATA_BIND=f"127.0.0.1:{port}")
        base = f"http://127.0.0.1:{port}"
        self.webs[name] = base
        self.wait_until(lambda: _answers(base + "/healthz"), 60, f"{name} did not start")
        return base

    def start_worker(self, name: str) -> subprocess.Popen:
        process = self.start(name, "worker", "--threads", "2")
        self.wait_until(lambda: "worker started" in self.log_of(name), 60, f"{name} did not start")
        return process

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes.pop(name)
        os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)

    def log_of(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- HTTP -------------------------------------------------------------------------------------------

    def url(self, web: str, path: str) -> str:
        return f"{self.webs[web]}/b/{self.business.slug}{path}"

    def pay_link(self, web: str) -> str:
        return self.url(web, f"/pay/{self.token}")

    def login(self, session: requests.Session, web: str, password: str = STAFF_PASSWORD) -> requests.Response:
        form = session.get(self.url(web, "/console/login"), timeout=10)
        return session.post(self.url(web, "/console/login"), timeout=10, allow_redirects=False, data={
            "csrf_token": csrf_token_from(form.text), "email": STAFF_EMAIL, "password": password})

    def post_button(self, session: requests.Session, web: str, page: str, action: str, **fields):
        token = csrf_token_from(session.get(self.url(web, page), timeout=10).text)
        return session.post(self.url(web, action), data={"csrf_token": token, **fields}, timeout=10,
                            allow_redirects=False)


    @staticmethod
    def wait_until(condition, timeout: float, message: str = "timed out", interval: float = 0.2):
        """``condition()``'s first true value, checked every ``interval`` seconds for ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(message)
            time.sleep(interval)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _seed(app, stack: Stack) -> None:
    with app.app_context():
        business = create_business("acme", plugins=["payments_stripe"], name="Acme Plumbing",
                                   email="office@acme.test", timezone="America/New_York")
        db.session.refresh(business)
        db.session.expunge(business)
        with business_context(business.id):
            db.session.add(StaffUser(email=STAFF_EMAIL, name="Dana Ortiz", role=OWNER,
                                     password_hash=hash_password(STAFF_PASSWORD)))
            db.session.commit()
    connect_stripe(app, business)
    stack.business = business
    stack.invoice_id, stack.token = issue_invoice(app, business)


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory):
    if request.config.getoption("--db") != "postgresql" or not find_redis_server():
        pytest.skip("runs once, in the PostgreSQL pass (--db=postgresql), and needs redis-server; it brings "
                    "its own PostgreSQL and Redis")
    logs = tmp_path_factory.mktemp("scale-out")
    pg = ThrowawayPostgres(durable=True)  # what was committed survives the outage, as on a real server
    pg.start()
    redis = ThrowawayRedis().start()
    mailbox = StallingMailbox().start()
    stripe_server = StripeTestServer()
    stripe_server.start()
    inbox = WebhookInbox()
    stripe_server.register_webhook(inbox.url, WEBHOOK_SECRET)
    database_url = pg.create_database("suprata")
    environment = {
        **os.environ,
        "SUPRATA_ENV": "development",
        "SUPRATA_SECRET_KEY": SECRET_KEY,
        "SUPRATA_DATABASE_URL": database_url,
        "SUPRATA_PUBLIC_URL": "http://suprata.test",
        "SUPRATA_INSTANCE_DIR": str(logs),
        "SUPRATA_QUEUE_URL": f"redis://127.0.0.1:{redis.port}/0",
        "SUPRATA_RATELIMIT_STORAGE": f"redis://127.0.0.1:{redis.port}/1",
        "SUPRATA_MAIL_SERVER": "127.0.0.1",
        "SUPRATA_MAIL_PORT": str(mailbox.port),
        "SUPRATA_STATE_TTL": str(Stack.STATE_TTL),
        "SUPRATA_OUTBOX_LEASE_SECONDS": str(Stack.LEASE_SECONDS),
        # Every request comes from 127.0.0.1; the tests poll pay links more than a person would.
        "SUPRATA_PAYLINK_RATE_LIMIT": "1000 per minute",
        "SUPRATA_OUTBOX_RETRY_SECONDS": "1",
        "SUPRATA_STRIPE_API_BASE": stripe_server.base_url,
        "SUPRATA_LOG_FORMAT": "json",
        "SUPRATA_LOG_LEVEL": "INFO",
        "SUPRATA_METRICS_TOKEN": Stack.METRICS_TOKEN,
        "SUPRATA_WEB_WORKERS": "2",
        # One directory for every process of the host, as the unit files have it.
        "PROMETHEUS_MULTIPROC_DIR": str(logs / "metrics"),
    }
    config = base_test_config(database_url, logs, mailbox.port)
    app = create_app({**config, "SECRET_KEY": SECRET_KEY, "SUPRATA_STRIPE_API_BASE": stripe_server.base_url,
                      "SUPRATA_QUEUE_URL": environment["SUPRATA_QUEUE_URL"]})
    stack = Stack(pg=pg, redis=redis, mailbox=mailbox, stripe=stripe_server, inbox=inbox, app=app,
                  environment=environment, logs=logs)
    try:
        migrated = stack.run("init-db")
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        _seed(app, stack)
        stack.start_web("web-a")
        stack.start_web("web-b")
        stack.start_worker("worker-1")
        stack.start_worker("worker-2")
        yield stack
    finally:
        stack.stop_all()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        inbox.stop()
        stripe_server.stop()
        mailbox.stop()
        redis.stop()
        pg.stop()
