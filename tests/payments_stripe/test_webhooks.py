"""Stripe's signed webhooks: verified on the raw body, acted on once, in any order, never from a replay."""

import json
import time

from sqlalchemy import func, select

from core.extensions import db
from core.models import ActivityEvent, AuditEntry, Invoice, OutboxMessage, Payment
from core.notifications.outbox import deliver_due
from core.testing.records import issue_invoice
from plugins.payments_stripe.models import StripeEvent
from plugins.payments_stripe.testing import deliver, local_path, pay_now, pay_on_hosted_page


def checkout(client, shop, token):
    """Pay Now; returns the Checkout Session's id and hosted page address."""
    hosted_url = pay_now(client, shop, token).headers["Location"]
    return hosted_url.rsplit("/", 1)[1], hosted_url


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_paid_checkout_marks_the_invoice_paid_fires_the_hook_and_emails_the_receipt(
        app, client, shop, stripe_api, inbox, hooks, mailbox, in_business):
    invoice_id, token = issue_invoice(app, shop)
    session_id, hosted_url = checkout(client, shop, token)

    assert pay_on_hosted_page(hosted_url).status_code == 303
    response = deliver(client, shop, inbox.wait_for("checkout.session.completed", session_id))

    assert (response.status_code, response.json) == (200, {"received": "done"})
    with in_business(shop):
        invoice = db.session.get(Invoice, invoice_id)
        payment = db.session.scalar(select(Payment))
        assert (invoice.status, invoice.amount_paid) == ("paid", 20892)
        intent_id = stripe_api.v1.checkout.sessions.retrieve(session_id).payment_intent
        assert (payment.status, payment.processor_ref) == ("succeeded", intent_id)
        assert hooks.named("on_payment_captured") == [("on_payment_captured", payment.id, invoice_id)]
        assert count(AuditEntry, AuditEntry.action == "payment.captured") == 1
        assert count(ActivityEvent, ActivityEvent.kind == "payment.captured") == 1
    with app.app_context():
        deliver_due()
    receipts = [m for m in mailbox.wait_for(2) if m["Subject"].startswith("Receipt")]
    assert [m["To"] for m in receipts] == ["pat@example.com"]
    text = mailbox.text_of(receipts[0])
    assert "$208.92" in text and "INV-0001" in text
    receipt_url = next(word for word in text.split() if "/receipt" in word)
    assert "is <strong>paid</strong>" in client.get(local_path(receipt_url)).get_data(as_text=True)


def test_a_duplicate_webhook_changes_nothing(app, client, shop, inbox, hooks, in_business):
    _, token = issue_invoice(app, shop)
    session_id, hosted_url = checkout(client, shop, token)
    pay_on_hosted_page(hosted_url)
    delivery = inbox.wait_for("checkout.session.completed", session_id)

    first, again = deliver(client, shop, delivery), deliver(client, shop, delivery)

    assert (first.json, again.json) == ({"received": "done"}, {"received": "duplicate"})
    with in_business(shop):
        assert count(StripeEvent, StripeEvent.event_id == delivery.event.id) == 1
        assert count(OutboxMessage, OutboxMessage.template_key == "payment_receipt") == 1
        assert db.session.scalar(select(Invoice.amount_paid)) == 20892
    assert len(hooks.named("on_payment_captured")) == 1


def test_events_in_any_order_converge_on_what_stripe_says_now(app, client, shop, stripe_api, inbox, hooks,
                                                              in_business):
    invoice_id, token = issue_invoice(app, shop)
    session_id, hosted_url = checkout(client, shop, token)
    assert pay_on_hosted_page(hosted_url, card="4000000000009995").status_code == 402
    assert pay_on_hosted_page(hosted_url).status_code == 303
    intent_id = stripe_api.v1.checkout.sessions.retrieve(session_id).payment_intent
    failed = inbox.wait_for("payment_intent.payment_failed", intent_id)
    succeeded = inbox.wait_for("payment_intent.succeeded", intent_id)
    completed = inbox.wait_for("checkout.session.completed", session_id)

    # Newest first, the stale decline last.
    outcomes = [deliver(client, shop, d).json for d in (succeeded, completed, failed)]

    assert outcomes == [{"received": "done"}] * 3
    with in_business(shop):
        payment = db.session.scalar(select(Payment))
        assert (payment.status, payment.checkout_ref, payment.processor_ref) == ("succeeded", session_id,
                                                                                 intent_id)
        assert db.session.get(Invoice, invoice_id).status == "paid"
    assert len(hooks.named("on_payment_captured")) == 1
    assert hooks.named("on_payment_failed") == []


