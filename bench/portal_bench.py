"""Load test: the portal's invoices tab of a customer with 1,000 invoices, against a bare Flask "hello" app in
the same run, on SQLite and on PostgreSQL.

For each database it seeds one business with the portal on and one signed-in customer (a server-side session
whose cookie every request sends) with 1,000 invoices, serves the real app with gunicorn and drives the tab
with wrk on loopback, rotating over its pages and filters; then the bare app with the same settings. It prints
requests per second, p50 and p99 latency and the tab's share of the bare app's throughput (absolute numbers
move from run to run on a shared machine; the ratio, measured back to back, is the figure to watch).

    .venv/bin/python bench/portal_bench.py                  # both databases, 10 s per measurement
    .venv/bin/python bench/portal_bench.py --db sqlite --seconds 5

Needs gunicorn (the test extra) and wrk (``apt-get install -y wrk``); reuses the pay-link bench's serving and
measuring (``paylink_bench.py`` beside this file).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from paylink_bench import add_load_arguments, database, measure, print_measurements, print_ratios

INVOICES = 1000
PER_PAGE = 20


def portal_app():
    """The real application, configured from the environment the benchmark sets."""
    from core import create_app

    return create_app()


def seed(database_url: str, invoices: int) -> tuple[list[str], str]:
    """The schema, one business with the portal on, and a signed-in customer with ``invoices`` invoices;
    returns the tab's paths to rotate over and the session cookie."""
    from sqlalchemy import insert, text

    from core import create_app
    from core.extensions import db
    from core.identity.passwords import hash_password
    from core.identity.tokens import new_token
    from core.models import AuthSession, Business, Customer, CustomerEmail, CustomerUser, Invoice
    from core.plugins.settings import set_enabled
    from core.tenancy import business_context, utcnow

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SUPRATA_QUEUE_URL": "memory"})
    with app.app_context():
        db.create_all()
        business = Business(slug="acme", name="Acme Plumbing", email="office@acme.test",
                            timezone="America/New_York")
        db.session.add(business)
        db.session.commit()
        with business_context(business.id):
            set_enabled("portal", True)
            customer = Customer(name="Maria Garcia", emails=[CustomerEmail(email="maria@example.com",
                                                                           is_primary=True)])
            db.session.add(customer)
            db.session.flush()
            user = CustomerUser(customer_id=customer.id, email="maria@example.com",
                                password_hash=hash_password("bench passphrase"), email_confirmed_at=utcnow())
            db.session.add(user)
            db.session.flush()
            token, token_hash = new_token()
            db.session.add(AuthSession(token_hash=token_hash, realm="customer", user_id=user.id))
            now = utcnow()
            db.session.execute(insert(Invoice), [
                {"business_id": business.id, "customer_id": customer.id, "number": f"INV-{n:05d}",
                 "kind": ("one_off", "subscription", "service_agreement")[n % 3],
                 "status": ("open", "paid", "paid", "void")[n % 4], "currency": "USD",
                 "issue_date": date(2024, 1, 1) + timedelta(days=n), "subtotal": 10000 + n, "tax_total": 825,
                 "total": 10825 + n, "amount_paid": 0, "created_at": now, "sent_at": now}
                for n in range(invoices)])
            db.session.commit()
        with db.engine.connect() as connection:
            connection.execute(text("ANALYZE"))  # planner statistics, as a database in service has them
            connection.commit()
        db.engine.dispose()
    pages = -(-invoices // PER_PAGE)
    paths = [f"/b/acme/portal/invoices?page={n}" for n in range(1, pages + 1)]
    paths += [f"/b/acme/portal/invoices?status={s}&page=2" for s in ("open", "paid")]
    paths += ["/b/acme/portal/invoices?kind=subscription&from=2024-06-01"]
    return paths, f"suprata_customer={token}"


def run(kind: str, args):
    with tempfile.TemporaryDirectory(prefix="suprata-bench-") as tmp, database(kind, Path(tmp)) as url:
        workdir = Path(tmp)
        started = time.monotonic()
        paths, cookie = seed(url, args.invoices)
        seconds = time.monotonic() - started
        print(f"[{kind}] seeded {args.invoices:,} invoices for one customer in {seconds:.1f} s", flush=True)
        env = {**os.environ, "SUPRATA_DATABASE_URL": url, "SUPRATA_QUEUE_URL": "memory",
               "SUPRATA_INSTANCE_DIR": str(workdir), "SUPRATA_LOG_LEVEL": "WARNING"}
        hello = measure("hello", "paylink_bench:hello_app()", ["/"], env, args, workdir)
        tab = measure("invoices", "portal_bench:portal_app()", paths, env, args, workdir, cookie=cookie)
    return hello, tab


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"])
    parser.add_argument("--invoices", type=int, default=INVOICES)
    add_load_arguments(parser)
    args = parser.parse_args(argv)

    results = {kind: run(kind, args) for kind in args.db}

    print_measurements(results)
    print_ratios(results, "portal invoices tab")
    return 0


if __name__ == "__main__":
    sys.exit(main())
