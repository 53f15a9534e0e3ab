"""Money taken outside the processor: a cheque recorded by staff partly pays the invoice, the pay link shows
what is left, the receipt says how it was paid, the audit trail and the timeline have it, and it can be
reversed with a reason."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.models import ActivityEvent, AuditEntry, Invoice, OutboxMessage, Payment
from core.notifications.outbox import deliver_due
from core.testing.helpers import csrf_token_from
from core.testing.records import issue_invoice

PAGE = "/b/acme/console/invoices/{}"
TODAY_IN_NEW_YORK = datetime.now(ZoneInfo("America/New_York")).date()  # Acme's time zone


def _post(console, invoice_id: int, path: str, **data):
    page = PAGE.format(invoice_id)
    token = csrf_token_from(console.get(page).get_data(as_text=True))
    return console.post(f"{page}/{path}", data={"csrf_token": token, **data}, follow_redirects=True)


def _cheque(console, invoice_id: int, amount: str, **fields):
    values = {"method": "cheque", "amount": amount, "received_on": TODAY_IN_NEW_YORK.isoformat(),
              "reference": "1042", "note": "Left at the office", **fields}
    return _post(console, invoice_id, "payments/record", **values).get_data(as_text=True)


def test_a_cheque_partly_pays_the_invoice_and_the_receipt_says_so(app, db, acme, console, customer_id,
                                                                   in_business, mailbox):
    invoice_id, token = issue_invoice(app, acme, customer_id=customer_id)  # $208.92
    page = _cheque(console, invoice_id, "100.00")
    assert "Recorded $100.00 (Cheque no. 1042). $108.92 is left to pay." in page

    with in_business(acme):
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.status, invoice.amount_paid, invoice.balance) == ("open", 10000, 10892)
        payment = db.session.scalar(select(Payment))
        assert (payment.processor, payment.method, payment.reference, payment.note) == (
            "offline", "cheque", "1042", "Left at the office")
        audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "payment.recorded"))
        assert (audit.actor, audit.details["paid_with"]) == ("Dana Ortiz", "Cheque no. 1042")
        event = db.session.scalar(select(ActivityEvent).where(ActivityEvent.kind == "payment.recorded"))
        assert event.summary == "Paid $100.00 for invoice INV-0001 (Cheque no. 1042)"
        receipt = db.session.scalar(select(OutboxMessage)
                                    .where(OutboxMessage.template_key == "payment_receipt"))
        assert receipt.context["paid_with"] == "Cheque no. 1042"
        deliver_due()
    receipt_mail = next(m for m in mailbox.wait_for(2) if "Receipt" in m["Subject"])
    text = mailbox.text_of(receipt_mail)
    assert "paid with Cheque no. 1042" in text and "$108.92 is left to pay" in text
    assert "- Water heater flush x 1: $125.00" in text  # the invoice's lines

    pay_link = console.get(f"/b/acme/pay/{token}").get_data(as_text=True)
    assert "Left to pay" in pay_link and 'id="due-now">$108.92<' in pay_link
    assert "$100.00 of $208.92 paid" in pay_link
    receipt_page = console.get(f"/b/acme/pay/{token}/receipt").get_data(as_text=True)
    assert "Cheque no. 1042" in receipt_page and "Water heater flush" in receipt_page


def test_paying_the_rest_in_cash_marks_it_paid_and_a_reversal_reopens_it(app, db, acme, console, customer_id,
                                                                          in_business):
    invoice_id, _ = issue_invoice(app, acme, customer_id=customer_id)
    _cheque(console, invoice_id, "100.00")
    assert "The invoice is paid." in _cheque(console, invoice_id, "108.92", method="cash", reference="")
    with in_business(acme):
        assert db.session.get(Invoice, invoice_id).status == "paid"
        cheque_id = db.session.scalar(select(Payment.id).where(Payment.method == "cheque"))

    reverse = f"payments/{cheque_id}/reverse"
    asked = console.get(f"{PAGE.format(invoice_id)}/{reverse}").get_data(as_text=True)
    assert "the invoice owes $100.00 again and is open once more" in asked
    refused = _post(console, invoice_id, reverse, reason="", confirm="y")
    assert refused.status_code == 400 and "Say why: it goes in the history." in refused.get_data(as_text=True)
    done = _post(console, invoice_id, reverse, reason="The cheque bounced", confirm="y")
    done = done.get_data(as_text=True)
    assert "The payment of $100.00 is reversed" in done

    with in_business(acme):
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.status, invoice.amount_paid, invoice.paid_at) == ("open", 10892, None)
        assert db.session.get(Payment, cheque_id).status == "reversed"
        audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "payment.reversed"))
        assert audit.details["reason"] == "The cheque bounced"
    detail = console.get(PAGE.format(invoice_id)).get_data(as_text=True)
    assert "The cheque bounced" in detail and "Payment reversed" in detail


def test_bad_payments_are_refused_with_a_message_and_nothing_is_recorded(app, db, acme, console, customer_id,
                                                                         in_business):
    invoice_id, _ = issue_invoice(app, acme, customer_id=customer_id)
    tomorrow = (TODAY_IN_NEW_YORK + timedelta(days=1)).isoformat()
    for fields, message in (
        ({"amount": "208.93"}, "That is more than the $208.92 left to pay on this invoice."),
        ({"amount": "10.001"}, "Use at most 2 decimal places."),
        ({"amount": "0"}, "Enter the amount received, above zero."),
        ({"amount": "-5"}, "Enter a number that is not negative."),
        ({"amount": "5", "received_on": tomorrow}, "The date can&#39;t be in the future."),
        ({"amount": "5", "method": "barter"}, "Not a valid choice."),
    ):
        assert message in _cheque(console, invoice_id, **fields), fields
    with in_business(acme):
        assert db.session.scalars(select(Payment)).all() == []
        assert db.session.get(Invoice, invoice_id).amount_paid == 0


def test_a_payment_recorded_by_hand_is_reversed_not_refunded(app, db, acme, console, customer_id,
                                                             in_business):
    invoice_id, _ = issue_invoice(app, acme, customer_id=customer_id)
    _cheque(console, invoice_id, "50.00")
    with in_business(acme):
        payment_id = db.session.scalar(select(Payment.id))
    assert console.get(f"{PAGE.format(invoice_id)}/payments/{payment_id}/refund").status_code == 404
    assert "Reverse the $50.00 cheque no. 1042 payment" in console.get(PAGE.format(invoice_id)).get_data(
        as_text=True)
