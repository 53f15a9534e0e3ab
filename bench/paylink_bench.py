"""Load test: the pay-link page against a bare Flask "hello" app, on SQLite and on PostgreSQL.

For each database it seeds one business with 10,000 sent invoices of 10 lines each (a pay link apiece),
serves the real app with gunicorn, drives the pay-link page with wrk on loopback (rotating over many
invoices; every request records a view, as in production), then does the same to a bare Flask app that
answers "Hello, World!", with the same gunicorn settings, and prints requests per second, p50 and p99
latency and the pay-link page's share of the bare app's throughput. Absolute numbers move from run to run
on a shared machine; the ratio, measured back to back, is the figure to watch (target: at least 0.25, goal
0.5). ``paylink_cpu.py`` measures the CPU time of one request in process, which moves far less.

    .venv/bin/python bench/paylink_bench.py                  # both databases, 10 s per measurement
    .venv/bin/python bench/paylink_bench.py --db sqlite --seconds 5

Needs gunicorn (the test extra) and wrk (``apt-get install -y wrk``). The pay-link rate limit is raised
for the run (SUPRATA_PAYLINK_RATE_LIMIT): every request comes from one address.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
PAGES_IN_ROTATION = 2000
LINES_PER_INVOICE = 10
CUSTOMERS = 1000
RATE_LIMIT_FOR_THE_RUN = "100000000 per minute"


def hello_app() -> Flask:
    """The bare reference: Flask and nothing else."""
    app = Flask("hello")

    @app.get("/")
    def hello():
        return "Hello, World!"

    return app


def paylink_app() -> Flask:
    """The real application, configured from the environment the benchmark sets."""
    from core import create_app

    return create_app({"SUPRATA_PAYLINK_RATE_LIMIT": RATE_LIMIT_FOR_THE_RUN})


# -- seeding ----------------------------------------------------------------------------------------------


def seed(database_url: str, invoices: int) -> list[str]:
    """Create the schema and one business with ``invoices`` sent invoices; returns pay-link paths."""
    from sqlalchemy import insert, text

    from core import create_app
    from core.extensions import db
    from core.identity.tokens import new_token
    from core.models import Business, Customer, CustomerEmail, Invoice, InvoiceLine, InvoiceView, PayLink
    from core.plugins.settings import save_settings, set_enabled
    from core.tenancy import business_context, utcnow

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SUPRATA_QUEUE_URL": "memory"})
    with app.app_context():
        db.create_all()
        business = Business(slug="acme", name="Acme Plumbing", email="office@acme.test", phone="+1 555 0100",
                            timezone="America/New_York")
        db.session.add(business)
        db.session.commit()
        business_id = business.id
        with business_context(business_id):
            set_enabled("payments_stripe", True)
            save_settings("payments_stripe", {"mode": "test", "test_secret_key": "sk_test_bench"})
            db.session.commit()
            now = utcnow()
            db.session.execute(insert(Customer), [
                {"id": n, "business_id": business_id, "name": f"Customer {n}", "created_at": now}
                for n in range(1, CUSTOMERS + 1)])
            db.session.execute(insert(CustomerEmail), [
                {"business_id": business_id, "customer_id": n, "email": f"customer{n}@example.com",
                 "is_primary": True} for n in range(1, CUSTOMERS + 1)])
            lines, links, paths = [], [], []
            invoice_rows = []
            for n in range(1, invoices + 1):
                amounts = [(1000 + 37 * k) * (k % 3 + 1) for k in range(LINES_PER_INVOICE)]
                taxes = [round(a * 0.0825) for a in amounts]
                invoice_rows.append({
                    "id": n, "business_id": business_id, "customer_id": n % CUSTOMERS + 1,
                    "number": f"INV-{n:05d}", "kind": "one_off", "status": "open", "currency": "USD",
                    "issue_date": now.date(), "subtotal": sum(amounts), "tax_total": sum(taxes),
                    "total": sum(amounts) + sum(taxes), "amount_paid": 0, "created_at": now, "sent_at": now})
                for k in range(LINES_PER_INVOICE):
                    lines.append({"business_id": business_id, "invoice_id": n, "position": k,
                                  "description": f"Service item {k + 1}", "quantity": Decimal(k % 3 + 1),
                                  "unit_price": 1000 + 37 * k, "tax_rate_bp": 825, "amount": amounts[k],
                                  "tax_amount": taxes[k]})
                token, token_hash = new_token()
                links.append({"business_id": business_id, "invoice_id": n, "token_hash": token_hash,
                              "created_at": now})
                paths.append(f"/b/acme/pay/{token}")
            db.session.execute(insert(Invoice), invoice_rows)
            db.session.execute(insert(InvoiceLine), lines)
            db.session.execute(insert(PayLink), links)
            # Half the invoices were opened before, once.
            db.session.execute(insert(InvoiceView), [
                {"business_id": business_id, "invoice_id": n, "viewed_at": now, "ip": "203.0.113.1"}
                for n in range(2, invoices + 1, 2)])
            db.session.commit()
        with db.engine.connect() as connection:
            # Planner statistics, as a database in service has them.
            connection.execute(text("ANALYZE"))
            connection.commit()
        db.engine.dispose()
    return random.Random(4).sample(paths, min(PAGES_IN_ROTATION, len(paths)))


# -- serving and measuring ----------------------------------------------------------------------------------


@dataclass
class Measurement:
    app: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float


def free_port() -> int:
    from core.testing.postgres import free_port as pick

    return pick()


@contextmanager
def gunicorn(target: str, env: dict, workers: int, ready_path: str):
    """Serve ``target`` (module:factory()) on a free loopback port; yields the base URL once
    ``ready_path`` answers."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--chdir", str(ROOT), "--pythonpath", str(ROOT / "bench"),
               "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning", target]
    server = subprocess.Popen(command, env=env)  # noqa: S603 - our own interpreter and arguments
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + ready_path, timeout=2):  # noqa: S310 - our loopback server
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start {target}") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def wrk(base: str, paths: list[str], *, seconds: int, connections: int, threads: int, workdir: Path,
        cookie: str | None = None) -> tuple[float, float, float]:
    """Run wrk over ``paths`` in turn (sending ``cookie``, if given); returns (requests per second, p50 ms,
    p99 ms)."""
    script = workdir / "paths.lua"
    quoted = ",\n".join(f'  "{path}"' for path in paths)
    headers = f'{{["Cookie"] = "{cookie}"}}' if cookie else "nil"
    script.write_text(f"""paths = {{
{quoted}
}}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1], {headers})
end
""")
    command = [shutil.which("wrk") or "/usr/bin/wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
               "--latency", "-s", str(script), base]
    output = subprocess.run(command, check=True, capture_output=True, text=True,  # noqa: S603
                            timeout=seconds + 60).stdout
    if "Non-2xx or 3xx responses" in output:
        raise RuntimeError(f"errors during the run:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return rps, percentile(output, "50"), percentile(output, "99")


def percentile(output: str, which: str) -> float:
    value, unit = re.search(rf"^\s+{which}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def measure(name: str, target: str, paths: list[str], env: dict, args, workdir: Path,
            cookie: str | None = None) -> Measurement:
    with gunicorn(target, env, args.workers, ready_path=paths[0]) as base:
        # A short warm-up first: imports, template compilation, connection pools.
        wrk(base, paths, seconds=2, connections=args.connections, threads=args.threads, workdir=workdir,
            cookie=cookie)
        rps, p50, p99 = wrk(base, paths, seconds=args.seconds, connections=args.connections,
                            threads=args.threads, workdir=workdir, cookie=cookie)
    return Measurement(name, rps, p50, p99)


@contextmanager
def database(kind: str, workdir: Path):
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    from core.testing.postgres import ThrowawayPostgres

    cluster = ThrowawayPostgres()
    cluster.start()
    try:
        yield cluster.create_database("suprata_bench")
    finally:
        cluster.stop()


def run(kind: str, args) -> tuple[Measurement, Measurement]:
    with tempfile.TemporaryDirectory(prefix="suprata-bench-") as tmp, database(kind, Path(tmp)) as url:
        workdir = Path(tmp)
        started = time.monotonic()
        paths = seed(url, args.invoices)
        print(f"[{kind}] seeded {args.invoices:,} invoices x {LINES_PER_INVOICE} lines "
              f"in {time.monotonic() - started:.1f} s", flush=True)
        env = {**os.environ, "SUPRATA_DATABASE_URL": url, "SUPRATA_QUEUE_URL": "memory",
               "SUPRATA_INSTANCE_DIR": str(workdir), "SUPRATA_LOG_LEVEL": "WARNING"}
        hello = measure("hello", "paylink_bench:hello_app()", ["/"], env, args, workdir)
        paylink = measure("pay link", "paylink_bench:paylink_app()", paths, env, args, workdir)
    return hello, paylink


def add_load_arguments(parser: argparse.ArgumentParser, *, seconds: int = 10, connections: int = 16) -> None:
    """The options every load run shares: how long each measurement lasts, gunicorn's workers, wrk's
    connections and threads."""
    parser.add_argument("--seconds", type=int, default=seconds, help="length of each measurement")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn worker processes")
    parser.add_argument("--connections", type=int, default=connections)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")


def print_measurements(results: dict) -> None:
    """A table of every measurement: ``results`` maps each database to its measurements, bare Flask first."""
    print(f"\n{'database':<11} {'app':<9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for kind, measurements in results.items():
        for m in measurements:
            print(f"{kind:<11} {m.app:<9} {m.requests_per_second:>9.0f} {m.p50_ms:>8.2f} {m.p99_ms:>8.2f}")


def print_ratios(results: dict, what: str, *, note: str = "") -> None:
    """Per database, what the app measured (second) serves as a share of bare Flask (first)."""
    for kind, (bare, measured) in results.items():
        ratio = measured.requests_per_second / bare.requests_per_second
        print(f"{kind}: {what} / bare Flask = {ratio:.2f}{note}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"])
    parser.add_argument("--invoices", type=int, default=10_000)
    add_load_arguments(parser)
    args = parser.parse_args(argv)

    results = {kind: run(kind, args) for kind in args.db}

    print_measurements(results)
    print_ratios(results, "pay-link page", note=" (target 0.25, goal 0.50)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
