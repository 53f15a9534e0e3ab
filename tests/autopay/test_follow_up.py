"""Follow-up: reminders before and after the due date that stop once the invoice is paid, expiring autopay
cards told once, a card detached at Stripe taken off autopay with the customer told, texts where possible."""

from datetime import date, timedelta

import pluggy
from sqlalchemy import select

from core.extensions import db
from core.models import (
    Customer,
    CustomerPhone,
    Invoice,
    InvoiceReminder,
    OutboxMessage,
    Payment,
    SavedPaymentMethod,
)
from core.money.follow_up import follow_up, send_due_reminders
from core.money.payments.ledger import record_payment_captured
from core.notifications.channels import Channel
from core.tenancy import business_context, utcnow
from core.testing.records import issue_invoice, switch_plugin
from plugins.payments_stripe.testing import deliver
from tests.autopay.support import issue_subscription, run_worker


def reminders(app, shop, invoice_id):
    with app.app_context(), business_context(shop.id):
        return db.session.scalars(select(InvoiceReminder.day).where(InvoiceReminder.invoice_id == invoice_id)
                                  .order_by(InvoiceReminder.day)).all()


def remind_on(app, shop, day: date) -> int:
    with app.app_context(), business_context(shop.id):
        sent = send_due_reminders(day)
        db.session.commit()
        return sent


def test_reminders_go_out_before_and_after_the_due_date_once_each_and_stop_when_paid(app, shop, mailbox):
    invoice_id, _ = issue_invoice(app, shop)
    due = date(2027, 3, 15)
    with app.app_context(), business_context(shop.id):
        db.session.get(Invoice, invoice_id).due_date = due
        db.session.commit()

    assert remind_on(app, shop, due - timedelta(days=4)) == 0
    assert remind_on(app, shop, due - timedelta(days=3)) == 1
    assert remind_on(app, shop, due - timedelta(days=2)) == 0  # once each
    assert remind_on(app, shop, due + timedelta(days=1)) == 1
    # A worker that was down for a week sends the latest step only, not a burst.
    assert remind_on(app, shop, due + timedelta(days=20)) == 1
    assert reminders(app, shop, invoice_id) == [-3, 1, 14]
    run_worker(app)
    subjects = [m["Subject"] for m in mailbox.to("pat@example.com")]
    assert subjects.count("Invoice INV-0001 is due on Mar 15, 2027") == 1
    assert subjects.count("Reminder: invoice INV-0001 is unpaid") == 2


def test_a_payment_holds_back_a_reminder_still_in_the_outbox_and_stops_the_next(app, shop):
    invoice_id, _ = issue_invoice(app, shop)
    with app.app_context(), business_context(shop.id):
        invoice = db.session.get(Invoice, invoice_id)
        invoice.due_date = date(2027, 3, 15)
        db.session.commit()
    remind_on(app, shop, date(2027, 3, 16))
    with app.app_context(), business_context(shop.id):
        invoice = db.session.get(Invoice, invoice_id)
        payment = Payment(invoice_id=invoice.id, customer_id=invoice.customer_id, processor="stripe",
                          amount=invoice.amount_due, currency="USD", source="pay_link")
        db.session.add(payment)
        db.session.flush()
        record_payment_captured("stripe", "pi_paid", amount=invoice.amount_due, currency="USD",
                                payment_id=payment.id)
        db.session.commit()
        reminder = db.session.scalar(select(OutboxMessage)
                                     .where(OutboxMessage.template_key == "invoice_reminder"))
        assert reminder.status == "skipped"
        assert reminder.last_error == "The invoice was paid before this reminder went out."
    assert remind_on(app, shop, date(2027, 4, 30)) == 0


class RecordingTexts(Channel):
    """A text-message channel that keeps what it is asked to send, as the SMS plugin's would send it."""

    name = "sms"

    def __init__(self):
        self.sent = []

    def deliver(self, delivery, rendered):
        self.sent.append((delivery.recipient, rendered.text))
        return f"SM{delivery.message_id}"


hookimpl = pluggy.HookimplMarker("suprata")


class TextsPlugin:
    """Offers a text-message channel, as the SMS plugin does once it is on."""

    def __init__(self, channel):
        self.channel = channel

    @hookimpl
    def notification_channels(self):
        return self.channel


def test_a_failed_autopay_is_texted_to_a_verified_number_when_a_text_channel_is_on(
        app, shop, enrolled, stripe_server, register_plugin):
    texts = RecordingTexts()
    register_plugin(TextsPlugin(texts), "texts")
    switch_plugin(app, shop, "texts")
    with app.app_context(), business_context(shop.id):
        customer = db.session.get(Customer, enrolled.customer_id)
        customer.phones.append(CustomerPhone(number="+15550100123", verified_at=utcnow()))
        db.session.commit()
    stripe_server.change_card(enrolled.card_ref, behaves_as="4000000000000002")

    issue_subscription(app, shop, enrolled.customer_id)
    run_worker(app)

    [(number, text)] = texts.sent
    assert number == "+15550100123"
    assert ("we could not collect $49.00 for invoice INV-0002 (the card was declined). "
            "Pay: http://suprata.test/b/acme/pay/") in text


def test_an_expiring_autopay_card_is_told_once_with_the_update_link_and_listed(app, shop, enrolled, mailbox):
    with app.app_context(), business_context(shop.id):
        method = db.session.get(SavedPaymentMethod, enrolled.method_id)
        method.exp_month, method.exp_year = 4, 2027
        db.session.commit()

    with app.app_context(), business_context(shop.id):
        assert follow_up(utcnow().replace(year=2027, month=2, day=20)) == (0, 0)  # 30 days ahead: not yet
        assert follow_up(utcnow().replace(year=2027, month=4, day=2))[1] == 1
        assert follow_up(utcnow().replace(year=2027, month=4, day=3))[1] == 0
        db.session.commit()
    run_worker(app)
    [notice] = [m for m in mailbox.to("pat@example.com") if "expires on" in m["Subject"]]
    assert notice["Subject"] == "Your Visa ending 4242 expires on Apr 30, 2027"


def test_a_card_detached_at_stripe_is_taken_off_autopay_and_the_customer_told(
        app, client, shop, enrolled, stripe_api, inbox, mailbox):
    stripe_api.v1.payment_methods.detach(enrolled.card_ref)
    deliver(client, shop, inbox.wait_for("payment_method.detached", enrolled.card_ref))

    with app.app_context(), business_context(shop.id):
        customer = db.session.get(Customer, enrolled.customer_id)
        method = db.session.get(SavedPaymentMethod, enrolled.method_id)
        assert (customer.autopay_enabled, method.used_for_autopay, method.detached_at is not None) == (
            False, False, True)
    run_worker(app)
    [notice] = [m for m in mailbox.to("pat@example.com") if "Autopay is off" in m["Subject"]]
    assert "can no longer charge it" in mailbox.text_of(notice)
    invoice_id = issue_subscription(app, shop, enrolled.customer_id)
    assert run_worker(app) == 0
    with app.app_context(), business_context(shop.id):
        assert db.session.get(Invoice, invoice_id).autopay_state is None
