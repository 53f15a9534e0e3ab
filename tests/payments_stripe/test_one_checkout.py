"""One live checkout per invoice: a customer is charged once however often they press Pay Now, in however many
tabs; a page of an invoice paid or voided meanwhile takes no money; money that still arrives twice goes back
(or waits for staff, as the business chooses) and the billing inbox is told. Real stripe SDK, local server."""

import threading
from contextlib import contextmanager

from sqlalchemy import func, select, update

from core.extensions import db
from core.models import (
    AuditEntry,
    Business,
    Invoice,
    OutboxMessage,
    Payment,
    ProcessorTask,
    SavedPaymentMethod,
)
from core.money.invoicing import void_invoice
from core.money.payments.commands import charge_saved_method
from core.money.payments.task_runner import run_due_processor_tasks
from core.notifications.outbox import deliver_due
from core.tenancy import business_context, utcnow
from core.testing.helpers import create_staff, csrf_token_from, login_staff
from core.testing.postgres import free_port
from core.testing.records import create_customer, issue_invoice
from plugins.payments_stripe.testing import deliver, keep_card, local_path, pay_now, pay_on_hosted_page

AMOUNT = 20892  # the default invoice: $208.92


def session_of(hosted_url: str) -> str:
    return hosted_url.rsplit("/", 1)[1]


def worker(app) -> None:
    """What the worker's sweep does: every due processor task, until none is left."""
    with app.app_context():
        while run_due_processor_tasks():
            pass


def charged(stripe_api) -> list:
    return [charge for charge in stripe_api.v1.charges.list().data if charge.status == "succeeded"]


def test_pay_now_pressed_at_once_in_three_tabs_gives_one_page_and_charges_once(
        app, shop, stripe_api, inbox, in_business):
    invoice_id, token = issue_invoice(app, shop)
    page = f"/b/acme/pay/{token}"
    tabs = [app.test_client() for _ in range(3)]
    forms = [{"csrf_token": csrf_token_from(tab.get(page).get_data(as_text=True))} for tab in tabs]
    start = threading.Barrier(len(tabs))
    shown, errors = [], []

    def press_pay_now(tab, form):
        start.wait()
        try:
            shown.append(tab.post(f"{page}/checkout", data=form).headers.get("Location"))
        except Exception as exc:  # collected: an exception in a thread would not fail the test
            errors.append(exc)

    presses = [threading.Thread(target=press_pay_now, args=pair) for pair in zip(tabs, forms, strict=True)]
    for thread in presses:
        thread.start()
    for thread in presses:
        thread.join()

    assert errors == [] and len(shown) == 3
    assert len(set(shown)) == 1 and "/_test/checkout/cs_test_" in shown[0]
    for hosted_url in shown:  # the customer pays every page they were shown
        pay_on_hosted_page(hosted_url)
    deliver(app.test_client(), shop, inbox.wait_for("checkout.session.completed", session_of(shown[0])))

    assert [charge.amount for charge in charged(stripe_api)] == [AMOUNT]
    with in_business(shop):
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.status, invoice.amount_paid) == ("paid", AMOUNT)
        assert db.session.scalars(select(Payment.status)).all() == ["succeeded"]


def test_a_second_pay_now_after_coming_back_gives_the_same_page(app, client, shop, stripe_api, in_business):
    _, token = issue_invoice(app, shop)

    first = pay_now(client, shop, token).headers["Location"]
    again = pay_now(client, shop, token).headers["Location"]

    assert again == first
    with in_business(shop):
        assert db.session.scalars(select(Payment.checkout_ref)).all() == [session_of(first)]


def test_another_choice_about_the_card_closes_the_open_page_before_opening_one(
        app, client, shop, stripe_api, inbox, in_business):
    invoice_id, token = issue_invoice(app, shop)
    without_saving = pay_now(client, shop, token).headers["Location"]

    saving = pay_now(client, shop, token, {"save_card": "yes"}).headers["Location"]

    assert saving != without_saving
    assert stripe_api.v1.checkout.sessions.retrieve(session_of(without_saving)).status == "expired"
    assert pay_on_hosted_page(without_saving).status_code == 410  # the test server's "expired" page
    assert pay_on_hosted_page(saving).status_code == 303
    deliver(client, shop, inbox.wait_for("checkout.session.completed", session_of(saving)))
    assert [charge.amount for charge in charged(stripe_api)] == [AMOUNT]
    with in_business(shop):
        payments = db.session.scalars(select(Payment).order_by(Payment.id)).all()
        assert [(p.status, "consent" in p.details) for p in payments] == [("canceled", False),
                                                                        ("succeeded", True)]
        assert db.session.get(Invoice, invoice_id).status == "paid"


