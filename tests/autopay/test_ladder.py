"""The retry ladder, walked with a controlled clock: retries on the business's days, none after a final
decline, the invoice on the past-due list meanwhile, reminders on the same schedule as any unpaid invoice."""

from datetime import timedelta

from sqlalchemy import select

from core.extensions import db
from core.models import AutopayAttempt, Business, Invoice
from core.money.follow_up import past_due
from core.money.invoicing import issue_pay_link
from core.tenancy import business_context, utcnow
from plugins.payments_stripe.testing import deliver, pay_now, pay_on_hosted_page
from tests.autopay.support import issue_subscription, payments_of, run_worker


def attempts(app, shop):
    with app.app_context(), business_context(shop.id):
        return [(a.number, a.status, a.outcome, a.decline_code) for a in db.session.scalars(
            select(AutopayAttempt).order_by(AutopayAttempt.number))]


def test_a_declined_invoice_is_retried_on_the_ladder_then_left_to_follow_up(
        app, shop, enrolled, stripe_server, mailbox):
    with app.app_context():
        business = db.session.get(Business, shop.id)
        business.policies = {**business.policies, "autopay_retry_days": [1, 3, 7]}
        db.session.commit()
    stripe_server.change_card(enrolled.card_ref, behaves_as="4000000000009995")
    invoice_id = issue_subscription(app, shop, enrolled.customer_id)
    start = utcnow()

    assert run_worker(app, start) == 1
    assert attempts(app, shop) == [(1, "done", "declined", "insufficient_funds"), (2, "pending", None, None)]
    # Not before its day.
    assert run_worker(app, start + timedelta(hours=23)) == 0
    for number, day in ((2, 1), (3, 3), (4, 7)):
        assert run_worker(app, start + timedelta(days=day, minutes=1)) == 1
        assert attempts(app, shop)[number - 1][:3] == (number, "done", "declined")
    # The ladder is done: nothing more is planned, the invoice waits for the customer.
    assert len(attempts(app, shop)) == 4
    assert run_worker(app, start + timedelta(days=30)) == 0
    assert [p.status for p in payments_of(app, shop, invoice_id)] == ["failed"] * 4
    assert len(mailbox.to("billing@acme.test")) == 4
    customer_notices = [m for m in mailbox.to("pat@example.com") if "did not go through" in m["Subject"]]
    assert len(customer_notices) == 4
    assert "try your card again" not in mailbox.text_of(customer_notices[-1])
    with app.app_context(), business_context(shop.id):
        [row] = past_due(start.date())
        assert (row.invoice.id, row.autopay_declined, row.decline_code) == (invoice_id, True,
                                                                           "insufficient_funds")


def test_the_card_works_again_on_a_retry_and_the_invoice_is_paid(app, shop, enrolled, stripe_server):
    stripe_server.change_card(enrolled.card_ref, behaves_as="4000000000000002")
    invoice_id = issue_subscription(app, shop, enrolled.customer_id)
    start = utcnow()
    run_worker(app, start)

    stripe_server.change_card(enrolled.card_ref, behaves_as="4242424242424242")
    run_worker(app, start + timedelta(days=1, minutes=1))

    assert attempts(app, shop) == [(1, "done", "declined", "generic_decline"), (2, "done", "succeeded", None)]
    with app.app_context(), business_context(shop.id):
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.status, invoice.autopay_state) == ("paid", "paid")
        assert past_due(start.date() + timedelta(days=30)) == []


def test_a_final_decline_is_never_retried(app, shop, enrolled, stripe_server):
    stripe_server.change_card(enrolled.card_ref, behaves_as="4000000000009979")  # stolen
    issue_subscription(app, shop, enrolled.customer_id)
    start = utcnow()

    run_worker(app, start)
    for day in (1, 3, 7, 30):
        assert run_worker(app, start + timedelta(days=day, minutes=1)) == 0
    assert attempts(app, shop) == [(1, "done", "declined", "stolen_card")]


def test_an_invoice_paid_by_link_meanwhile_is_not_charged_again(app, client, shop, enrolled, stripe_server,
                                                                 inbox):
    stripe_server.change_card(enrolled.card_ref, behaves_as="4000000000000002")
    invoice_id = issue_subscription(app, shop, enrolled.customer_id)
    start = utcnow()
    run_worker(app, start)
    with app.app_context(), business_context(shop.id):
        token = issue_pay_link(db.session.get(Invoice, invoice_id))
        db.session.commit()
    hosted = pay_now(client, shop, token).headers["Location"]
    pay_on_hosted_page(hosted)
    deliver(client, shop, inbox.wait_for("checkout.session.completed", hosted.rsplit("/", 1)[1]))

    stripe_server.change_card(enrolled.card_ref, behaves_as="4242424242424242")
    assert run_worker(app, start + timedelta(days=1, minutes=1)) == 1

    assert attempts(app, shop)[-1][:3] == (2, "done", "skipped")
    assert [p.source for p in payments_of(app, shop, invoice_id) if p.status == "succeeded"] == ["pay_link"]
