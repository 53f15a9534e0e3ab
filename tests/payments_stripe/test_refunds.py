"""Refunds from the invoice page, full and partial, through Stripe, in the audit trail; Stripe's own too."""

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import AuditEntry, Invoice, OutboxMessage, Payment, Refund
from core.notifications.outbox import deliver_due
from core.testing.helpers import create_staff, csrf_token_from, login_staff
from core.testing.records import issue_invoice
from plugins.payments_stripe.testing import deliver, pay_now, pay_on_hosted_page


@pytest.fixture
def paid(app, client, shop, stripe_api, inbox, in_business):
    """A paid invoice: (invoice id, payment id, PaymentIntent id)."""
    invoice_id, token = issue_invoice(app, shop)
    hosted_url = pay_now(client, shop, token).headers["Location"]
    session_id = hosted_url.rsplit("/", 1)[1]
    pay_on_hosted_page(hosted_url)
    deliver(client, shop, inbox.wait_for("checkout.session.completed", session_id))
    with in_business(shop):
        payment = db.session.scalar(select(Payment))
        assert payment.status == "succeeded"
        return invoice_id, payment.id, payment.processor_ref


@pytest.fixture
def staff(app, client, shop):
    create_staff(app, shop)
    assert login_staff(client, shop).status_code == 302
    return client


def refund(staff, invoice_id, payment_id, amount=""):
    """Refund from the invoice page: the amount typed, reviewed, then confirmed; returns the last page."""
    page = staff.get(f"/b/acme/console/invoices/{invoice_id}").get_data(as_text=True)
    assert f"/payments/{payment_id}/refund" in page
    url = f"/b/acme/console/invoices/{invoice_id}/payments/{payment_id}/refund"
    fields = {"csrf_token": csrf_token_from(page), "amount": amount, "reason": "goodwill"}
    review = staff.post(url, data=fields)
    if review.status_code != 200:
        return review.get_data(as_text=True)
    assert "to Visa ending 4242?</h1>" in review.get_data(as_text=True)  # how much, and to which card
    return staff.post(url, data={**fields, "confirmed": "yes"}, follow_redirects=True).get_data(as_text=True)


def test_a_partial_then_a_full_refund_go_through_stripe_once_each(app, client, shop, stripe_api, inbox, paid,
                                                                  staff, in_business):
    invoice_id, payment_id, intent_id = paid

    assert "Refunded $50.00 to Visa ending 4242." in refund(staff, invoice_id, payment_id, "50.00")
    assert "Refunded $158.92 to Visa ending 4242." in refund(staff, invoice_id, payment_id)

    at_stripe = stripe_api.v1.refunds.list(params={"payment_intent": intent_id}).data
    assert sorted(r.amount for r in at_stripe) == [5000, 15892]
    charge_id = stripe_api.v1.charges.list().data[0].id
    deliver(client, shop, inbox.wait_for("charge.refunded", charge_id))  # Stripe's news of the same refunds
    with in_business(shop):
        payment = db.session.get(Payment, payment_id)
        refunds = db.session.scalars(select(Refund).order_by(Refund.id)).all()
        assert payment.amount_refunded == 20892
        assert [(r.amount, r.status, r.reason) for r in refunds] == [(5000, "succeeded", "goodwill"),
                                                                    (15892, "succeeded", "goodwill")]
        assert {r.processor_ref for r in refunds} == {r.id for r in at_stripe}
        audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("payment.refund%"))).all()
        assert [(a.action, a.actor, a.details["amount"]) for a in audit] == [
            ("payment.refund_requested", "Dana Ortiz", 5000), ("payment.refunded", "Dana Ortiz", 5000),
            ("payment.refund_requested", "Dana Ortiz", 15892), ("payment.refunded", "Dana Ortiz", 15892)]


def test_more_than_what_is_left_cannot_be_refunded(app, shop, stripe_api, paid, staff, in_business):
    invoice_id, payment_id, intent_id = paid

    assert "You can refund at most $208.92." in refund(staff, invoice_id, payment_id, "208.93")
    assert "Enter a number, like 125.50." in refund(staff, invoice_id, payment_id, "lots")

    assert stripe_api.v1.refunds.list(params={"payment_intent": intent_id}).data == []
    with in_business(shop):
        assert db.session.scalar(select(Refund)) is None


