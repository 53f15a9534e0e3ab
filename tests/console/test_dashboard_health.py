"""The dashboard shows a business the operational figures it cares about: waiting mail and failed charges."""

from datetime import timedelta

from sqlalchemy import update

from core.models import Customer, Invoice, OutboxMessage, Payment
from core.notifications.outbox import enqueue
from core.tenancy import utcnow

INVITE = {"customer_name": "Jordan", "invite_url": "http://suprata.test/x"}


def test_the_dashboard_shows_waiting_notifications_and_recent_failed_charges(console, acme, in_business, db):
    with in_business(acme):
        for address in ("a@example.com", "b@example.com"):
            enqueue("portal_invitation", to=address, context=INVITE)
        db.session.flush()
        db.session.execute(update(OutboxMessage).values(created_at=utcnow() - timedelta(hours=3)))
        customer = Customer(name="Pat")
        invoice = Invoice(customer=customer, number="INV-9", currency="USD", status="open", total=5000)
        db.session.add(invoice)
        db.session.flush()
        for age_days in (1, 3, 45):
            db.session.add(Payment(invoice_id=invoice.id, customer_id=customer.id, processor="stripe",
                                   amount=5000, currency="USD", status="failed",
                                   created_at=utcnow() - timedelta(days=age_days)))
        db.session.commit()

    page = console.get("/b/acme/console/").get_data(as_text=True)

    waiting = page.split('id="waiting-notifications"')[1].split("</p>")[0]
    assert "Notifications waiting to be sent: <strong>2</strong>" in waiting and "the oldest since" in waiting
    assert "Failed charges in the last 30 days: <strong>2</strong>" in page


def test_a_quiet_business_sees_zeros(console):
    page = console.get("/b/acme/console/").get_data(as_text=True)
    assert "Notifications waiting to be sent: <strong>0</strong>" in page and "the oldest since" not in page
    assert "Failed charges in the last 30 days: <strong>0</strong>" in page
