"""Templates: defaults, a business's own wording, the sandbox, fallback on errors, previews and validation."""

import pytest
from sqlalchemy import select

from core.models import NotificationTemplate, OutboxMessage
from core.notifications import templates
from core.notifications.outbox import deliver_due, enqueue
from core.notifications.templates import (
    Wording,
    all_defaults,
    preview,
    sample_context,
    validate,
    variables,
)
from core.plugin_api import register_template

CORE_KEYS = ["invoice_sent", "payment_receipt", "refund_receipt", "invoice_corrected", "invoice_reminder",
             "portal_invitation", "payment_failed", "payment_failed_staff",
             "payment_unapplied_staff", "staff_password_changed", "staff_invitation", "staff_password_reset"]


def save_template(db, key, *, subject=None, text) -> None:
    db.session.add(NotificationTemplate(key=key, subject=subject, body_text=text))
    db.session.commit()


def send(app, db, key, context, to="jordan@example.com") -> int:
    """Queue one message in the current business, commit, and run the sweep; returns the message id."""
    message = enqueue(key, to=to, context=context)
    db.session.commit()
    with app.app_context():
        assert deliver_due() == 1
    db.session.expire_all()
    return message.id


@pytest.mark.parametrize("key", CORE_KEYS)
def test_every_core_template_renders_its_sample_in_the_business_layout(key, business, in_business):
    assert key in {d.key for d in all_defaults()}
    default = templates.get_default(key)
    with in_business(business):
        result = preview(key, default.wording)
    assert result.error is None
    assert result.subject and result.text.strip()
    assert "Acme Plumbing" in result.html and "<!doctype html>" in result.html
    assert "[" not in result.text  # every variable has a realistic sample


def test_money_and_dates_are_shown_in_the_business_currency_and_time_zone(app, db, business, in_business,
                                                                          mailbox):
    with in_business(business):  # Acme is in America/New_York
        send(app, db, "payment_receipt", {"invoice_number": "INV-0007", "amount": 123456, "currency": "EUR",
                                          "paid_at": "2026-07-02T15:04:00+00:00", "paid_with": "Cash",
                                          "balance": 0, "lines": [], "receipt_url": "http://suprata.test/r/1",
                                          "card_saved": None})
    text = mailbox.text_of(mailbox.wait_for(1)[0]).replace("\r\n", "\n")
    assert "We received €1,234.56 for invoice INV-0007 on Jul 2, 2026 at 11:04 AM EDT,\npaid with Cash." in (
        text)


def test_a_business_template_replaces_the_default(app, db, business, in_business, mailbox):
    with in_business(business):
        save_template(db, "payment_receipt", subject="Thanks for invoice {{ invoice_number }}",
                      text="Thanks from {{ business.name }}! Your receipt:\n{{ receipt_url }}")
        send(app, db, "payment_receipt", {"invoice_number": "INV-0007", "amount": 100, "currency": "USD",
                                          "paid_at": "2026-07-02T15:04:00+00:00",
                                          "receipt_url": "http://suprata.test/i/1"})
    [email] = mailbox.wait_for(1)
    assert email["Subject"] == "Thanks for invoice INV-0007"
    assert mailbox.text_of(email).splitlines() == ["Thanks from Acme Plumbing! Your receipt:",
                                                   "http://suprata.test/i/1"]
    # the HTML part is made from the same body, links clickable
    assert '<a href="http://suprata.test/i/1">http://suprata.test/i/1</a>' in mailbox.html_of(email)


def test_values_are_escaped_in_html_but_not_in_text(app, db, business, in_business, mailbox):
    with in_business(business):
        send(app, db, "portal_invitation", {"customer_name": "<b>Jo & Co</b>", "invite_url": "http://x.test/"})
    [email] = mailbox.wait_for(1)
    assert "Hello <b>Jo & Co</b>," in mailbox.text_of(email)
    assert "Hello &lt;b&gt;Jo &amp; Co&lt;/b&gt;," in mailbox.html_of(email)


