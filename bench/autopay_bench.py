"""Autopay run: the worker charges 1,000 and then 10,000 due invoices against the local Stripe test server.

For each size it builds a fresh SQLite database with one business (Stripe connected in test mode), a customer
on autopay with a saved card at the Stripe test server, and that many issued subscription invoices whose
automatic charge is due, then runs the worker's autopay sweep in a process of its own and prints invoices
charged per second and the worker's peak memory (the process's peak resident size, and the peak of Python
allocations during the sweep). The cost should grow linearly with the number of invoices (the same rate at
each size) and memory stay flat. The Stripe test server runs in another process, so its memory is not
counted; absolute rates move from run to run on a shared machine.

    .venv/bin/python bench/autopay_bench.py                  # 1,000 and 10,000
    .venv/bin/python bench/autopay_bench.py --sizes 200 2000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from pathlib import Path

import stripe
from sqlalchemy import func, insert, select

from core import create_app
from core.background.queue import sweep_autopay
from core.extensions import db
from core.models import AutopayAttempt, Customer, CustomerEmail, Invoice, Payment
from core.money.autopay.enrolment import switch_on
from core.money.payments.saved_methods import record_card_saved
from core.money.payments.types import CardDetails, Consent
from core.plugins.settings import save_settings
from core.tenancy import business_context, utcnow
from core.tenancy.businesses import create_business
from core.testing.postgres import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "sk_test_suprata_bench"  # noqa: S105 - known to the local test server only
AMOUNT = 4900


def _environment(workdir: Path) -> dict:
    return {**os.environ, "SUPRATA_DATABASE_URL": f"sqlite:///{workdir}/bench.db",
            "SUPRATA_QUEUE_URL": f"sqlite:///{workdir}/queue.db", "SUPRATA_INSTANCE_DIR": str(workdir),
            "SUPRATA_SECRET_KEY": "bench-secret-key"}


def seed(count: int, stripe_base: str) -> None:
    """One business, one customer on autopay with a card at the Stripe test server, ``count`` due invoices."""
    app = create_app({"SUPRATA_STRIPE_API_BASE": stripe_base})
    api = stripe.StripeClient(SECRET_KEY, base_addresses={"api": stripe_base}, max_network_retries=0)
    with app.app_context():
        db.create_all()
        business = create_business("bench", name="Bench Plumbing", plugins=["payments_stripe"],
                                   billing_email="billing@bench.test")
        with business_context(business.id):
            save_settings("payments_stripe", {"mode": "test", "test_secret_key": SECRET_KEY,
                                              "webhook_secret": "whsec_bench"})
            customer = Customer(name="Pat Jones", emails=[CustomerEmail(email="pat@example.com",
                                                                        is_primary=True)])
            db.session.add(customer)
            db.session.flush()
            stripe_customer = api.v1.customers.create(params={"email": "pat@example.com"})
            card = api.v1.payment_methods.create(params={"type": "card", "card": {
                "number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}})
            api.v1.payment_methods.attach(card.id, params={"customer": stripe_customer.id})
            method = record_card_saved("stripe", customer.id, CardDetails(card.id, "visa", "4242", 12, 2034),
                                       Consent(at=utcnow(), text="Save this card.", ip=None, user_agent=None))
            first = Invoice(customer_id=customer.id, number="B-0", currency="USD", status="paid",
                            total=AMOUNT, amount_paid=AMOUNT)
            db.session.add(first)
            db.session.flush()
            db.session.add(Payment(invoice_id=first.id, customer_id=customer.id, processor="stripe",
                                   amount=AMOUNT, currency="USD", status="succeeded", source="pay_link",
                                   captured_at=utcnow()))
            db.session.flush()
            switch_on(customer, method, channel="phone", wording="Yes.")
            now = utcnow()
            invoice_rows = [{"business_id": business.id, "customer_id": customer.id, "number": f"B-{n}",
                             "kind": "subscription", "status": "open", "currency": "USD", "subtotal": AMOUNT,
                             "tax_total": 0, "total": AMOUNT, "amount_paid": 0, "created_at": now,
                             "autopay_state": "scheduled"} for n in range(1, count + 1)]
            db.session.execute(insert(Invoice), invoice_rows)
            ids = db.session.scalars(select(Invoice.id).where(Invoice.kind == "subscription")).all()
            db.session.execute(insert(AutopayAttempt), [
                {"business_id": business.id, "invoice_id": invoice_id, "number": 1, "status": "pending",
                 "attempts": 0, "next_attempt_at": now, "created_at": now} for invoice_id in ids])
            db.session.commit()


def work() -> None:
    """The worker's autopay sweep, measured; prints its figures as JSON."""
    app = create_app({"SUPRATA_STRIPE_API_BASE": os.environ["SUPRATA_STRIPE_API_BASE"]})
    with app.app_context():
        tracemalloc.start()
        started = time.perf_counter()
        sweep_autopay()
        seconds = time.perf_counter() - started
        _, python_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        paid = db.session.scalar(select(func.count(Invoice.id)).where(Invoice.status == "paid",
                                                                       Invoice.autopay_state == "paid")
                                 .execution_options(all_businesses=True))
    print(json.dumps({"seconds": seconds, "paid": paid, "python_peak": python_peak,
                      "max_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/v1/customers", timeout=1)  # noqa: S310 - our loopback server
        except urllib.error.HTTPError:
            return  # it answers (401 without a key): it is up
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the Stripe test server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stripe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        work()
        return
    if args.seed:
        seed(args.seed, args.stripe)
        return
    port = free_port()
    stripe_url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "core.testing.stripe_server", "--port", str(port)], cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_up(stripe_url)
        print(f"{'invoices':>9} {'seconds':>8} {'invoices/s':>11} {'peak RSS':>10} {'peak Python':>12}")
        for size in args.sizes:
            # Each size starts from an empty Stripe server: the same invoice ids would otherwise replay the
            # previous size's idempotency keys.
            urllib.request.urlopen(urllib.request.Request(stripe_url + "/_config/data",  # noqa: S310
                                                          method="DELETE"), timeout=10)
            with tempfile.TemporaryDirectory(prefix="autopay-bench-") as workdir:
                env = _environment(Path(workdir))
                script = [sys.executable, str(Path(__file__).resolve())]
                subprocess.run([*script, "--seed", str(size), "--stripe", stripe_url],  # noqa: S603
                               env=env, cwd=ROOT, check=True)
                result = subprocess.run([*script, "--worker"],  # noqa: S603 - our own script
                                        env={**env, "SUPRATA_STRIPE_API_BASE": stripe_url}, cwd=ROOT,
                                        check=True, capture_output=True, text=True)
                figures = json.loads(result.stdout.strip().splitlines()[-1])
                if figures["paid"] != size:
                    raise SystemExit(f"only {figures['paid']} of {size} invoices were paid")
                print(f"{size:>9,} {figures['seconds']:>8.1f} {size / figures['seconds']:>11.1f} "
                      f"{figures['max_rss'] / 2**20:>8.0f} MB {figures['python_peak'] / 2**20:>9.1f} MB",
                      flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
