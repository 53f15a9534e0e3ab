"""The worker as its own process: it takes queued deliveries from the embedded SQLite queue and sends them."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from core.tenancy import business_context

REPOSITORY = Path(__file__).resolve().parents[2]
WORKER = ("from core import create_app; from core.background.queue import run_worker; "
          "run_worker(create_app(), workers=1)")


def test_a_worker_process_delivers_what_the_web_process_queued(
        app, database_url, tmp_path, db, business, other_app, invite, mailbox):
    queue_url = f"sqlite:///{tmp_path}/queue/queue.db"
    environment = {**os.environ, "SUPRATA_DATABASE_URL": database_url, "SUPRATA_QUEUE_URL": queue_url,
                   "SUPRATA_SECRET_KEY": app.config["SECRET_KEY"],
                   "SUPRATA_MAIL_PORT": str(mailbox.port), "SUPRATA_INSTANCE_DIR": str(tmp_path)}
    worker = subprocess.Popen([sys.executable, "-c", WORKER], env=environment, cwd=REPOSITORY,  # noqa: S603
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        web = other_app(queue_url)
        with web.app_context(), business_context(business.id):
            invite("jordan@example.com")

        received = mailbox.wait_for(1, timeout=30)
    finally:
        worker.send_signal(signal.SIGINT)
        _, errors = worker.communicate(timeout=30)

    assert [str(m["To"]) for m in received] == ["jordan@example.com"], errors
