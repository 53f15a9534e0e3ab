"""Customer pages cost the same however much data piles up: an index or a kept value answers each query.

Every statement a page runs is explained by the database. On SQLite a table read without an index shows as
``SCAN <table>``; on PostgreSQL the planner is asked with sequential scans switched off, so a ``Seq Scan``
that remains means no index can serve the query. The "last viewed" lookup is also timed: the page with
100,000 recorded views of its invoice must cost about what it costs with 100.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, insert, update

from core.extensions import db
from core.models import (
    ActivityEvent,
    Customer,
    Invoice,
    InvoiceLine,
    InvoiceView,
    OutboxMessage,
    PayLink,
    Payment,
)
from core.tenancy import utcnow
from core.testing.records import issue_invoice

MANY_VIEWS = 100_000
FEW_VIEWS = 100


@contextmanager
def statements_run(app):
    """(SQL, parameters) of every statement run inside the block."""
    with app.app_context():
        engine = db.engine
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plans(app, statements) -> list[tuple[str, list[str]]]:
    """(statement, plan lines) of each SELECT among ``statements``, as the database would run it."""
    explained = []
    with app.app_context(), db.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        postgresql = connection.dialect.name == "postgresql"
        cursor = raw.cursor()
        if postgresql:
            cursor.execute("SET enable_seqscan = off")
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(("EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN ") + statement, parameters)
            explained.append((statement, [str(row[-1]) for row in cursor.fetchall()]))
        if postgresql:
            cursor.execute("RESET enable_seqscan")
        cursor.close()
    return explained


def full_table_scans(app, statements) -> list[str]:
    """The plan lines of ``statements`` (their SELECTs) that read a whole table."""
    postgresql = _dialect(app) == "postgresql"
    return [f"{line}  <-  {statement[:120]}" for statement, plan in plans(app, statements)
            for line in plan if _reads_a_whole_table(line, postgresql)]


def _dialect(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def _reads_a_whole_table(plan_line: str, postgresql: bool) -> bool:
    if postgresql:
        return "Seq Scan" in plan_line
    return plan_line.startswith("SCAN ") and " INDEX" not in plan_line


def add_views(app, business, invoice_id: int, count: int) -> None:
    """``count`` more recorded views of the invoice, spread over the past year."""
    now = utcnow()
    rows = [{"business_id": business.id, "invoice_id": invoice_id, "ip": "203.0.113.9",
             "viewed_at": now - timedelta(minutes=n + 10)} for n in range(count)]
    with app.app_context():
        for start in range(0, len(rows), 20_000):
            db.session.execute(insert(InvoiceView), rows[start:start + 20_000])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE invoice_view")
                connection.commit()


def grow_the_business(app, business, invoices: int = 300) -> None:
    """Other customers' invoices, lines, links, views, payments, timeline events and mail."""
    now = utcnow()
    base = business.id * 1_000_000
    with app.app_context():
        db.session.execute(insert(Customer), [
            {"id": base + n, "business_id": business.id, "name": f"Customer {n}", "created_at": now}
            for n in range(invoices)])
        db.session.execute(insert(Invoice), [
            {"id": base + n, "business_id": business.id, "customer_id": base + n, "number": f"OLD-{n}",
             "kind": "one_off", "status": "paid", "currency": "USD", "total": 1000, "amount_paid": 1000,
             "created_at": now, "revision": 0} for n in range(invoices)])
        db.session.execute(insert(InvoiceLine), [
            {"business_id": business.id, "invoice_id": base + n, "position": k, "description": "Part",
             "quantity": Decimal(1), "unit_price": 100, "tax_rate_bp": 0, "amount": 100, "tax_amount": 0}
            for n in range(invoices) for k in range(10)])
        db.session.execute(insert(PayLink), [
            {"business_id": business.id, "invoice_id": base + n, "token_hash": f"{base + n:064d}",
             "created_at": now} for n in range(invoices)])
        db.session.execute(insert(InvoiceView), [
            {"business_id": business.id, "invoice_id": base + n, "viewed_at": now} for n in range(invoices)])
        db.session.execute(insert(Payment), [
            {"business_id": business.id, "invoice_id": base + n, "customer_id": base + n,
             "processor": "stripe", "processor_ref": f"pi_old_{n}", "amount": 1000, "currency": "USD",
             "status": "succeeded", "source": "pay_link", "amount_refunded": 0, "details": {},
             "created_at": now, "captured_at": now} for n in range(invoices)])
        db.session.execute(insert(ActivityEvent), [
            {"business_id": business.id, "customer_id": base + n, "at": now, "surface": "pay_link",
             "kind": "invoice.viewed", "summary": "Opened", "ref": {}} for n in range(invoices)])
        db.session.execute(insert(OutboxMessage), [
            {"business_id": business.id, "channel": "email", "template_key": "invoice_sent",
             "recipient": f"c{n}@example.com", "context": {}, "status": "sent", "attempts": 0,
             "next_attempt_at": now, "created_at": now} for n in range(invoices)])
        db.session.commit()