def test_a_decline_on_the_hosted_page_is_noted_and_the_customer_can_try_again(app, client, shop, stripe_api,
                                                                               inbox, hooks, in_business):
    invoice_id, token = issue_invoice(app, shop)
    session_id, hosted_url = checkout(client, shop, token)

    declined = pay_on_hosted_page(hosted_url, card="4000000000000069")

    assert declined.status_code == 402 and "Your card has expired." in declined.text
    intent_id = stripe_api.v1.checkout.sessions.retrieve(session_id).payment_intent
    deliver(client, shop, inbox.wait_for("payment_intent.payment_failed", intent_id))
    with in_business(shop):
        payment = db.session.scalar(select(Payment))
        assert payment.status == "pending"
        assert payment.details["last_decline"]["code"] == "expired_card"
        summaries = db.session.scalars(select(ActivityEvent.summary).where(
            ActivityEvent.kind == "payment.declined")).all()
        assert summaries == ["Payment of $208.92 for invoice INV-0001 declined (expired card)"]
    assert hooks.named("on_payment_failed") == []  # not final: the hosted page is still open

    pay_on_hosted_page(hosted_url)
    deliver(client, shop, inbox.wait_for("checkout.session.completed", session_id))
    with in_business(shop):
        assert db.session.get(Invoice, invoice_id).status == "paid"


def test_an_event_older_than_the_tolerance_is_refused(app, client, shop, inbox, in_business, monkeypatch):
    monkeypatch.setitem(app.config, "SUPRATA_STRIPE_WEBHOOK_TOLERANCE", 1)
    invoice_id, token = issue_invoice(app, shop)
    session_id, hosted_url = checkout(client, shop, token)
    pay_on_hosted_page(hosted_url)
    delivery = inbox.wait_for("checkout.session.completed", session_id)

    time.sleep(max(0.0, delivery.event.created + 2 - time.time()))
    response = deliver(client, shop, delivery)

    assert response.status_code == 400
    with in_business(shop):
        assert db.session.get(Invoice, invoice_id).status == "open"
        assert count(StripeEvent) == 0


def test_a_tampered_body_or_signature_is_refused(app, client, shop, inbox, in_business):
    invoice_id, token = issue_invoice(app, shop)
    session_id, hosted_url = checkout(client, shop, token)
    pay_on_hosted_page(hosted_url)
    delivery = inbox.wait_for("checkout.session.completed", session_id)
    event = json.loads(delivery.body)
    event["id"] = "evt_forged"
    timestamp, digest = delivery.signature.split(",")
    forged_digest = digest[:-1] + ("0" if digest[-1] != "0" else "1")

    responses = [
        deliver(client, shop, delivery, body=json.dumps(event).encode()),
        deliver(client, shop, delivery, signature=f"{timestamp},{forged_digest}"),
        deliver(client, shop, delivery, signature=""),
    ]

    assert [r.status_code for r in responses] == [400, 400, 400]
    with in_business(shop):
        assert db.session.get(Invoice, invoice_id).status == "open"
        assert count(StripeEvent) == 0


def test_the_webhook_answers_404_for_a_business_without_the_plugin(app, client, shop, make_business, inbox):
    other = make_business("bobs", plugins=[])
    _, token = issue_invoice(app, shop)
    session_id, hosted_url = checkout(client, shop, token)
    pay_on_hosted_page(hosted_url)

    response = deliver(client, other, inbox.wait_for("checkout.session.completed", session_id))

    assert response.status_code == 404


def test_another_business_cannot_act_on_our_payments_with_its_own_secret(app, client, shop, make_business,
                                                                         inbox, in_business):
    from plugins.payments_stripe.testing import connect_stripe

    other = make_business("bobs", plugins=["payments_stripe"])
    connect_stripe(app, other)  # the same test secret, as if both used one Stripe account
    invoice_id, token = issue_invoice(app, shop)
    session_id, hosted_url = checkout(client, shop, token)
    pay_on_hosted_page(hosted_url)

    response = deliver(client, other, inbox.wait_for("checkout.session.completed", session_id))

    assert response.status_code == 200
    with in_business(shop):
        assert db.session.get(Invoice, invoice_id).status == "open"


def test_an_expired_checkout_cancels_its_payment(app, client, shop, stripe_api, inbox, in_business):
    invoice_id, token = issue_invoice(app, shop)
    session_id, _ = checkout(client, shop, token)

    stripe_api.v1.checkout.sessions.expire(session_id)
    deliver(client, shop, inbox.wait_for("checkout.session.expired", session_id))

    with in_business(shop):
        assert db.session.scalar(select(Payment.status)) == "canceled"
        assert db.session.get(Invoice, invoice_id).status == "open"
    assert "Pay $208.92 now" in client.get(f"/b/acme/pay/{token}").get_data(as_text=True)
