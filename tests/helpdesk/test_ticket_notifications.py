"""Ticket emails are core's "Ticket submitted" and "Ticket replied" events: core's templates, sent as the
business chose on its Notifications page (the customer's email is a record and stays; its inbox may be
unticked), with the customer's own channel choices applied (tickets offer no texts), and always to the
address the ticket came from, whether or not it is on a customer record."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import Customer, CustomerEmail, CustomerPhone, OutboxMessage
from core.notifications.events import event_choice, notify_event
from core.notifications.templates import all_defaults
from core.tenancy import utcnow
from core.testing.background import run_background_work
from core.testing.helpers import sign_in_staff, submit_form
from core.testing.records import save_plugin_settings, switch_plugin
from tests.helpdesk.conftest import (
    confirm_path,
    post_form,
    public_ticket,
    send_signed_in,
    staff_post,
    tickets_of,
)
from tests.helpdesk.test_public_tickets import confirm


@pytest.fixture
def outbox(in_business, acme):
    """``outbox()``: (template, channel, recipient, customer id) of Acme's queued messages, oldest first."""

    def read() -> list[tuple[str, str, str, int | None]]:
        with in_business(acme):
            rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
            return [(row.template_key, row.channel, row.recipient, row.customer_id) for row in rows]

    return read


@pytest.fixture
def owner(app, acme):
    """A client signed in to Acme's console as its owner, who sets the Notifications page."""
    client = app.test_client()
    sign_in_staff(app, client, acme, "owner", email="owner@acme.test")
    return client


def reply_as_staff(client, ticket_id: int, text: str, status: str = "pending"):
    assert staff_post(client, ticket_id, "reply", {"message": text, "status": status}).status_code == 302


def reply_as_customer(client, ticket_id: int, text: str):
    assert post_form(client, f"/b/acme/help/tickets/{ticket_id}", {"message": text}).status_code == 302


def by_recipient(messages) -> dict:
    return {str(message["To"]): message for message in messages}


def test_a_new_ticket_and_its_replies_are_told_with_cores_templates(app, as_maria, as_support, acme, maria,
                                                                    in_business, outbox, mailbox):
    send_signed_in(as_maria, subject="Leaking tap", message="Drips all night.")
    [ticket] = tickets_of(in_business, acme)
    assert outbox() == [("ticket_submitted", "email", "maria@example.com", maria),
                        ("ticket_submitted_staff", "email", "office@acme.test", None)]
    run_background_work(app)
    sent = by_recipient(mailbox.wait_for(2))
    confirmation, inbox = sent["maria@example.com"], sent["office@acme.test"]
    assert confirmation["Subject"] == f"We received your request #{ticket.id}"
    assert f"http://suprata.test/b/acme/help/tickets/{ticket.id}" in mailbox.text_of(confirmation)
    assert inbox["Subject"] == f"New ticket #{ticket.id}: Leaking tap"
    text = mailbox.text_of(inbox)
    assert "Maria Garcia (maria@example.com) wrote:" in text and "Drips all night." in text
    assert f"http://suprata.test/b/acme/console/help/tickets/{ticket.id}" in text

    # A staff reply tells the customer only; the customer's reply tells the inbox only.
    reply_as_staff(as_support, ticket.id, "Fixed the washer.", status="resolved")
    assert outbox()[2:] == [("ticket_replied", "email", "maria@example.com", maria)]
    reply_as_customer(as_maria, ticket.id, "It drips again.")
    assert outbox()[3:] == [("ticket_replied_staff", "email", "office@acme.test", None)]
    run_background_work(app)
    sent = by_recipient(mailbox.wait_for(4)[2:])
    answer, inbox = sent["maria@example.com"], sent["office@acme.test"]
    assert answer["Subject"] == f"Re: Leaking tap (#{ticket.id})"
    text = mailbox.text_of(answer)
    assert f"Pat Support replied to your request #{ticket.id}:" in text and "Fixed the washer." in text
    assert "We think this is solved" in text and f"/b/acme/help/tickets/{ticket.id}" in text
    assert inbox["Subject"] == f"Maria Garcia replied to #{ticket.id}: Leaking tap"
    assert "It drips again." in mailbox.text_of(inbox)


def test_the_help_desk_keeps_only_its_confirmation_email():
    assert {d.key for d in all_defaults() if d.key.startswith("helpdesk_")} == {"helpdesk_ticket_confirm"}


