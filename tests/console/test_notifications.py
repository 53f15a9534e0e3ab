"""Message templates in the business's words (preview, save, reset) and the outbox's stuck messages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.models import Customer, Invoice, InvoiceLine, NotificationTemplate, OutboxMessage
from core.money.invoicing import send_invoice
from core.notifications import templates
from core.notifications.outbox import deliver_due
from core.plugin_api import hookimpl, register_template
from core.tenancy import business_context
from core.testing.helpers import csrf_token_from, submit_form
from core.testing.records import switch_plugin

TEMPLATES = "/b/acme/console/settings/notifications"
EDIT = f"{TEMPLATES}/invoice_sent"


def _rows(app, db, business) -> list[NotificationTemplate]:
    with app.app_context(), business_context(business.id):
        rows = db.session.scalars(select(NotificationTemplate)).all()
        db.session.expunge_all()
        return rows


def test_every_template_is_listed(console):
    page = console.get(TEMPLATES).get_data(as_text=True)
    assert "invoice_sent" in page and "staff_password_changed" in page


def test_the_editor_starts_from_the_default_wording(console):
    page = console.get(EDIT).get_data(as_text=True)
    assert "Invoice {{ invoice_number }} from {{ business.name }}" in page
    assert "{{ pay_url }}" in page


def test_preview_renders_the_draft_with_sample_values_and_saves_nothing(app, db, acme, console):
    response = submit_form(
        console,
        EDIT,
        {
            "subject": "Your bill {{ invoice_number }}",
            "text": "Hi **{{ customer_name }}**, pay here: {{ pay_url }}",
            "preview": "Preview",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Your bill INV-0042" in page
    assert "Hi Jordan Rivera, pay here: https://pay.example.com/i/sample-link" in page  # the text copy
    assert "sandbox srcdoc=" in page and "&lt;strong&gt;Jordan Rivera&lt;/strong&gt;" in page  # the HTML copy
    assert _rows(app, db, acme) == []


def test_one_edited_body_changes_both_the_text_and_the_html_copy(app, db, acme, console, customer_id,
                                                                 mailbox):
    """Editing "in my own voice" used to change only the plain text while the HTML kept the stock words."""
    body = ("Hi {{ customer_name }}! Your **{{ business.name }}** bill is ready.\n\n"
            "[Pay it here]({{ pay_url }})")
    assert submit_form(console, EDIT, {"subject": "", "text": body, "save": "Save"}).status_code == 302
    with app.app_context(), business_context(acme.id):
        invoice = Invoice(customer=db.session.get(Customer, customer_id), number="INV-0009", currency="USD",
                          lines=[InvoiceLine(description="Visit", quantity=1, unit_price=5000)])
        db.session.add(invoice)
        db.session.flush()
        send_invoice(invoice)
        db.session.commit()
        deliver_due()
    [email] = mailbox.wait_for(1)
    text, html = mailbox.text_of(email).replace("\r\n", "\n"), mailbox.html_of(email)
    assert text.startswith("Hi Jordan Rivera! Your Acme Plumbing bill is ready.\n\nPay it here: http://")
    assert "Hi Jordan Rivera! Your <strong>Acme Plumbing</strong> bill is ready." in html
    assert ">Pay it here</a>" in html
    assert "has sent you invoice" not in text + html  # nothing of the stock wording is left


def test_preview_of_a_broken_draft_says_what_fails(console):
    response = submit_form(
        console, EDIT, {"text": "Hi {{ customer_name | nosuchfilter }}", "preview": "Preview"}
    )
    assert "This draft would fail" in response.get_data(as_text=True)


def test_saving_and_resetting_a_template(app, db, acme, console):
    response = submit_form(console, EDIT, {"subject": "", "text": "Pay {{ pay_url }}", "save": "Save"})
    assert response.status_code == 302
    [row] = _rows(app, db, acme)
    assert (row.key, row.subject, row.body_text) == ("invoice_sent", None, "Pay {{ pay_url }}")
    assert "yours" in console.get(TEMPLATES).get_data(as_text=True)

    token = csrf_token_from(console.get(EDIT).get_data(as_text=True))
    assert console.post(f"{EDIT}/reset", data={"csrf_token": token}).status_code == 302
    assert _rows(app, db, acme) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text": "Hello {{ customer_name"}, "Text, line 1"),
        ({"text": "Hello {{ favourite_colour }}"}, "unknown variable favourite_colour"),
        ({"text": ""}, "This field is required."),
    ],
)
def test_a_template_that_cannot_render_is_not_saved(app, db, acme, console, fields, message):
    response = submit_form(console, EDIT, {"subject": "Invoice", "save": "Save", **fields})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _rows(app, db, acme) == []


def test_unknown_templates_are_not_found(console):
    assert console.get(f"{TEMPLATES}/no_such_message").status_code == 404


@pytest.fixture
def messages(app, db, acme):
    """One failed, one waiting and one sent message of Acme; returns their ids by status."""
    with app.app_context(), business_context(acme.id):
        rows = {
            status: OutboxMessage(
                channel="email",
                template_key="invoice_sent",
                recipient=f"{status}@example.com",
                status=status,
                attempts=5 if status == "failed" else 1,
                last_error=f"{status}: 451 try again later",
            )
            for status in ("failed", "pending", "sent")
        }
        db.session.add_all(rows.values())
        db.session.commit()
        return {status: row.id for status, row in rows.items()}


def test_the_outbox_lists_failed_and_waiting_messages(console, messages):
    page = console.get("/b/acme/console/outbox").get_data(as_text=True)
    assert "failed@example.com" in page and "failed: 451 try again later" in page
    assert "pending@example.com" in page
    assert "sent@example.com" not in page


def test_retry_gives_a_failed_message_a_fresh_start(app, db, acme, console, messages):
    token = csrf_token_from(console.get("/b/acme/console/outbox").get_data(as_text=True))
    response = console.post(f"/b/acme/console/outbox/{messages['failed']}/retry", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context(), business_context(acme.id):
        message = db.session.get(OutboxMessage, messages["failed"])
        assert (message.status, message.attempts) == ("pending", 0)

    sent = console.post(f"/b/acme/console/outbox/{messages['sent']}/retry", data={"csrf_token": token})
    assert sent.status_code == 302
    assert "Only a failed or waiting message can be retried." in console.get(
        "/b/acme/console/outbox"
    ).get_data(as_text=True)


def test_another_business_messages_cannot_be_retried(app, db, console, make_business):
    bolt = make_business("bolt")
    with app.app_context(), business_context(bolt.id):
        theirs = OutboxMessage(
            channel="email", template_key="invoice_sent", recipient="b@example.com", status="failed"
        )
        db.session.add(theirs)
        db.session.commit()
        their_id = theirs.id
    token = csrf_token_from(console.get("/b/acme/console/outbox").get_data(as_text=True))
    assert (
        console.post(f"/b/acme/console/outbox/{their_id}/retry", data={"csrf_token": token}).status_code
        == 404
    )
    assert "b@example.com" not in console.get("/b/acme/console/outbox").get_data(as_text=True)
    with app.app_context(), business_context(bolt.id):
        assert db.session.get(OutboxMessage, their_id).status == "failed"


class Reminders:
    """A plugin that sends its own message; its template is registered from this module."""

    @hookimpl
    def on_invoice_sent(self, invoice):
        pass


def test_a_plugins_template_is_listed_only_where_the_plugin_is_on(app, console, acme, make_business,
                                                                  register_plugin, monkeypatch):
    monkeypatch.setattr(templates, "_defaults", dict(templates._defaults))
    register_plugin(Reminders(), "reminders")
    register_template("reminder_due", subject="Reminder", text="Your visit is {{ when }}.",
                      description="A visit reminder")

    assert "reminder_due" not in console.get(TEMPLATES).get_data(as_text=True)
    assert console.get(f"{TEMPLATES}/reminder_due").status_code == 404

    switch_plugin(app, acme, "reminders")

    assert "reminder_due" in console.get(TEMPLATES).get_data(as_text=True)
    assert console.get(f"{TEMPLATES}/reminder_due").status_code == 200
