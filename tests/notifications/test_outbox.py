"""The durable outbox against a real SMTP server: same-transaction writes, retries, failures, claims."""

import threading
from datetime import timedelta
from email.utils import parseaddr

import pytest
from sqlalchemy import select, text, update

from core.models import ActivityEvent, Customer, OutboxMessage
from core.notifications import outbox
from core.notifications.outbox import OutboxStateError, deliver_due, deliver_one, enqueue, retry
from core.notifications.templates import UnknownTemplate
from core.plugin_api import Channel, hookimpl
from core.plugins.settings import set_enabled
from core.tenancy import business_context, utcnow

INVITE_CONTEXT = {"customer_name": "Jordan Rivera", "invite_url": "http://suprata.test/invite/x"}


def change_row(app, db, business, message_id, **values):
    """Change a stored message behind the worker's back (a clock that moved on, a worker that died)."""
    with app.app_context(), business_context(business.id):
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))
        db.session.commit()


def sweep(app) -> int:
    with app.app_context():
        return deliver_due()


def test_a_rolled_back_event_leaves_no_message_and_sends_nothing(app, db, business, in_business, mailbox):
    with in_business(business):
        enqueue("portal_invitation", to="jordan@example.com", context=INVITE_CONTEXT)
        db.session.rollback()
        assert db.session.scalars(select(OutboxMessage)).all() == []
    assert app.extensions["suprata"].queue.huey.pending_count() == 0
    assert sweep(app) == 0
    assert mailbox.messages == []


def test_a_committed_message_is_queued_and_the_task_delivers_it(app, business, in_business, invite, mailbox,
                                                                  outbox_row):
    with in_business(business):
        message_id = invite("jordan@example.com")
    assert outbox_row(business, message_id).status == "pending"

    huey = app.extensions["suprata"].queue.huey
    assert huey.pending_count() == 1
    huey.execute(huey.dequeue())

    [email] = mailbox.wait_for(1)
    assert email["To"] == "jordan@example.com"
    assert email["Subject"] == "Create your Acme Plumbing account"
    assert "http://suprata.test/invite/x" in mailbox.text_of(email)
    assert 'href="http://suprata.test/invite/x"' in mailbox.html_of(email)
    row = outbox_row(business, message_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 0, None)
    assert row.sent_at is not None and row.provider_ref == email["Message-ID"]
    assert row.subject == "Create your Acme Plumbing account"
    assert (row.context, row.body_text) == ({}, None)  # the link lives on only in the email


def test_an_unknown_template_key_is_refused_at_once(business, in_business):
    with in_business(business), pytest.raises(UnknownTemplate):
        enqueue("no_such_template", to="jordan@example.com")


def test_each_business_mails_from_its_own_address(app, make_business, in_business, invite, mailbox):
    acme = make_business("acme", name="Acme Plumbing", mail_from="billing@acme.test",
                         reply_to="help@acme.test")
    bolt = make_business("bolt", name="Bolt, Électricité & Co")
    for business in (acme, bolt):
        with in_business(business):
            invite(f"customer@{business.slug}.example")

    assert sweep(app) == 2

    by_recipient = {str(m["To"]): m for m in mailbox.wait_for(2)}
    acme_mail, bolt_mail = by_recipient["customer@acme.example"], by_recipient["customer@bolt.example"]
    [acme_from] = acme_mail["From"].addresses
    assert (acme_from.display_name, acme_from.addr_spec) == ("Acme Plumbing", "billing@acme.test")
    assert acme_mail["Reply-To"] == "help@acme.test"
    [bolt_from] = bolt_mail["From"].addresses
    default_sender = parseaddr(app.config["MAIL_DEFAULT_SENDER"])[1]
    assert (bolt_from.display_name, bolt_from.addr_spec) == ("Bolt, Électricité & Co", default_sender)
    assert bolt_mail["Reply-To"] == "office@bolt.test"