def test_voiding_closes_the_open_page_through_the_task_queue(app, client, shop, stripe_api, in_business):
    invoice_id, token = issue_invoice(app, shop)
    hosted_url = pay_now(client, shop, token).headers["Location"]
    huey = app.extensions["suprata"].queue.huey
    huey.flush()

    with in_business(shop):
        void_invoice(db.session.get(Invoice, invoice_id), reason="sent twice")
        db.session.commit()
        assert db.session.scalar(select(Payment.status)) == "expiring"
    assert huey.pending_count() == 1  # asked for at once, after the commit
    huey.execute(huey.dequeue())

    assert pay_on_hosted_page(hosted_url).status_code == 410
    assert charged(stripe_api) == []
    assert stripe_api.v1.checkout.sessions.retrieve(session_of(hosted_url)).status == "expired"
    with in_business(shop):
        assert db.session.scalar(select(Payment.status)) == "canceled"
        assert db.session.scalar(select(ProcessorTask.status)) == "done"


def invoice_of_a_customer_with_a_saved_card(app, shop, stripe_api):
    """A $99.00 invoice of a customer who saved a card earlier: (invoice id, pay token, saved card id)."""
    customer_id = create_customer(app, shop).id
    method_id = keep_card(app, shop, stripe_api, customer_id)
    invoice_id, token = issue_invoice(app, shop, customer_id=customer_id,
                                      lines=(("Annual service", "1", 9900, 0),))
    return invoice_id, token, method_id


def charge_on_the_phone(app, shop, invoice_id, method_id):
    """Staff charge the customer's saved card for the invoice, as they do when the customer calls."""
    with app.app_context(), business_context(shop.id):
        invoice, card = db.session.get(Invoice, invoice_id), db.session.get(SavedPaymentMethod, method_id)
        charge_saved_method(invoice, card)


def test_an_old_page_of_an_invoice_paid_another_way_takes_no_money(
        app, client, shop, stripe_api, in_business):
    invoice_id, token, method_id = invoice_of_a_customer_with_a_saved_card(app, shop, stripe_api)
    old_page = pay_now(client, shop, token).headers["Location"]

    charge_on_the_phone(app, shop, invoice_id, method_id)  # the customer pays by phone instead
    worker(app)

    assert pay_on_hosted_page(old_page).status_code == 410
    assert [charge.amount for charge in charged(stripe_api)] == [9900]
    with in_business(shop):
        payments = db.session.scalars(select(Payment).order_by(Payment.id)).all()
        assert [(p.source, p.status) for p in payments] == [("pay_link", "canceled"), ("staff", "succeeded")]


def test_paid_on_the_page_and_on_the_phone_at_once_the_second_payment_goes_back(
        app, client, shop, stripe_api, in_business, mailbox):
    invoice_id, token, method_id = invoice_of_a_customer_with_a_saved_card(app, shop, stripe_api)
    page = pay_now(client, shop, token).headers["Location"]
    return_path = local_path(pay_on_hosted_page(page).headers["Location"])  # Stripe's news is on its way

    charge_on_the_phone(app, shop, invoice_id, method_id)  # meanwhile
    worker(app)  # closing the page finds it paid

    assert sorted(charge.amount for charge in charged(stripe_api)) == [9900, 9900]
    refunds = stripe_api.v1.refunds.list().data
    assert [r.amount for r in refunds] == [9900]
    with in_business(shop):
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.status, invoice.amount_paid) == ("paid", 9900)
        payments = db.session.scalars(select(Payment).order_by(Payment.id)).all()
        assert [(p.source, p.status, p.amount_refunded) for p in payments] == [
            ("pay_link", "unapplied", 9900), ("staff", "succeeded", 0)]
        assert payments[0].details["problem"] == "invoice_already_paid"
        assert payments[0].processor_ref == refunds[0].payment_intent
    assert "we are refunding this payment to your card" in client.get(return_path).get_data(as_text=True)
    [email] = billing_email(app, mailbox)
    assert "arrived for an invoice that was already paid INV-0001" in mailbox.text_of(email)