@pytest.mark.parametrize("amount", ["0.00", "0"])
def test_a_refund_of_nothing_is_refused_and_refunds_nothing(app, shop, stripe_api, paid, staff, in_business,
                                                            amount):
    invoice_id, payment_id, intent_id = paid

    page = refund(staff, invoice_id, payment_id, amount)

    assert "Enter an amount above zero to refund, or leave it blank to refund everything left." in page
    assert stripe_api.v1.refunds.list(params={"payment_intent": intent_id}).data == []
    with in_business(shop):
        assert db.session.scalar(select(Refund)) is None
        assert db.session.get(Payment, payment_id).amount_refunded == 0


def test_a_refund_made_in_stripe_itself_is_recorded_from_its_webhook(
        app, client, shop, stripe_api, inbox, paid, in_business):
    _, payment_id, intent_id = paid

    stripe_api.v1.refunds.create(params={"payment_intent": intent_id, "amount": 1000})
    charge_id = stripe_api.v1.charges.list().data[0].id
    delivery = inbox.wait_for("charge.refunded", charge_id)
    deliver(client, shop, delivery)
    deliver(client, shop, delivery)

    with in_business(shop):
        assert db.session.get(Payment, payment_id).amount_refunded == 1000
        refund_row = db.session.scalar(select(Refund))
        assert (refund_row.amount, refund_row.reason) == (1000, "Refunded at the processor")


def test_staff_see_where_a_payment_came_from_in_words(app, shop, paid, staff, in_business):
    invoice_id, payment_id, _ = paid
    with in_business(shop):
        customer_id = db.session.get(Payment, payment_id).customer_id
    for page in (f"/b/acme/console/invoices/{invoice_id}", f"/b/acme/console/customers/{customer_id}"):
        assert "Pay link · Stripe" in staff.get(page).get_data(as_text=True)


def test_a_partial_refund_is_confirmed_emailed_and_shown_as_paid_refunded_and_net(
        app, client, shop, stripe_api, inbox, paid, staff, in_business, mailbox):
    invoice_id, payment_id, intent_id = paid
    url = f"/b/acme/console/invoices/{invoice_id}/payments/{payment_id}/refund"
    page = staff.get(f"/b/acme/console/invoices/{invoice_id}").get_data(as_text=True)
    review = staff.post(url, data={"csrf_token": csrf_token_from(page), "amount": "50.00",
                                   "reason": "goodwill"})
    asked = review.get_data(as_text=True)
    assert "Refund $50.00 to Visa ending 4242?" in asked and "$158.92 of the payment stays paid" in asked
    assert stripe_api.v1.refunds.list(params={"payment_intent": intent_id}).data == []  # nothing yet

    assert "Refunded $50.00 to Visa ending 4242." in refund(staff, invoice_id, payment_id, "50.00")
    with in_business(shop):
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.amount_refunded, invoice.net_paid) == (5000, 15892)
        message = db.session.scalar(select(OutboxMessage)
                                    .where(OutboxMessage.template_key == "refund_receipt"))
        assert (message.context["refunded_to"], message.context["net_paid"]) == ("Visa ending 4242", 15892)
        receipt_url = message.context["receipt_url"].removeprefix("http://suprata.test")
        deliver_due()
    email = next(m for m in mailbox.wait_for(3) if str(m["Subject"]).startswith("Refund of $50.00"))
    text = mailbox.text_of(email)
    assert "We refunded $50.00 of your $208.92 payment for invoice INV-0001" in text
    assert "to Visa ending 4242" in text and "You have paid $158.92 for this invoice, net of refunds." in text

    for shown in (client.get(receipt_url).get_data(as_text=True),
                  client.get(receipt_url.removesuffix("/receipt")).get_data(as_text=True),
                  staff.get(f"/b/acme/console/invoices/{invoice_id}").get_data(as_text=True)):
        assert "<span>Paid</span><span>$208.92</span>" in shown
        assert "<span>Refunded</span><span>−$50.00</span>" in shown
        assert '<span id="net-paid">$158.92</span>' in shown
