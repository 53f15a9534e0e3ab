"""The dashboard: money owed, money in, and what needs a look, for this business only."""

from __future__ import annotations

from datetime import timedelta

from core.models import ActivityEvent, Customer, Invoice, OutboxMessage, Payment, PluginError
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