def test_paid_in_one_tab_then_pay_now_in_another_says_it_is_paid(app, client, shop, stripe_api, in_business):
    invoice_id, token = issue_invoice(app, shop)
    first = pay_now(client, shop, token).headers["Location"]
    assert pay_on_hosted_page(first).status_code == 303  # Stripe's news of it has not arrived yet

    response = pay_now(client, shop, token, {"save_card": "yes"}, follow_redirects=True)

    assert "This invoice is already paid." in response.get_data(as_text=True)
    assert [charge.amount for charge in charged(stripe_api)] == [AMOUNT]
    with in_business(shop):
        assert db.session.get(Invoice, invoice_id).status == "paid"
        assert db.session.scalars(select(Payment.status)).all() == ["succeeded"]  # no second page opened


def pay_while_staff_void(app, client, shop, in_business):
    """The customer submits the card on the page at the very moment staff void the invoice: the processor wins
    the race, and the page is paid before it could be closed. Returns (invoice id, session id)."""
    invoice_id, token = issue_invoice(app, shop)
    hosted_url = pay_now(client, shop, token).headers["Location"]
    with in_business(shop):
        void_invoice(db.session.get(Invoice, invoice_id), reason="sent twice")
        db.session.commit()
    assert pay_on_hosted_page(hosted_url).status_code == 303
    return invoice_id, session_of(hosted_url)


def billing_email(app, mailbox):
    with app.app_context():
        deliver_due()
    return [m for m in mailbox.wait_for(1) if str(m["To"]) == "billing@acme.test"]


def test_money_that_arrives_anyway_is_refunded_at_once_and_the_billing_inbox_told(
        app, client, shop, stripe_api, inbox, hooks, in_business, mailbox):
    invoice_id, session_id = pay_while_staff_void(app, client, shop, in_business)

    worker(app)

    intent_id = stripe_api.v1.checkout.sessions.retrieve(session_id).payment_intent
    refunds = stripe_api.v1.refunds.list(params={"payment_intent": intent_id}).data
    assert [refund.amount for refund in refunds] == [AMOUNT]
    with in_business(shop):
        payment = db.session.scalar(select(Payment))
        assert (payment.status, payment.amount_refunded) == ("unapplied", AMOUNT)
        assert (payment.details["problem"], payment.details["handling"]) == ("invoice_void", "refunding")
        assert db.session.get(Invoice, invoice_id).status == "void"
        trail = db.session.scalars(select(AuditEntry).where(AuditEntry.action.startswith("payment."))
                                   .order_by(AuditEntry.id)).all()
        assert [(a.action, a.actor) for a in trail] == [
            ("payment.unapplied", "customer via pay link"), ("payment.refund_requested", "automatic refund"),
            ("payment.refunded", "payment processor")]
        assert trail[0].details["handling"] == "refunding"
    [email] = billing_email(app, mailbox)
    assert email["Subject"] == "Refunding: $208.92 from Pat Jones (invoice INV-0001)"
    text = mailbox.text_of(email)
    assert "A payment of $208.92 from Pat Jones arrived for a cancelled invoice INV-0001." in text
    assert "It is being refunded to the customer automatically; nothing is kept." in text

    deliver(client, shop, inbox.wait_for("checkout.session.completed", session_id))  # Stripe's late news
    worker(app)
    assert len(stripe_api.v1.refunds.list(params={"payment_intent": intent_id}).data) == 1
    assert hooks.named("on_payment_captured") == []


def hold_for_staff(app, shop):
    with app.app_context():
        db.session.execute(update(Business).where(Business.id == shop.id)
                           .values(policies={"duplicate_payments": "hold"}))
        db.session.commit()
    app.extensions["suprata"].businesses.forget(shop.id)


def test_a_business_may_hold_such_money_for_staff_instead(app, client, shop, stripe_api, in_business,
                                                         mailbox):
    hold_for_staff(app, shop)
    invoice_id, session_id = pay_while_staff_void(app, client, shop, in_business)

    worker(app)

    intent_id = stripe_api.v1.checkout.sessions.retrieve(session_id).payment_intent
    assert stripe_api.v1.refunds.list(params={"payment_intent": intent_id}).data == []
    with in_business(shop):
        payment = db.session.scalar(select(Payment))
        assert (payment.status, payment.details["handling"]) == ("unapplied", "held")
        assert payment.amount_refunded == 0
        assert db.session.scalars(select(ProcessorTask.action)).all() == ["close_checkout"]
    [email] = billing_email(app, mailbox)
    assert email["Subject"] == "To refund: $208.92 from Pat Jones (invoice INV-0001)"
    assert "It is held for you: refund it from the invoice page." in mailbox.text_of(email)
    create_staff(app, shop)
    login_staff(client, shop)
    page = client.get(f"/b/acme/console/invoices/{invoice_id}").get_data(as_text=True)
    assert "could not be applied" in page and "Refund it to the customer." in page