@pytest.mark.parametrize(("broken_text", "error"), [
    ("Hello {{ customer_name }}\n\n{{ missing_variable }}", "Text, line 3: 'missing_variable' is undefined"),
    ("Hello {{ customer_name", "Text, line 1: unexpected end of template"),
    ("{{ ''.__class__.__mro__ }}", "unsafe"),
    ("{{ invite_url.__init__.__globals__ }}", "unsafe"),
    ("{{ 'x' * 100000000 }}", "not allowed"),
])
def test_a_broken_business_template_falls_back_to_the_default_and_is_reported(
        app, db, business, in_business, mailbox, broken_text, error):
    with in_business(business):
        save_template(db, "portal_invitation", subject="Hi", text=broken_text)
        message_id = send(app, db, "portal_invitation",
                          {"customer_name": "Jordan", "invite_url": "http://suprata.test/i/1"})
        message = db.session.get(OutboxMessage, message_id)
        stored = db.session.scalar(select(NotificationTemplate))
        assert message.status == "sent"
        assert error in message.template_error
        assert stored.last_error == message.template_error and stored.last_error_at is not None
    [email] = mailbox.wait_for(1)
    assert email["Subject"] == "Create your Acme Plumbing account"  # the default, whole
    assert "Hello Jordan," in mailbox.text_of(email)


def test_preview_renders_a_draft_with_sample_values(business, in_business):
    with in_business(business):
        result = preview("invoice_sent", Wording("Bill {{ invoice_number }}",
                                                 "Pay {{ amount_due|money }} by {{ due_date|date }}",
                                                 "<p>{{ customer_name }}</p>"))
    assert result.error is None
    assert result.subject == "Bill INV-0042"
    assert result.text == "Pay $245.00 by Jul 15, 2026"
    assert "<p>Jordan Rivera</p>" in result.html


def test_preview_reports_the_first_error_with_its_line(business, in_business):
    with in_business(business):
        result = preview("invoice_sent", Wording("Bill", "Line one\n{{ nope }}"))
        sandboxed = preview("invoice_sent", Wording("Bill", "ok", "<p>\n\n{{ ''.__class__ }}</p>"))
    assert result.error == "Text, line 2: 'nope' is undefined"
    assert sandboxed.error.startswith("HTML, line 3: access to attribute '__class__'")


def test_validate_reports_syntax_and_unknown_variables_per_part():
    draft = Wording("Invoice {{ invoice_number }}", "Pay here: {{ pay_url }}", "<p>{{ total|money }}</p>")
    assert validate(draft, key="invoice_sent") == []
    assert validate(Wording("Hi {{", "ok")) == ["Subject, line 1: unexpected 'end of template'"]
    [problem] = validate(Wording("Hi", "{{ pay_link }}"), key="invoice_sent")
    assert problem.startswith("Text: unknown variable pay_link; available: amount_due, autopay_card,")
    assert validate(Wording("Hi", "   ")) == ["The text version can't be empty."]


def test_plugin_templates_preview_unknown_values_as_placeholders(business, in_business, monkeypatch):
    monkeypatch.setattr(templates, "_defaults", dict(templates._defaults))
    register_template("ticket_replied", subject="Re: {{ ticket_subject }}",
                      text="{{ reply }}\n\nAmount: {{ amount|money }}", description="A reply on a ticket")

    assert variables("ticket_replied") == ["amount", "reply", "ticket_subject"]
    assert sample_context("ticket_replied")["reply"] == "[reply]"
    with in_business(business):
        result = preview("ticket_replied", Wording("", "{{ reply }} ({{ amount|money }})"))
    assert (result.error, result.subject, result.text) == (None, "Re: [ticket_subject]", "[reply] ([amount])")


def test_a_text_message_is_sent_as_written_not_as_markdown(business, in_business, monkeypatch):
    monkeypatch.setattr(templates, "_defaults", dict(templates._defaults))
    register_template("visit_sms", subject="", text="Hi {{ name }}: *{{ when }}* - {{ url }}", channel="sms",
                      description="A text about a visit", sample={"name": "Jo *Star*", "when": "9 am",
                                                                  "url": "https://x.test/a_b_c"})
    with in_business(business):
        result = preview("visit_sms", Wording("", "Hi {{ name }}: *{{ when }}* - {{ url }}"))
    assert (result.error, result.html) == (None, None)
    assert result.text == "Hi Jo *Star*: *9 am* - https://x.test/a_b_c"


def test_dates_and_money_in_messages_follow_the_business_locale(make_business, in_business):
    paris = make_business("paris", name="Plomberie Paris", timezone="Europe/Paris", currency="EUR")
    with in_business(paris):
        text = "{{ total|money }} · {{ due_date|date('%d/%m') }}"
        result = preview("invoice_sent", Wording("{{ due_date|date }}", text))
    assert result.error is None
    assert result.subject == "15 juil. 2026"  # the sample's due date, written the French way
    assert result.text == "245,00\xa0$US · 15/07"  # a strftime pattern of the business's own is kept
