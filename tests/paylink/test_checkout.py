"""Pay Now: a payment for the amount due computed on the server, the hosted page, and the way back."""

import re

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import Invoice, Payment
from core.money.payments.commands import start_payment
from core.money.payments.processor import connected_processor
from core.money.payments.types import PaymentError
from core.money.payments.wording import save_card_wording
from core.testing.helpers import csrf_token_from
from core.testing.records import issue_invoice
from plugins.payments_stripe.testing import local_path, pay_now, pay_on_hosted_page


def test_pay_now_opens_the_hosted_page_for_the_amount_due_whatever_the_form_says(
        app, client, shop, stripe_api, in_business):
    invoice_id, token = issue_invoice(app, shop)

    response = pay_now(client, shop, token, {"amount": "1.00", "currency": "JPY"})

    assert response.status_code == 303
    session_id = response.headers["Location"].rsplit("/", 1)[1]
    session = stripe_api.v1.checkout.sessions.retrieve(session_id)
    assert (session.amount_total, session.currency) == (20892, "usd")
    with in_business(shop):
        payment = db.session.scalar(select(Payment))
        assert (payment.invoice_id, payment.amount, payment.currency, payment.status, payment.source) == (
            invoice_id, 20892, "USD", "pending", "pay_link")
        assert payment.checkout_ref == session_id
        assert session.metadata.to_dict() == {"suprata_business_id": str(shop.id),
                                              "suprata_invoice_id": str(invoice_id),
                                              "suprata_payment_id": str(payment.id)}
    assert session.success_url == f"http://suprata.test/b/acme/pay/{token}/return?payment={payment.id}"


def test_the_return_page_says_processing_until_stripe_confirms_then_paid(app, client, shop, in_business):
    invoice_id, token = issue_invoice(app, shop)
    hosted_url = pay_now(client, shop, token).headers["Location"]
    with in_business(shop):
        payment_id = db.session.scalar(select(Payment.id))
    return_path = f"/b/acme/pay/{token}/return?payment={payment_id}"

    # Arriving at the return address proves nothing: the customer has not paid yet.
    waiting = client.get(return_path).get_data(as_text=True)
    assert "Processing your payment" in waiting and 'http-equiv="refresh"' in waiting
    with in_business(shop):
        assert db.session.get(Invoice, invoice_id).status == "open"

    redirect = pay_on_hosted_page(hosted_url)
    assert local_path(redirect.headers["Location"]) == return_path
    done = client.get(return_path).get_data(as_text=True)

    assert "<h1 id=\"payment-status\">Paid</h1>" in done and "refresh" not in done
    with in_business(shop):
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.status, invoice.amount_paid, invoice.amount_due) == ("paid", 20892, 0)
    receipt = client.get(f"/b/acme/pay/{token}/receipt").get_data(as_text=True)
    assert "Receipt" in receipt and "$208.92" in receipt and "INV-0001" in receipt


def test_ticking_save_card_records_the_consent_with_the_payment(app, client, shop, in_business):
    _, token = issue_invoice(app, shop)

    pay_now(client, shop, token, {"save_card": "yes"}, headers={"User-Agent": "Pat's phone"})

    with in_business(shop):
        consent = db.session.scalar(select(Payment)).details["consent"]
    assert consent["text"] == save_card_wording("Acme Plumbing")
    assert (consent["ip"], consent["user_agent"]) == ("127.0.0.1", "Pat's phone")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT.*\+00:00", consent["at"])


def test_the_box_is_unticked_by_default_and_unticked_records_no_consent(app, client, shop, in_business):
    _, token = issue_invoice(app, shop)
    page = client.get(f"/b/acme/pay/{token}").get_data(as_text=True)
    assert re.search(r'<input type="checkbox" name="save_card" value="yes" id="save-card">', page)

    pay_now(client, shop, token)

    with in_business(shop):
        assert "consent" not in db.session.scalar(select(Payment)).details


def test_an_already_paid_invoice_is_refused_with_a_clear_message(app, client, shop, in_business):
    invoice_id, token = issue_invoice(app, shop)
    with in_business(shop):
        invoice = db.session.get(Invoice, invoice_id)
        invoice.amount_paid, invoice.status = invoice.total, "paid"
        db.session.commit()

    response = client.post(f"/b/acme/pay/{token}/checkout", data={
        "csrf_token": _csrf_from_a_pay_page(app, client, shop)}, follow_redirects=True)

    assert "This invoice is already paid." in response.get_data(as_text=True)
    with in_business(shop):
        assert db.session.scalar(select(Payment)) is None


def test_a_void_or_draft_invoice_cannot_start_a_payment(app, shop, in_business):
    invoice_id, _ = issue_invoice(app, shop)
    with in_business(shop):
        invoice = db.session.get(Invoice, invoice_id)
        processor = connected_processor()
        invoice.status = "void"
        with pytest.raises(PaymentError, match="was cancelled and can't be paid"):
            start_payment(invoice, processor, source="pay_link", save_card=None)
        invoice.status = "draft"
        with pytest.raises(PaymentError, match="hasn't been issued yet"):
            start_payment(invoice, processor, source="pay_link", save_card=None)


def _csrf_from_a_pay_page(app, client, shop) -> str:
    _, other_token = issue_invoice(app, shop, email="other@example.com")
    return csrf_token_from(client.get(f"/b/acme/pay/{other_token}").get_data(as_text=True))