@contextmanager
def stripe_unreachable(app):
    """Stripe cannot be reached inside the block (an outage, a network fault)."""
    reachable = app.config["SUPRATA_STRIPE_API_BASE"]
    app.config["SUPRATA_STRIPE_API_BASE"] = f"http://127.0.0.1:{free_port()}"
    try:
        yield
    finally:
        app.config["SUPRATA_STRIPE_API_BASE"] = reachable


def make_due(app, shop):
    """The clock moved on past every task's backoff."""
    with app.app_context():
        db.session.execute(update(ProcessorTask).values(next_attempt_at=utcnow())
                           .execution_options(all_businesses=True))
        db.session.commit()


def test_an_unreachable_processor_loses_nothing_and_the_page_is_closed_once_it_answers(
        app, client, shop, stripe_api, in_business):
    invoice_id, token = issue_invoice(app, shop)
    hosted_url = pay_now(client, shop, token).headers["Location"]

    with stripe_unreachable(app):
        with in_business(shop):
            void_invoice(db.session.get(Invoice, invoice_id))
            db.session.commit()
        worker(app)

    with in_business(shop):
        assert db.session.get(Invoice, invoice_id).status == "void"  # the state change is kept
        task = db.session.scalar(select(ProcessorTask))
        assert (task.status, task.attempts) == ("pending", 1) and "Stripe" in task.last_error
        assert task.next_attempt_at > utcnow()
    make_due(app, shop)
    worker(app)

    assert pay_on_hosted_page(hosted_url).status_code == 410
    with in_business(shop):
        assert db.session.scalar(select(Payment.status)) == "canceled"


def test_no_new_page_opens_while_the_old_one_cannot_be_closed(app, client, shop, stripe_api, in_business):
    _, token = issue_invoice(app, shop)
    old_page = pay_now(client, shop, token).headers["Location"]

    with stripe_unreachable(app):
        refused = pay_now(client, shop, token, {"save_card": "yes"}, follow_redirects=True)

    assert "open the payment page. Please try again in a moment." in refused.get_data(as_text=True)
    with in_business(shop):  # the old page is being closed, and no other was opened
        assert db.session.scalars(select(Payment.status)).all() == ["expiring"]
    new_page = pay_now(client, shop, token, {"save_card": "yes"}).headers["Location"]
    assert new_page != old_page and pay_on_hosted_page(old_page).status_code == 410
    with in_business(shop):
        statuses = db.session.scalars(select(Payment.status).order_by(Payment.id)).all()
        assert statuses == ["canceled", "pending"]


def test_a_refund_that_keeps_failing_is_handed_to_staff(app, client, shop, stripe_api, inbox, in_business,
                                                       mailbox, monkeypatch):
    _, session_id = pay_while_staff_void(app, client, shop, in_business)
    deliver(client, shop, inbox.wait_for("checkout.session.completed", session_id))
    monkeypatch.setitem(app.config, "SUPRATA_TASK_MAX_ATTEMPTS", 2)

    with stripe_unreachable(app):
        for _ in range(2):
            make_due(app, shop)
            worker(app)

    with in_business(shop):
        task = db.session.scalar(select(ProcessorTask).where(ProcessorTask.action == "refund"))
        payment = db.session.scalar(select(Payment))
        assert (task.status, task.attempts) == ("failed", 2)
        assert (payment.details["handling"], payment.amount_refunded) == ("refund_failed", 0)
        assert db.session.scalar(select(AuditEntry.action).where(
            AuditEntry.action == "payment.automatic_refund_failed")) is not None
        assert db.session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.template_key == "payment_unapplied_staff")) == 2
    emails = billing_email(app, mailbox)
    assert [m["Subject"] for m in emails] == ["Refunding: $208.92 from Pat Jones (invoice INV-0001)",
                                             "To refund: $208.92 from Pat Jones (invoice INV-0001)"]
    assert "could not be refunded automatically" in mailbox.text_of(emails[1])