def page_time(client, url: str, runs: int = 25) -> float:
    """The fastest of ``runs`` loads: the least disturbed by whatever else the machine is doing."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        times.append(time.perf_counter() - started)
    return min(times)


def test_the_page_costs_the_same_with_100000_views_of_its_invoice_as_with_100(
        app, client, db, business, cached_businesses):
    few_id, few_token = issue_invoice(app, business, email="few@example.com")
    many_id, many_token = issue_invoice(app, business, email="many@example.com")
    add_views(app, business, few_id, FEW_VIEWS)
    add_views(app, business, many_id, MANY_VIEWS)
    few, many = f"/b/acme/pay/{few_token}", f"/b/acme/pay/{many_token}"
    client.get(few), client.get(many)  # warm: templates, the business, the invoice bodies

    with statements_run(app) as statements:
        page = client.get(many).get_data(as_text=True)
    assert "You last viewed this invoice on" in page
    assert full_table_scans(app, statements) == []
    explained = plans(app, statements)
    [last_view] = [plan for statement, plan in explained if "max(invoice_view.viewed_at)" in statement]
    assert "ix_invoice_view_latest" in " ".join(last_view)  # answered from the index alone

    # A cost that grows with the views shows in every measurement (the old index measured 4.7 times); a busy
    # machine disturbs one, so up to three are taken.
    ratios = []
    for _ in range(3):
        ratios.append(page_time(client, many) / page_time(client, few))
        if ratios[-1] < 1.5:
            return
    pytest.fail(f"100,000 views cost {min(ratios):.2f} times what 100 do, at best of three measurements")


def test_no_pay_link_page_reads_a_whole_table(app, client, db, business, in_business, cached_businesses):
    grow_the_business(app, business)
    invoice_id, token = issue_invoice(app, business)
    with in_business(business):
        invoice = db.session.get(Invoice, invoice_id)
        payment = Payment(invoice_id=invoice.id, customer_id=invoice.customer_id, processor="stripe",
                          processor_ref="pi_this", amount=invoice.total, currency="USD", status="succeeded",
                          captured_at=utcnow())
        db.session.add(payment)
        db.session.flush()
        payment_id = payment.id
        db.session.execute(update(Invoice).where(Invoice.id == invoice_id)
                           .values(status="paid", amount_paid=Invoice.total, paid_at=utcnow()))
        db.session.commit()
    link = f"/b/acme/pay/{token}"
    pages = [link, link, f"{link}/print", f"{link}/receipt", f"{link}/return?payment={payment_id}"]

    with statements_run(app) as statements:
        for page in pages:
            assert client.get(page).status_code == 200, page

    assert full_table_scans(app, statements) == []


def test_a_cached_invoice_body_follows_every_change_to_what_it_shows(app, client, db, business, in_business,
                                                                    cached_businesses):
    invoice_id, token = issue_invoice(app, business)
    link = f"/b/acme/pay/{token}"
    assert "Water heater flush" in client.get(link).get_data(as_text=True)

    with statements_run(app) as statements:
        client.get(link)
    assert not any("invoice_line" in statement for statement, _ in statements)  # served from the cache

    with in_business(business):
        invoice = db.session.get(Invoice, invoice_id)
        invoice.lines[0].description = "Water heater replaced"
        db.session.commit()
    assert "Water heater replaced" in client.get(link).get_data(as_text=True)

    with in_business(business):
        invoice = db.session.get(Invoice, invoice_id)
        invoice.lines.append(InvoiceLine(position=5, description="Call-out fee", quantity=Decimal(1),
                                         unit_price=5000, tax_rate_bp=0))
        db.session.commit()
    assert "Call-out fee" in client.get(link).get_data(as_text=True)

    with in_business(business):
        db.session.get(Customer, db.session.get(Invoice, invoice_id).customer_id).name = "Pat Jones-Rivera"
        db.session.commit()
    assert "Pat Jones-Rivera" in client.get(link).get_data(as_text=True)
