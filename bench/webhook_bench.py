"""Load test: Stripe webhook ingestion, signed ``payment_intent.succeeded`` events for distinct invoices.

For each database it seeds one business with Stripe connected and N open invoices, each with a pending
payment for a PaymentIntent that has succeeded. It signs one ``payment_intent.succeeded`` event per invoice
with the business's webhook secret, serves the real app with gunicorn, and posts every event once with wrk,
each to the business's webhook endpoint. Each event goes the production way: signature check on the raw body,
the PaymentIntent fetched again from "Stripe" through the real ``stripe`` SDK, the payment captured, the
invoice paid, the receipt queued in the outbox, all in one transaction. Then it does the same to the bare
Flask app and prints events per second, p50 and p99, and their ratio. Afterwards it checks that every
request was a distinct event that took effect exactly once.

"Stripe" here answers only the re-fetch, from a table, in a process of its own (:class:`CannedStripe`): the
suite's Stripe test server takes tens of milliseconds per request once it holds thousands of objects, which
would measure it instead of us.

    .venv/bin/python bench/webhook_bench.py                      # both databases
    .venv/bin/python bench/webhook_bench.py --db sqlite --events 4000

Needs gunicorn, wrk (``apt-get install -y wrk``) and, for PostgreSQL, Debian's server binaries.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from paylink_bench import (
    Measurement,
    add_load_arguments,
    database,
    free_port,
    gunicorn,
    measure,
    percentile,
    print_measurements,
)

WEBHOOK_SECRET = "whsec_bench"  # noqa: S105 - known to the benchmark only
SECRET_KEY = "sk_test_bench"  # noqa: S105
AMOUNT = 12_345


def intent(n: int, business_id: int) -> dict:
    """PaymentIntent ``pi_bench_<n>``, succeeded, for payment ``n``, as Stripe's API shows it."""
    return {"id": f"pi_bench_{n}", "object": "payment_intent", "amount": AMOUNT, "currency": "usd",
            "status": "succeeded", "livemode": False, "payment_method": None, "setup_future_usage": None,
            "last_payment_error": None,
            "metadata": {"suprata_business_id": str(business_id), "suprata_payment_id": str(n)}}


