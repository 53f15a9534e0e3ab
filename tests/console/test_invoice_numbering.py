"""Invoice numbers never collide: concurrent creations take turns on the business's counter."""

import threading

from sqlalchemy import select

from core.models import Invoice
from core.money.invoicing import next_invoice_number
from core.tenancy import business_context
from core.testing.helpers import csrf_token_from, login_staff

CONCURRENT = 8


def test_eight_invoices_created_at_once_all_succeed_with_distinct_numbers(app, db, acme, staff, customer_id,
                                                                        password):
    form_url = f"/b/acme/console/invoices/new?customer={customer_id}"
    clients, tokens = [], []
    for _ in range(CONCURRENT):
        client = app.test_client()
        assert login_staff(client, acme, email=staff.email, password=password).status_code == 302
        tokens.append(csrf_token_from(client.get(form_url).get_data(as_text=True)))
        clients.append(client)
    start = threading.Barrier(CONCURRENT)
    statuses = [None] * CONCURRENT

    def create(n: int) -> None:
        start.wait()
        response = clients[n].post(form_url, data={
            "csrf_token": tokens[n], "kind": "one_off", "lines-0-description": f"Visit {n}",
            "lines-0-quantity": "1", "lines-0-unit_price": "100", "lines-0-tax_rate": "0"})
        statuses[n] = response.status_code

    threads = [threading.Thread(target=create, args=(n,)) for n in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [302] * CONCURRENT
    with app.app_context(), business_context(acme.id):
        numbers = db.session.scalars(select(Invoice.number).order_by(Invoice.number)).all()
    assert numbers == [f"INV-{n:04d}" for n in range(1, CONCURRENT + 1)]


def test_numbering_skips_a_number_already_taken(app, db, acme, in_business, customer_id):
    with in_business(acme):
        db.session.add(Invoice(customer_id=customer_id, number="INV-0001", currency="USD"))
        db.session.commit()
        assert next_invoice_number("INV-") == "INV-0002"
        db.session.commit()
        assert next_invoice_number("INV-") == "INV-0003"
        db.session.rollback()  # an abandoned creation gives its number back
        assert next_invoice_number("INV-") == "INV-0003"
