"""Autopay charges through the real Stripe SDK against the local Stripe server: paid, declined, confirm."""

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import AuditEntry, AutopayAttempt, Invoice, OutboxMessage
from core.tenancy import business_context
from tests.autopay.support import issue_subscription, mail, payments_of, run_worker


def test_an_autopay_invoice_is_charged_when_issued_and_the_receipt_goes_out(
        app, shop, enrolled, stripe_api, hooks, mailbox):
    invoice_id = issue_subscription(app, shop, enrolled.customer_id)

    assert run_worker(app) == 1

    [payment] = payments_of(app, shop, invoice_id)
    assert (payment.status, payment.source, payment.saved_method_id, payment.amount) == (
        "succeeded", "autopay", enrolled.method_id, 4900)
    assert payment.idempotency_key == f"suprata-{shop.id}-autopay-{invoice_id}-1"
    intent = stripe_api.v1.payment_intents.retrieve(payment.processor_ref)
    assert (intent.status, intent.payment_method, intent.amount) == ("succeeded", enrolled.card_ref, 4900)
    with app.app_context(), business_context(shop.id):
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.status, invoice.autopay_state) == ("paid", "paid")
        attempt = db.session.scalar(select(AutopayAttempt))
        assert (attempt.number, attempt.status, attempt.outcome) == (1, "done", "succeeded")
    assert [name for name, *_ in hooks.named("on_payment_captured")] == ["on_payment_captured"]
    assert mail(mailbox, "pat@example.com", "Receipt for invoice")


def test_other_kinds_go_to_the_customer_to_pay(app, shop, enrolled):
    invoice_id = issue_subscription(app, shop, enrolled.customer_id, kind="one_off")

    assert run_worker(app) == 0
    assert payments_of(app, shop, invoice_id) == []
    with app.app_context(), business_context(shop.id):
        assert db.session.get(Invoice, invoice_id).autopay_state is None


@pytest.mark.parametrize(("card", "code", "words", "retried"), [
    ("4000000000000002", "generic_decline", "the card was declined", True),
    ("4000000000009995", "insufficient_funds", "the card has insufficient funds", True),
    ("4000000000000069", "expired_card", "the card has expired", False),
    ("4000000000009987", "lost_card", "the card was reported lost", False),
])
def test_a_declined_charge_leaves_the_invoice_unpaid_marked_and_tells_customer_and_billing(
        app, shop, enrolled, stripe_server, hooks, mailbox, card, code, words, retried):
    stripe_server.change_card(enrolled.card_ref, behaves_as=card)
    invoice_id = issue_subscription(app, shop, enrolled.customer_id)

    run_worker(app)

    [payment] = payments_of(app, shop, invoice_id)
    assert (payment.status, payment.failure_code) == ("failed", code)
    with app.app_context(), business_context(shop.id):
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.status, invoice.autopay_state) == ("open", "failed")
        attempts = db.session.scalars(select(AutopayAttempt).order_by(AutopayAttempt.number)).all()
        assert [(a.number, a.status, a.outcome) for a in attempts] == (
            [(1, "done", "declined"), (2, "pending", None)] if retried else [(1, "done", "declined")])
        notices = {m.template_key: m for m in db.session.scalars(select(OutboxMessage))}
    assert hooks.named("on_payment_failed") == [("on_payment_failed", payment.id, code)]
    text = mailbox.text_of(mail(mailbox, "pat@example.com", "did not go through"))
    assert words in text and "/pay/" in text
    assert ("We will try your card again on" in text) == retried
    staff_mail = mail(mailbox, "billing@acme.test", "failed")
    staff_text = mailbox.text_of(staff_mail)
    assert staff_mail["Subject"].startswith("Autopay failed: invoice")
    assert "Pat Jones" in staff_text and "$49.00" in staff_text and words in staff_text
    assert notices["payment_failed_staff"].status == "sent"


def test_authentication_required_sends_the_customer_a_link_to_complete_it_and_is_not_retried(
        app, client, shop, enrolled, stripe_server, inbox, mailbox):
    stripe_server.change_card(enrolled.card_ref, behaves_as="4000002760003184")
    invoice_id = issue_subscription(app, shop, enrolled.customer_id)

    run_worker(app)

    with app.app_context(), business_context(shop.id):
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.status, invoice.autopay_state) == ("open", "action_required")
        attempts = db.session.scalars(select(AutopayAttempt)).all()
        assert [(a.outcome, a.decline_code) for a in attempts] == [
            ("action_required", "authentication_required")]
    text = mailbox.text_of(mail(mailbox, "pat@example.com", "did not go through"))
    assert "your bank wants you to confirm the payment yourself" in text
    pay_path = "/" + next(line for line in text.splitlines() if "/pay/" in line).split("/", 3)[3]
    assert "Pay $49.00 now" in client.get(pay_path).get_data(as_text=True)
    assert run_worker(app) == 0  # nothing left to retry


def test_autopay_is_audited(app, shop, enrolled):
    issue_subscription(app, shop, enrolled.customer_id)
    run_worker(app)
    with app.app_context(), business_context(shop.id):
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "autopay")).all()
    assert actions == ["autopay.charge", "payment.captured"]
