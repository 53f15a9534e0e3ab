"""The dashboard: money owed, money in, and what needs a look, for this business only."""

from __future__ import annotations

import re
from datetime import date, timedelta

from core.models import ActivityEvent, Customer, Invoice, OutboxMessage, Payment, PluginError, Refund
from core.tenancy import business_context, utcnow


def _add_activity(app, db, business, name: str, *, open_total: int) -> None:
    with app.app_context(), business_context(business.id):
        customer = Customer(name=name)
        db.session.add(customer)
        db.session.flush()
        open_invoice = Invoice(
            customer_id=customer.id,
            number=f"{name}-1",
            currency="USD",
            status="open",
            total=open_total,
            amount_paid=1000,
        )
        paid_invoice = Invoice(
            customer_id=customer.id,
            number=f"{name}-2",
            currency="USD",
            status="paid",
            total=5000,
            amount_paid=5000,
        )
        db.session.add_all(
            [
                open_invoice,
                paid_invoice,
                Invoice(
                    customer_id=customer.id, number=f"{name}-3", currency="USD", status="draft", total=777
                ),
            ]
        )
        db.session.flush()
        db.session.add_all(
            [
                Payment(
                    invoice_id=paid_invoice.id,
                    customer_id=customer.id,
                    processor="stripe",
                    amount=5000,
                    currency="USD",
                    status="succeeded",
                    captured_at=utcnow(),
                ),
                ActivityEvent(
                    customer_id=customer.id,
                    surface="pay_link",
                    kind="payment.captured",
                    summary=f"{name} paid {name}-2",
                ),
                OutboxMessage(
                    channel="email", template_key="invoice_sent", recipient="x@example.com", status="failed"
                ),
                PluginError(plugin_name="portal", hook="render_portal_tab", error="boom"),
                PluginError(
                    plugin_name="portal",
                    hook="render_portal_tab",
                    error="old",
                    created_at=utcnow() - timedelta(days=3),
                ),
            ]
        )
        db.session.commit()


def test_the_dashboard_sums_up_this_business_only(app, db, acme, console, make_business):
    _add_activity(app, db, acme, "Ann", open_total=25000)
    _add_activity(app, db, make_business("bolt"), "Bea", open_total=99900)

    page = console.get("/b/acme/console/").get_data(as_text=True)

    assert '<p class="figure"><strong>$240.00</strong></p>' in page  # outstanding: 250.00 less 10.00 paid
    assert "Failed notifications: <strong>1</strong>" in page
    assert "Plugin errors in the last 24 hours: <strong>1</strong>" in page
    assert "Ann-2" in page and "$50.00" in page
    assert "Ann paid Ann-2" in page
    assert "Bea" not in page


def test_the_dashboard_of_a_new_business_is_empty_not_broken(console):
    page = console.get("/b/acme/console/").get_data(as_text=True)
    assert '<p class="figure"><strong>$0.00</strong></p>' in page
    assert "No payments yet." in page


def test_collected_this_month_outstanding_by_age_and_overdue(app, db, acme, console, customer_id,
                                                            in_business):
    today = date.today()
    with in_business(acme):
        for number, days_overdue, total in (("A-1", -5, 10000), ("A-2", 10, 20000), ("A-3", 45, 30000),
                                            ("A-4", 75, 40000), ("A-5", 120, 50000)):
            db.session.add(Invoice(customer_id=customer_id, number=number, currency="USD", status="open",
                                   total=total, issue_date=today - timedelta(days=days_overdue + 30),
                                   due_date=today - timedelta(days=days_overdue)))
        paid = Invoice(customer_id=customer_id, number="A-6", currency="USD", status="paid", total=7000,
                       amount_paid=7000)
        db.session.add(paid)
        db.session.flush()
        payment = Payment(invoice_id=paid.id, customer_id=customer_id, processor="offline", method="cash",
                          amount=7000, currency="USD", status="succeeded", captured_at=utcnow())
        db.session.add(payment)
        db.session.flush()
        db.session.add(Refund(payment_id=payment.id, amount=500, status="succeeded"))
        db.session.commit()
    page = console.get("/b/acme/console/").get_data(as_text=True)
    assert '<section class="card" id="collected">' in page and "<strong>$70.00</strong>" in page
    assert "$5.00 refunded this month" in page
    assert 'id="overdue-count">4<' in page
    row = r'<tr><td>([^<]+)</td><td class="num">(\d+)</td><td class="num">([^<]+)</td></tr>'
    rows = re.findall(row, page)
    assert rows == [("Not yet due", "1", "$100.00"), ("1–30 days", "1", "$200.00"),
                    ("31–60 days", "1", "$300.00"), ("61–90 days", "1", "$400.00"),
                    ("Over 90 days", "1", "$500.00")]
    assert "Cash" in page  # recent payments say how they were paid