class CannedStripe:
    """Stripe's API for the benchmark: ``GET /v1/payment_intents/pi_bench_<n>`` answers a succeeded intent;
    a process of its own, so its work does not share the benchmark's interpreter."""

    def __init__(self, business_id: int):
        self.port = free_port()
        program = (
            "import http.server, json, sys\n"
            "from webhook_bench import intent\n"
            "business_id, port = int(sys.argv[1]), int(sys.argv[2])\n"
            "class Handler(http.server.BaseHTTPRequestHandler):\n"
            "    protocol_version = 'HTTP/1.1'\n"
            "    disable_nagle_algorithm = True  # headers and body go in two writes\n"
            "    def do_GET(self):\n"
            "        n = int(self.path.split('?')[0].rsplit('_', 1)[1])\n"
            "        body = json.dumps(intent(n, business_id)).encode()\n"
            "        self.send_response(200)\n"
            "        self.send_header('Content-Type', 'application/json')\n"
            "        self.send_header('Content-Length', str(len(body)))\n"
            "        self.end_headers()\n"
            "        self.wfile.write(body)\n"
            "    def log_message(self, *args):\n"
            "        pass\n"
            "http.server.ThreadingHTTPServer(('127.0.0.1', port), Handler).serve_forever()\n"
        )
        self.process = subprocess.Popen([sys.executable, "-c", program, str(business_id), str(self.port)],  # noqa: S603
                                        cwd=Path(__file__).resolve().parent)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while not _listening(self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the canned Stripe API did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def seed(database_url: str, events: int) -> tuple[int, list[tuple[bytes, str]]]:
    """The business and its invoices, each with a pending payment for ``pi_bench_<n>``; returns the business
    id and the signed events, one per invoice, as (body, Stripe-Signature)."""
    from sqlalchemy import insert

    from core import create_app
    from core.extensions import db
    from core.models import Business, Customer, CustomerEmail, Invoice, Payment
    from core.plugins.settings import save_settings, set_enabled
    from core.tenancy import business_context, utcnow

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SUPRATA_QUEUE_URL": "memory"})
    with app.app_context():
        db.create_all()
        business = Business(slug="acme", name="Acme Plumbing", timezone="America/New_York")
        db.session.add(business)
        db.session.commit()
        business_id = business.id
        with business_context(business_id):
            set_enabled("payments_stripe", True)
            save_settings("payments_stripe", {"mode": "test", "test_secret_key": SECRET_KEY,
                                              "webhook_secret": WEBHOOK_SECRET})
            db.session.commit()
            now = utcnow()
            numbers = range(1, events + 1)
            db.session.execute(insert(Customer), [
                {"id": n, "business_id": business_id, "name": f"Customer {n}", "created_at": now}
                for n in numbers])
            db.session.execute(insert(CustomerEmail), [
                {"business_id": business_id, "customer_id": n, "email": f"customer{n}@example.com",
                 "is_primary": True} for n in numbers])
            db.session.execute(insert(Invoice), [
                {"id": n, "business_id": business_id, "customer_id": n, "number": f"INV-{n:05d}",
                 "kind": "one_off", "status": "open", "currency": "USD", "subtotal": AMOUNT, "tax_total": 0,
                 "total": AMOUNT, "amount_paid": 0, "created_at": now, "sent_at": now, "revision": 0}
                for n in numbers])
            db.session.execute(insert(Payment), [
                {"id": n, "business_id": business_id, "invoice_id": n, "customer_id": n,
                 "processor": "stripe", "processor_ref": f"pi_bench_{n}", "amount": AMOUNT, "currency": "USD",
                 "status": "pending", "source": "pay_link", "amount_refunded": 0, "details": {},
                 "created_at": now} for n in numbers])
            db.session.commit()
        db.engine.dispose()
    timestamp = int(time.time())
    signed = []
    for n in range(1, events + 1):
        body = json.dumps({"id": f"evt_bench_{n}", "object": "event", "type": "payment_intent.succeeded",
                           "created": timestamp, "livemode": False, "api_version": "2024-06-20",
                           "data": {"object": intent(n, business_id)}}).encode()
        signed_payload = f"{timestamp}.".encode() + body
        digest = hmac.new(WEBHOOK_SECRET.encode(), signed_payload, hashlib.sha256).hexdigest()
        signed.append((body, f"t={timestamp},v1={digest}"))
    return business_id, signed


def wrk_events(base: str, path: str, events: list[tuple[bytes, str]], *, seconds: int, connections: int,
               threads: int, workdir: Path) -> tuple[int, float, float, float]:
    """POST each event at most once, spread over the threads; returns (requests, per second, p50, p99)."""
    script = workdir / "events.lua"
    quoted = ",\n".join(f"{{{json.dumps(body.decode())}, {json.dumps(signature)}}}"
                        for body, signature in events)
    script.write_text(f"""events = {{
{quoted}
}}
local threads = {{}}
function setup(thread)
  table.insert(threads, thread)
  thread:set("first", #threads)
  thread:set("step", {threads})
end
local sent = 0
request = function()
  local i = first + sent * step
  sent = sent + 1
  if i > #events then
    i = ((i - 1) % #events) + 1  -- only once every event went out: a repeat, counted as one below
  end
  local event = events[i]
  return wrk.format("POST", "{path}", {{["Stripe-Signature"] = event[2],
                                        ["Content-Type"] = "application/json"}}, event[1])
end
""")
    command = [shutil.which("wrk") or "/usr/bin/wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
               "--latency", "-s", str(script), base]
    output = subprocess.run(command, check=True, capture_output=True, text=True,  # noqa: S603
                            timeout=seconds + 120).stdout
    if "Non-2xx or 3xx responses" in output:
        raise RuntimeError(f"errors during the run:\n{output}")
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return requests, rps, percentile(output, "50"), percentile(output, "99")


def run(kind: str, args) -> tuple[Measurement, Measurement, int]:
    with tempfile.TemporaryDirectory(prefix="suprata-bench-") as tmp, database(kind, Path(tmp)) as url:
        workdir = Path(tmp)
        started = time.monotonic()
        business_id, events = seed(url, args.events)
        print(f"[{kind}] seeded {args.events:,} invoices with pending payments "
              f"in {time.monotonic() - started:.1f} s", flush=True)
        stripe_api = CannedStripe(business_id)
        try:
            env = {**os.environ, "SUPRATA_DATABASE_URL": url, "SUPRATA_QUEUE_URL": "memory",
                   "SUPRATA_INSTANCE_DIR": str(workdir), "SUPRATA_LOG_LEVEL": "WARNING",
                   "SUPRATA_STRIPE_API_BASE": stripe_api.url}
            hello = measure("hello", "paylink_bench:hello_app()", ["/"], env, args, workdir)
            with gunicorn("paylink_bench:paylink_app()", env, args.workers, ready_path="/healthz") as base:
                requests, rps, p50, p99 = wrk_events(base, "/b/acme/stripe/webhook", events,
                                                     seconds=args.seconds, connections=args.connections,
                                                     threads=args.threads, workdir=workdir)
            applied = _applied(url, business_id)
            # wrk does not count the requests still in flight when it stops: at most one per connection.
            if requests > len(events) or not requests <= applied <= requests + args.connections:
                raise RuntimeError(f"{requests} requests, {len(events)} events, {applied} applied: "
                                   "raise --events so that every request is a new event")
        finally:
            stripe_api.stop()
    return hello, Measurement("webhooks", rps, p50, p99), applied


def _applied(database_url: str, business_id: int) -> int:
    """Events that took effect: paid invoices, each with exactly one recorded event and one receipt."""
    from sqlalchemy import func, select

    from core import create_app
    from core.extensions import db
    from core.models import Invoice, OutboxMessage
    from core.tenancy import business_context
    from plugins.payments_stripe.models import StripeEvent

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SUPRATA_QUEUE_URL": "memory"})
    with app.app_context(), business_context(business_id):
        paid = db.session.scalar(select(func.count(Invoice.id)).where(Invoice.status == "paid"))
        recorded = db.session.scalar(select(func.count(StripeEvent.id)))
        receipts = db.session.scalar(select(func.count(OutboxMessage.id))
                                     .where(OutboxMessage.template_key == "payment_receipt"))
        db.engine.dispose()
    if not paid == recorded == receipts:
        raise RuntimeError(f"{paid} invoices paid, {recorded} events recorded, {receipts} receipts")
    return paid


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"])
    parser.add_argument("--events", type=int, default=10_000, help="distinct events (more than a run sends)")
    add_load_arguments(parser, seconds=5)
    args = parser.parse_args(argv)

    results = {kind: run(kind, args) for kind in args.db}

    print_measurements({kind: (hello, webhooks) for kind, (hello, webhooks, _) in results.items()})
    for kind, (hello, webhooks, applied) in results.items():
        print(f"{kind}: {webhooks.requests_per_second:.0f} events/s (target 500), "
              f"{webhooks.requests_per_second / hello.requests_per_second:.2f} of bare Flask; "
              f"{applied:,} distinct events each applied once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
