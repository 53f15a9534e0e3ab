"""A message the SMTP server accepted is not sent again because the database hiccuped on the commit after."""

from datetime import timedelta

from sqlalchemy import create_engine, event, text, update
from sqlalchemy.exc import OperationalError

from core.models import OutboxMessage
from core.notifications import outbox
from core.notifications.outbox import deliver_due, deliver_one
from core.tenancy import business_context, utcnow


def fail_the_commit_after_the_send(engine, mailbox):
    """From the first commit after the SMTP server accepted a message: on PostgreSQL the server ends the
    worker's connection (what a restart or failover does), on SQLite the commit raises the driver's error.
    Returns the list of commits that failed."""
    failed = []

    def on_commit(connection):
        if failed or not mailbox.messages:
            return
        failed.append(connection)
        if engine.dialect.name == "postgresql":
            pid = connection.connection.dbapi_connection.info.backend_pid
            admin = create_engine(engine.url, isolation_level="AUTOCOMMIT")
            with admin.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            admin.dispose()
        else:
            raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    event.listen(engine, "commit", on_commit)
    return failed, lambda: event.remove(engine, "commit", on_commit)


def test_an_accepted_message_whose_commit_fails_is_recorded_once_and_never_resent(
        app, db, business, in_business, invite, mailbox, outbox_row, monkeypatch):
    monkeypatch.setattr(outbox, "RECORD_RETRY_FIRST_SECONDS", 0.05)
    with in_business(business):
        message_id = invite("jordan@example.com")
    with app.app_context():
        engine = db.engine
    failed, stop = fail_the_commit_after_the_send(engine, mailbox)
    try:
        with app.app_context():
            assert deliver_one(message_id)
    finally:
        stop()

    assert len(failed) == 1  # the commit after the send did fail
    row = outbox_row(business, message_id)
    assert row.status == "sent" and row.lease_until is None and row.context == {}
    # Even once its claim would have run out, nobody sends it again.
    with app.app_context(), business_context(business.id):
        db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    with app.app_context():
        assert deliver_due() == 0
    assert [str(m["To"]) for m in mailbox.messages] == ["jordan@example.com"]
