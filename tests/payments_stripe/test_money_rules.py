"""Money that cannot be applied is kept and flagged, never lost; the same payment is never applied twice."""

import threading

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import AuditEntry, Invoice, OutboxMessage, Payment
from core.money.invoicing import void_invoice
from core.money.payments.ledger import record_payment_captured
from core.testing.records import issue_invoice
from plugins.payments_stripe.testing import GOOD_CARD, deliver, local_path, pay_now, pay_on_hosted_page


def checkout(client, shop, token):
    hosted_url = pay_now(client, shop, token).headers["Location"]
    return hosted_url.rsplit("/", 1)[1], hosted_url


def charge_outside_checkout(stripe_api, shop, payment_id, *, amount, currency):
    """A PaymentIntent naming our payment but not made by our checkout (a bug, or someone in Stripe)."""
    card = stripe_api.v1.payment_methods.create(params={
        "type": "card", "card": {"number": GOOD_CARD, "exp_month": 12, "exp_year": 2034, "cvc": "123"}})
    return stripe_api.v1.payment_intents.create(params={
        "amount": amount, "currency": currency, "payment_method": card.id, "confirm": True,
        "metadata": {"suprata_business_id": str(shop.id), "suprata_payment_id": str(payment_id)}})


@pytest.mark.parametrize(("amount", "currency", "problem"), [(100, "usd", "amount_mismatch"),
                                                             (20892, "eur", "currency_mismatch")])
def test_a_capture_of_another_amount_or_currency_is_set_aside_for_staff(
        app, client, shop, stripe_api, inbox, hooks, in_business, amount, currency, problem):
    invoice_id, token = issue_invoice(app, shop)
    checkout(client, shop, token)
    with in_business(shop):
        payment_id = db.session.scalar(select(Payment.id))

    intent = charge_outside_checkout(stripe_api, shop, payment_id, amount=amount, currency=currency)
    deliver(client, shop, inbox.wait_for("payment_intent.succeeded", intent.id))

    with in_business(shop):
        invoice = db.session.get(Invoice, invoice_id)
        payment = db.session.get(Payment, payment_id)
        assert (invoice.status, invoice.amount_paid) == ("open", 0)
        assert (payment.status, payment.amount, payment.currency) == ("unapplied", amount, currency.upper())
        assert payment.details["problem"] == problem
        assert payment.details["expected"] == {"amount": 20892, "currency": "USD"}
        audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "payment.unapplied"))
        assert audit.details["problem"] == problem
        assert db.session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.template_key == "payment_receipt")) == 0
    assert hooks.named("on_payment_captured") == []
    page = client.get(f"/b/acme/pay/{token}/return?payment={payment_id}").get_data(as_text=True)
    assert "Payment received" in page and "refund" in page


def test_money_for_an_invoice_voided_meanwhile_is_set_aside_from_the_webhook(app, client, shop, inbox,
                                                                             in_business):
    invoice_id, token = issue_invoice(app, shop)
    session_id, hosted_page = checkout(client, shop, token)
    with in_business(shop):
        void_invoice(db.session.get(Invoice, invoice_id), reason="sent twice")
        db.session.commit()

    pay_on_hosted_page(hosted_page)
    deliver(client, shop, inbox.wait_for("checkout.session.completed", session_id))

    with in_business(shop):
        assert db.session.get(Invoice, invoice_id).status == "void"
        payment = db.session.scalar(select(Payment))
        assert (payment.status, payment.details["problem"]) == ("unapplied", "invoice_void")
        assert payment.details["handling"] == "refunding"


def test_the_webhook_and_the_return_page_confirming_at_once_apply_the_payment_once(
        app, client, shop, stripe_api, inbox, hooks, in_business):
    invoice_id, token = issue_invoice(app, shop)
    session_id, hosted_page = checkout(client, shop, token)
    return_path = local_path(pay_on_hosted_page(hosted_page).headers["Location"])
    intent_id = stripe_api.v1.checkout.sessions.retrieve(session_id).payment_intent
    deliveries = [inbox.wait_for("checkout.session.completed", session_id),
                  inbox.wait_for("payment_intent.succeeded", intent_id)]
    start = threading.Barrier(4)
    statuses = []

    def confirm(request):
        with app.test_client() as browser:
            start.wait()
            statuses.append(request(browser).status_code)

    requests = [lambda c: c.get(return_path), lambda c: c.get(return_path)]
    requests += [lambda c, d=d: deliver(c, shop, d) for d in deliveries]
    threads = [threading.Thread(target=confirm, args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 200, 200, 200]
    with in_business(shop):
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.status, invoice.amount_paid) == ("paid", 20892)
        assert db.session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.template_key == "payment_receipt")) == 1
        assert db.session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "payment.captured")) == 1
    assert len(hooks.named("on_payment_captured")) == 1


def test_many_simultaneous_reports_of_one_capture_apply_it_once(app, client, shop, hooks, in_business):
    invoice_id, token = issue_invoice(app, shop)
    checkout(client, shop, token)
    with in_business(shop):
        payment_id = db.session.scalar(select(Payment.id))
    start = threading.Barrier(6)
    errors = []

    def report():
        with in_business(shop):
            start.wait()
            try:
                record_payment_captured("stripe", "pi_simultaneous", amount=20892, currency="usd",
                                        payment_id=payment_id)
                db.session.commit()
            except Exception as exc:  # collected: an exception in a thread would not fail the test
                errors.append(exc)
                raise

    threads = [threading.Thread(target=report) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with in_business(shop):
        assert db.session.get(Invoice, invoice_id).amount_paid == 20892
        assert db.session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.template_key == "payment_receipt")) == 1
    assert hooks.named("on_payment_captured") == [("on_payment_captured", payment_id, invoice_id)]
