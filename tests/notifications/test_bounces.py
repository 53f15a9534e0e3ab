"""A delivery report (RFC 3464) about one of our emails marks it bounced, once, and shows on the customer's
record; a report about anything else, or naming another recipient, changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from core.models import ActivityEvent, OutboxMessage
from core.tenancy import business_context
from core.testing.background import run_background_work
from core.testing.helpers import run_cli, sign_in_staff
from core.testing.records import issue_invoice


def report(message_id: str, recipient: str = "pat@example.com") -> str:
    return f"""From: MAILER-DAEMON@mx.example.com
To: no-reply@acme.test
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

Your message could not be delivered.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User unknown

--b1
Content-Type: text/rfc822-headers

Message-ID: {message_id}
Subject: Invoice INV-0001 from Acme

--b1--
"""


def sent_invoice(app, db, make_business, mailbox):
    acme = make_business("acme")
    issue_invoice(app, acme)
    run_background_work(app)
    mailbox.wait_for(1)
    with app.app_context(), business_context(acme.id):
        message = db.session.scalar(select(OutboxMessage))
        return acme, message.id, message.provider_ref


def test_a_bounce_marks_the_message_and_the_customer_record(app, client, db, make_business, mailbox):
    acme, message_id, message_ref = sent_invoice(app, db, make_business, mailbox)
    result = run_cli(app, "suprata", "ingest-bounce", input=report(message_ref))
    assert result.exit_code == 0
    assert f"message {message_id} to pat@example.com bounced (5.1.1)" in result.output
    assert "Recorded" in run_cli(app, "suprata", "ingest-bounce", input=report(message_ref)).output
    with app.app_context(), business_context(acme.id):
        message = db.session.get(OutboxMessage, message_id)
        assert message.status == "bounced"
        assert message.last_error == ("Bounced (5.1.1): 550 5.1.1 <pat@example.com>: Recipient address "
                                      "rejected: User unknown")
        events = db.session.scalars(select(ActivityEvent).where(ActivityEvent.kind == "notification.bounced"))
        assert len(events.all()) == 1  # once, however often reported
        customer_id = message.customer_id
    sign_in_staff(app, client, acme, role="support")
    page = client.get(f"/b/acme/console/customers/{customer_id}").get_data(as_text=True)
    assert "badge-bounced" in page and "Email to pat@example.com bounced" in page


def test_a_report_naming_another_recipient_or_no_message_of_ours_changes_nothing(app, db, make_business,
                                                                                 mailbox):
    acme, message_id, message_ref = sent_invoice(app, db, make_business, mailbox)
    for text in (report(message_ref, recipient="someone@else.test"), report("<abc@elsewhere.test>"),
                 "Subject: hello\n\nnot a report\n"):
        assert "nothing recorded" in run_cli(app, "suprata", "ingest-bounce", input=text).output
    with app.app_context(), business_context(acme.id):
        assert db.session.get(OutboxMessage, message_id).status == "sent"