def test_mail_waits_in_the_outbox_while_smtp_is_down(app, db, business, in_business, invite, mailbox,
                                                      outbox_row, closed_port, monkeypatch):
    with in_business(business):
        message_id = invite()
    monkeypatch.setitem(app.config, "MAIL_PORT", closed_port)
    before = utcnow()

    assert sweep(app) == 1

    row = outbox_row(business, message_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "unreachable" in row.last_error
    assert row.next_attempt_at >= before + timedelta(seconds=60)  # 30 s * 2 ** 1
    assert sweep(app) == 0  # backing off
    assert mailbox.messages == []

    monkeypatch.undo()  # the mail server is back, and the wait is over:
    change_row(app, db, business, message_id, next_attempt_at=utcnow() - timedelta(seconds=1))
    assert sweep(app) == 1

    assert len(mailbox.wait_for(1)) == 1
    row = outbox_row(business, message_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)


def test_backoff_doubles_up_to_its_cap(app, db, business, in_business, invite, outbox_row, closed_port,
                                      monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_PORT", closed_port)
    monkeypatch.setitem(app.config, "SUPRATA_OUTBOX_RETRY_SECONDS", 10)
    monkeypatch.setitem(app.config, "SUPRATA_OUTBOX_RETRY_MAX_SECONDS", 50)
    with in_business(business):
        message_id = invite()
    waits = []
    for _ in range(3):
        change_row(app, db, business, message_id, next_attempt_at=utcnow())
        assert sweep(app) == 1
        row = outbox_row(business, message_id)
        waits.append(round((row.next_attempt_at - utcnow()).total_seconds()))
    assert waits == [20, 40, 50]


def test_a_message_that_keeps_failing_ends_failed_and_staff_can_retry_it(
        app, db, business, in_business, invite, mailbox, outbox_row, closed_port, monkeypatch):
    with in_business(business):
        customer = Customer(name="Jordan Rivera")
        db.session.add(customer)
        db.session.commit()
        customer_id = customer.id
        message_id = invite(customer_id=customer_id)
    monkeypatch.setitem(app.config, "MAIL_PORT", closed_port)
    monkeypatch.setitem(app.config, "SUPRATA_OUTBOX_MAX_ATTEMPTS", 2)
    monkeypatch.setitem(app.config, "SUPRATA_OUTBOX_RETRY_SECONDS", 0)

    assert sweep(app) == 1
    assert sweep(app) == 1
    assert sweep(app) == 0  # failed messages are kept, not retried by the sweep

    row = outbox_row(business, message_id)
    assert (row.status, row.attempts) == ("failed", 2)
    assert "unreachable" in row.last_error
    with in_business(business):
        [event] = db.session.scalars(select(ActivityEvent).where(ActivityEvent.customer_id == customer_id))
        assert event.kind == "notification.failed"
        assert "jordan@example.com" in event.summary

    monkeypatch.undo()
    huey = app.extensions["suprata"].queue.huey
    huey.flush()
    with in_business(business):
        retry(message_id)
        db.session.commit()
    assert huey.pending_count() == 1
    huey.execute(huey.dequeue())

    assert len(mailbox.wait_for(1)) == 1
    assert outbox_row(business, message_id).status == "sent"
    with in_business(business), pytest.raises(OutboxStateError):
        retry(message_id)


def test_retry_does_not_reach_another_business_message(db, make_business, in_business, invite):
    acme, bolt = make_business("acme"), make_business("bolt")
    with in_business(acme):
        message_id = invite()
    with in_business(bolt):
        assert retry(message_id) is None


def test_a_recipient_refused_for_good_fails_at_once(app, business, in_business, invite, outbox_row,
                                                    refusing_smtp, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_PORT", refusing_smtp)
    with in_business(business):
        message_id = invite("nobody@example.com")

    assert sweep(app) == 1

    row = outbox_row(business, message_id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "550" in row.last_error


def test_a_message_left_sending_by_a_crashed_worker_is_delivered_once(app, db, business, in_business, invite,
                                                                       mailbox, outbox_row):
    with in_business(business):
        message_id = invite()
    change_row(app, db, business, message_id, status="sending", lease_until=utcnow() + timedelta(minutes=5))
    assert sweep(app) == 0  # a live worker holds it

    change_row(app, db, business, message_id, lease_until=utcnow() - timedelta(seconds=1))  # that worker died
    assert sweep(app) == 1
    assert sweep(app) == 0
    with app.app_context():
        assert deliver_one(message_id) is False

    assert len(mailbox.wait_for(1)) == 1
    assert outbox_row(business, message_id).status == "sent"
    assert len(mailbox.messages) == 1


def test_a_copy_sent_again_after_a_crash_between_smtp_and_commit_keeps_its_message_id(
        app, db, business, in_business, invite, mailbox, outbox_row, monkeypatch):
    with in_business(business):
        message_id = invite()

    def crash_after_sending(message):
        real_attempt(message)
        raise KeyboardInterrupt("worker killed after the SMTP server accepted, before the commit")

    real_attempt = outbox._attempt
    monkeypatch.setattr(outbox, "_attempt", crash_after_sending)
    with pytest.raises(KeyboardInterrupt), app.app_context():
        deliver_due()
    monkeypatch.undo()
    assert outbox_row(business, message_id).status == "sending"  # nothing of the attempt was committed

    change_row(app, db, business, message_id, lease_until=utcnow() - timedelta(seconds=1))
    assert sweep(app) == 1

    first, second = mailbox.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Message-ID"].startswith(f"<outbox-{business.id}-{message_id}@")
    assert outbox_row(business, message_id).status == "sent"


def test_a_waiting_message_keeps_its_links_sealed_at_rest(app, db, business, in_business, invite, mailbox,
                                                          outbox_row, closed_port, monkeypatch):
    link = "http://suprata.test/invite/live-token-3b7f0e"
    with in_business(business):
        message_id = invite(name="Jordan Rivera")
        change_row(app, db, business, message_id, context={**INVITE_CONTEXT, "invite_url": link})
    monkeypatch.setitem(app.config, "MAIL_PORT", closed_port)
    assert sweep(app) == 1  # rendered, then SMTP was down: the message waits with its text

    with app.app_context(), db.engine.connect() as connection:
        stored = connection.execute(
            text("SELECT context, body_text FROM outbox_message WHERE id = :id"), {"id": message_id}).one()
    assert all(value.startswith("enc:") and "live-token" not in value and "Jordan" not in value
               for value in stored)
    waiting = outbox_row(business, message_id)
    assert waiting.status == "pending" and waiting.context["invite_url"] == link and link in waiting.body_text

    monkeypatch.undo()
    change_row(app, db, business, message_id, next_attempt_at=utcnow())
    assert sweep(app) == 1
    assert link in mailbox.text_of(mailbox.wait_for(1)[0])


def test_concurrent_sweeps_deliver_each_message_once(app, db, business, in_business, invite, mailbox):
    recipients = [f"customer{i}@example.com" for i in range(12)]
    with in_business(business):
        for to in recipients:
            invite(to)
    start = threading.Barrier(3)
    counts, errors = [], []

    def worker(deliver):
        with app.app_context():
            start.wait()
            try:
                counts.append(deliver())
            except Exception as exc:
                errors.append(exc)

    with in_business(business):
        ids = db.session.scalars(select(OutboxMessage.id)).all()
    threads = [threading.Thread(target=worker, args=(deliver_due,)) for _ in range(2)]
    # the immediate task for one message races the sweeps too
    threads.append(threading.Thread(target=worker, args=(lambda: int(deliver_one(ids[0])),)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(counts) == len(recipients)
    received = sorted(str(m["To"]) for m in mailbox.wait_for(len(recipients)))
    assert received == sorted(recipients)


class PagerChannel(Channel):
    name = "pager"

    def __init__(self):
        self.sent = []

    def deliver(self, message, rendered):
        self.sent.append((message.recipient, rendered.text))
        return f"page-{len(self.sent)}"


class PagerPlugin:
    """A plugin contributing a delivery channel."""

    def __init__(self):
        self.channel = PagerChannel()

    @hookimpl
    def notification_channels(self):
        return self.channel


def test_a_plugin_channel_is_used_only_where_the_plugin_is_on(
        app, db, make_business, in_business, register_plugin, mailbox, outbox_row):
    plugin = register_plugin(PagerPlugin(), "pager")
    acme, bolt = make_business("acme", plugins=["pager"]), make_business("bolt")
    ids = {}
    for business in (acme, bolt):
        with in_business(business):
            ids[business.slug] = enqueue("portal_invitation", to=f"+1555{business.id:07d}", channel="pager",
                                         context=INVITE_CONTEXT).id
            db.session.commit()

    assert sweep(app) == 2

    [(recipient, text)] = plugin.channel.sent
    assert recipient == f"+1555{acme.id:07d}" and INVITE_CONTEXT["invite_url"] in text
    assert outbox_row(acme, ids["acme"]).provider_ref == "page-1"
    waiting = outbox_row(bolt, ids["bolt"])
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert "No 'pager' channel" in waiting.last_error
    assert mailbox.messages == []  # never silently rerouted to email

    with in_business(bolt):
        set_enabled("pager", True)
        db.session.commit()
    change_row(app, db, bolt, ids["bolt"], next_attempt_at=utcnow())
    assert sweep(app) == 1
    assert outbox_row(bolt, ids["bolt"]).status == "sent"