def test_the_notifications_page_decides_whether_the_inbox_is_told(app, owner, as_maria, as_support, acme,
                                                                  maria, in_business, outbox):
    page = owner.get("/b/acme/console/notifications").get_data(as_text=True)
    row = page[page.index('id="event-ticket_replied"'):]
    row = row[:row.index("</tr>")]
    assert row.count("(always: a record)") == 1 and "Text message" not in row
    # Nothing ticked for tickets: the inbox hears nothing; the customer's email is a record and stays.
    assert submit_form(owner, "/b/acme/console/notifications", {}).status_code == 302
    with in_business(acme):
        assert event_choice("ticket_replied").customer_channels == ("email",)
        assert event_choice("ticket_submitted").business_channels == ()

    send_signed_in(as_maria)
    [ticket] = tickets_of(in_business, acme)
    reply_as_staff(as_support, ticket.id, "We'll come Thursday.")
    reply_as_customer(as_maria, ticket.id, "Thursday works.")
    assert outbox() == [("ticket_submitted", "email", "maria@example.com", maria),
                        ("ticket_replied", "email", "maria@example.com", maria)]

    # Ticking the inbox for "Ticket replied" brings the customer's next reply to it.
    submit_form(owner, "/b/acme/console/notifications", {"ticket_replied-business": ["email"]})
    reply_as_customer(as_maria, ticket.id, "Morning, please.")
    assert outbox()[2:] == [("ticket_replied_staff", "email", "office@acme.test", None)]


def test_a_customer_who_chose_texts_is_told_of_tickets_by_email_only(app, owner, as_maria, as_support, acme,
                                                                     maria, in_business, outbox):
    switch_plugin(app, acme, "sms_twilio")
    with in_business(acme):
        db.session.add(CustomerPhone(customer_id=maria, number="+12125550142", verified_at=utcnow()))
        db.session.commit()
    choose = {"appointment_reminder": ["sms"], "ticket_submitted": ["sms"], "ticket_replied": ["sms"]}
    assert post_form(as_maria, "/b/acme/texts/", choose, post_url="/b/acme/texts/channels").status_code == 302
    refused = submit_form(owner, "/b/acme/console/notifications",
                          {"ticket_replied-customer": ["email", "sms"]})
    assert refused.status_code == 400
    assert "the customer cannot be told by sms" in refused.get_data(as_text=True)

    send_signed_in(as_maria)
    [ticket] = tickets_of(in_business, acme)
    reply_as_staff(as_support, ticket.id, "We'll come Thursday.")
    assert [(key, channel) for key, channel, _, _ in outbox()] == [
        ("ticket_submitted", "email"), ("ticket_submitted_staff", "email"), ("ticket_replied", "email")]
    with in_business(acme):  # the same choice brings her texts where the catalogue offers them
        reminder = notify_event("appointment_reminder", customer=db.session.get(Customer, maria),
                                context={"customer_name": "Maria Garcia", "job_title": "Boiler check",
                                         "starts_at": "2026-07-03T13:00:00+00:00"})
        assert [(m.channel, m.recipient) for m in reminder] == [("sms", "+12125550142")]
        db.session.rollback()


def test_a_ticket_on_no_record_is_confirmed_and_answered_at_its_address(app, client, as_support, acme, maria,
                                                                        in_business, outbox, mailbox):
    save_plugin_settings(app, acme, "helpdesk", {"verify_public_tickets": "", "unverified_days": "7"})
    public_ticket(client, email="jo@example.com", subject="Boiler noise")
    public_ticket(app.test_client(), email="maria@example.com", subject="Radiator")  # unproven: no record
    jos, marias = tickets_of(in_business, acme)
    assert (jos.customer_id, marias.customer_id) == (None, None)
    reply_as_staff(as_support, jos.id, "Is it a knock or a hiss?")
    assert outbox() == [("ticket_submitted", "email", "jo@example.com", None),
                        ("ticket_submitted_staff", "email", "office@acme.test", None),
                        ("ticket_submitted", "email", "maria@example.com", None),
                        ("ticket_submitted_staff", "email", "office@acme.test", None),
                        ("ticket_replied", "email", "jo@example.com", None)]
    run_background_work(app)
    [answer] = [m for m in mailbox.wait_for(5) if str(m["Subject"]).startswith("Re: Boiler noise")]
    text = mailbox.text_of(answer)
    assert answer["To"] == "jo@example.com" and "Is it a knock or a hiss?" in text
    assert "Reply to this email" in text and "/help/tickets/" not in text  # no login to see it with


def test_a_ticket_from_another_of_the_customers_addresses_is_answered_there(client, as_support, acme, maria,
                                                                           in_business, emailed, outbox):
    with in_business(acme):
        db.session.add(CustomerEmail(customer_id=maria, email="maria.work@example.com", is_primary=False))
        db.session.commit()
    public_ticket(client, email="maria.work@example.com")
    confirm(client, confirm_path(emailed("helpdesk_ticket_confirm")[0][1]))
    [ticket] = tickets_of(in_business, acme)
    assert ticket.customer_id == maria
    reply_as_staff(as_support, ticket.id, "On our way.")
    assert [(key, to, customer) for key, _, to, customer in outbox() if key != "helpdesk_ticket_confirm"] == [
        ("ticket_submitted", "maria.work@example.com", maria),
        ("ticket_submitted_staff", "office@acme.test", None),
        ("ticket_replied", "maria.work@example.com", maria)]
