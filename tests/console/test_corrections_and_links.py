"""A sent, unpaid invoice is corrected (history, the corrected email with the link the customer has, payment
pages for the old amount closed) or duplicated; pay links are copied, made fresh and revoked after a
confirmation."""

from __future__ import annotations

import re

from sqlalchemy import select, text

from core.identity.tokens import hash_token
from core.models import AuditEntry, Invoice, OutboxMessage, PayLink, Payment, ProcessorTask
from core.testing.helpers import csrf_token_from, submit_form
from core.testing.records import issue_invoice

PAGE = "/b/acme/console/invoices/{}"
LINK = re.compile(r'id="pay-link-url" value="http://suprata\.test/b/acme/pay/([A-Za-z0-9_\-]+)"')


def _correction(invoice_id: int, price: str, **fields) -> dict:
    return {"kind": "one_off", "lines-0-description": "Water heater flush", "lines-0-quantity": "1",
            "lines-0-unit_price": price, "lines-0-tax": "", **fields}


def _open_checkout(db, invoice_id: int) -> int:
    """A payment page the customer opened for the invoice's amount (as Pay Now leaves one)."""
    invoice = db.session.get(Invoice, invoice_id)
    payment = Payment(invoice_id=invoice.id, customer_id=invoice.customer_id, processor="stripe",
                      amount=invoice.amount_due, currency="USD", status="pending", source="pay_link",
                      checkout_ref="cs_test_old", checkout_url="https://checkout.example/cs_test_old")
    db.session.add(payment)
    db.session.commit()
    return payment.id


def test_a_correction_is_emailed_with_the_same_link_and_closes_old_checkouts(app, db, acme, console,
                                                                             customer_id, in_business):
    invoice_id, token = issue_invoice(app, acme, customer_id=customer_id)
    with in_business(acme):
        checkout_id = _open_checkout(db, invoice_id)
    edit = f"{PAGE.format(invoice_id)}/edit"
    form = console.get(edit).get_data(as_text=True)
    assert "Correct invoice INV-0001" in form and "Email the corrected invoice to the customer" in form

    response = submit_form(console, edit, _correction(invoice_id, "150.00", notify="y"),
                           follow_redirects=True)
    assert "is corrected and on its way to jordan@example.com with the same pay link" in response.get_data(
        as_text=True)
    with in_business(acme):
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.status, invoice.total) == ("open", 15000)
        message = db.session.scalar(select(OutboxMessage)
                                    .where(OutboxMessage.template_key == "invoice_corrected"))
        assert message.context["pay_url"].endswith(f"/pay/{token}")  # the link the customer already has
        assert (message.context["total"], message.context["previous_total"]) == (15000, 20892)
        assert db.session.get(Payment, checkout_id).status == "expiring"  # closed at the processor next
        task = db.session.scalar(select(ProcessorTask).where(ProcessorTask.payment_id == checkout_id))
        assert task.action == "close_checkout"
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "invoice.corrected"))
        assert entry.details["total"] == "$208.92 → $150.00" and entry.details["customer_told"] == "yes"
    detail = console.get(PAGE.format(invoice_id)).get_data(as_text=True)
    assert "Sent invoice corrected" in detail and "$208.92 → $150.00" in detail
    assert "$150.00" in console.get(f"/b/acme/pay/{token}").get_data(as_text=True)


def test_a_correction_can_go_unannounced_and_a_paid_invoice_cannot_be_corrected(app, db, acme, console,
                                                                                 customer_id, in_business,
                                                                                 pay_invoice):
    invoice_id, _ = issue_invoice(app, acme, customer_id=customer_id)
    edit = f"{PAGE.format(invoice_id)}/edit"
    submit_form(console, edit, _correction(invoice_id, "99.00"))  # the box unticked
    with in_business(acme):
        assert db.session.get(Invoice, invoice_id).total == 9900
        keys = db.session.scalars(select(OutboxMessage.template_key)).all()
        assert "invoice_corrected" not in keys
    pay_invoice(acme, invoice_id)
    refused = console.get(edit, follow_redirects=True).get_data(as_text=True)
    assert "This invoice can&#39;t be changed" in refused


def test_duplicate_makes_a_new_draft_from_any_invoice(app, db, acme, console, customer_id, in_business):
    invoice_id, _ = issue_invoice(app, acme, customer_id=customer_id)
    page = PAGE.format(invoice_id)
    token = csrf_token_from(console.get(page).get_data(as_text=True))
    response = console.post(f"{page}/duplicate", data={"csrf_token": token})
    copy_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with in_business(acme):
        copy, source = db.session.get(Invoice, copy_id), db.session.get(Invoice, invoice_id)
        assert (copy.status, copy.number, copy.total, copy.issue_date) == ("draft", "INV-0002", 20892, None)
        assert [line.description for line in copy.lines] == [line.description for line in source.lines]
        assert db.session.scalars(select(PayLink).where(PayLink.invoice_id == copy_id)).all() == []


def test_every_open_invoice_has_a_link_to_copy_and_a_fresh_one_when_none_is_live(app, db, acme, console,
                                                                                customer_id, in_business):
    invoice_id, token = issue_invoice(app, acme, customer_id=customer_id)
    page = PAGE.format(invoice_id)
    html = console.get(page).get_data(as_text=True)
    assert LINK.search(html).group(1) == token and "Copy link</button>" in html

    revoke = f"{page}/links/revoke"
    asked = console.get(revoke).get_data(as_text=True)
    assert "A customer who opens one sees" in asked and "This link is not valid" in asked
    unconfirmed = console.post(revoke, data={"csrf_token": csrf_token_from(asked)})
    assert unconfirmed.status_code == 400 and console.get(f"/b/acme/pay/{token}").status_code == 200
    console.post(revoke, data={"csrf_token": csrf_token_from(asked), "confirm": "y"})
    assert console.get(f"/b/acme/pay/{token}").status_code == 404
    html = console.get(page).get_data(as_text=True)
    assert LINK.search(html) is None and "Make a new link to copy" in html

    console.post(f"{page}/links/share", data={"csrf_token": csrf_token_from(html)})
    fresh = LINK.search(console.get(page).get_data(as_text=True)).group(1)
    assert fresh != token and console.get(f"/b/acme/pay/{fresh}").status_code == 200
    with in_business(acme):
        link = db.session.scalar(select(PayLink).where(PayLink.token_hash == hash_token(fresh)))
        assert link.token_sealed == fresh
        stored = db.session.execute(text("SELECT token_sealed FROM pay_link WHERE id = :id"),
                                    {"id": link.id}).scalar()
        assert fresh not in stored  # sealed at rest
