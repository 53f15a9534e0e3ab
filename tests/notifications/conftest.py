"""Notification test helpers: an empty queue per test, queuing mail, SMTP servers that fail, more apps."""

import pytest
from aiosmtpd.controller import Controller

from core import create_app
from core.extensions import db as database
from core.models import OutboxMessage
from core.notifications.outbox import enqueue
from core.testing.fixtures import base_test_config
from core.testing.postgres import free_port


@pytest.fixture(autouse=True)
def empty_queue(app):
    app.extensions["suprata"].queue.huey.flush()
    yield
    app.extensions["suprata"].queue.huey.flush()


@pytest.fixture
def invite(db):
    """``invite(to)`` queues a portal invitation in the current business and commits; returns the row's id."""

    def queue(to: str = "jordan@example.com", name: str = "Jordan Rivera", **fields) -> int:
        context = {"customer_name": name, "invite_url": "http://suprata.test/invite/x"}
        message = enqueue("portal_invitation", to=to, context=context, **fields)
        db.session.commit()
        return message.id

    return queue


@pytest.fixture
def outbox_row(app, db):
    """``outbox_row(business, id)``: the message as stored now (read in a fresh session)."""

    def read(business, message_id: int) -> OutboxMessage:
        from core.tenancy import business_context

        with app.app_context(), business_context(business.id):
            message = db.session.get(OutboxMessage, message_id)
            db.session.expunge(message)
            return message

    return read


class _RefuseRecipients:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd API
        return "550 5.1.1 No such user here"


@pytest.fixture(scope="session")
def refusing_smtp():
    """A real SMTP server that refuses every recipient for good (5xx); yields its port."""
    port = free_port()
    controller = Controller(_RefuseRecipients(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


@pytest.fixture
def closed_port():
    """A port nothing listens on: an SMTP server that is down."""
    return free_port()


@pytest.fixture
def other_app(database_url, tmp_path, mailbox):
    """``other_app(queue_url, plugins=[...])``: another app instance on the same database."""
    apps = []

    def make(queue_url: str = "memory", plugins=()):
        config = base_test_config(database_url, tmp_path, mailbox.port)
        application = create_app({**config, "SUPRATA_QUEUE_URL": queue_url}, plugins=list(plugins))
        apps.append(application)
        return application

    yield make
    for application in apps:
        with application.app_context():
            database.engine.dispose()
