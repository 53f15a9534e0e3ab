"""A business's template has a rendering budget (time, output, loop rounds), and one business's costly or slow
messages never hold back another business's mail."""

import threading
import time

import pytest
from sqlalchemy import select

from core.background.tasks import run_due
from core.models import NotificationTemplate, OutboxMessage
from core.notifications.outbox import deliver_due, enqueue
from core.notifications.templates import Wording, preview, validate
from core.testing.helpers import create_staff, login_staff, submit_form

SIX_NESTED_LOOPS = ("{% for a in customer_name %}{% for b in customer_name %}{% for c in customer_name %}"
                    "{% for d in customer_name %}{% for e in customer_name %}{% for f in customer_name %}."
                    "{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}")
HUGE_FILTER = "{{ 'a'|center(100000000) }}"
COSTLY = {
    HUGE_FILTER: "more than 100,000 characters",
    SIX_NESTED_LOOPS: "over 10,000 loop rounds",
    "{{ 'a'.ljust(1000000000) }}": "more than 100,000 characters",
    "{{ '%0100000000d'|format(1) }}": "more than 100,000 characters",
    "{{ '{:>100000000}'.format(1) }}": "more than 100,000 characters",
    "{% set s = 'aaaaaaaaaa' %}" + "{% set s = s ~ s %}" * 40 + "{{ s }}": "more than 100,000 characters",
    "{% set n = 10 %}" + "{% set n = n * n %}" * 40 + "{{ n }}": "a number too large",
    "{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}":
        "more than 100,000 characters",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}":
        "over 10,000 loop rounds",
    "{{ range(10)|batch(1000000000, 'x')|list }}": "more than 100,000 characters",
}
INVITE = {"customer_name": "Jordan Rivera Montgomery", "invite_url": "http://suprata.test/invite/x"}


def timed(function, *args, **kwargs):
    started = time.monotonic()
    result = function(*args, **kwargs)
    return result, time.monotonic() - started


@pytest.mark.parametrize("template", sorted(COSTLY))
def test_a_costly_draft_is_refused_within_a_second_saying_what_to_change(business, in_business, template):
    with in_business(business):
        problems, checking = timed(validate, Wording("Hello", template), key="invoice_sent")
        shown, previewing = timed(preview, "invoice_sent", Wording("Hello", template))
    assert checking < 1 and previewing < 1
    [problem] = problems
    assert problem.startswith("Text, line 1: ") and COSTLY[template] in problem
    assert shown.error.startswith("Text, line 1: ") and COSTLY[template] in shown.error


def test_the_same_budget_guards_the_html_part_and_the_subject(business, in_business):
    with in_business(business):
        [problem] = validate(Wording("Hi", "ok", f"<p>{HUGE_FILTER}</p>"), key="invoice_sent")
        assert problem.startswith("HTML, line 1") and COSTLY[HUGE_FILTER] in problem
        [problem] = validate(Wording(SIX_NESTED_LOOPS, "ok"), key="portal_invitation")
        assert problem.startswith("Subject, line 1")


def test_ordinary_templates_are_well_within_the_budget(business, in_business):
    draft = ("{% for word in customer_name.split() %}{{ word|upper|center(20) }}\n{% endfor %}"
             "{{ '%05.1f'|format(3.14159) }} {{ amount_due|money }} {{ 'x'|indent(4, true) }}")
    with in_business(business):
        assert validate(Wording("Invoice {{ invoice_number }}", draft), key="invoice_sent") == []
        assert preview("invoice_sent", Wording("", draft)).error is None


@pytest.mark.parametrize("template", [HUGE_FILTER, SIX_NESTED_LOOPS])
def test_the_console_refuses_to_save_a_costly_template(app, db, client, business, in_business, template):
    create_staff(app, business)
    login_staff(client, business)
    editor = "/b/acme/console/settings/notifications/invoice_sent"

    response, took = timed(submit_form, client, editor, {"subject": "Bill", "text": template, "save": "Save"})

    assert took < 2 and response.status_code == 400
    assert COSTLY[template] in response.get_data(as_text=True)
    with in_business(business):
        assert db.session.scalar(select(NotificationTemplate)) is None


def store_template(db, key, text):
    """A business's own wording written straight to the database, as a bug or an old release could have."""
    db.session.add(NotificationTemplate(key=key, subject="Hi", body_text=text))
    db.session.commit()


@pytest.mark.parametrize("template", [HUGE_FILTER, SIX_NESTED_LOOPS])
def test_a_costly_stored_template_is_cut_short_at_delivery_and_the_default_sent(
        app, db, business, in_business, mailbox, template):
    with in_business(business):
        store_template(db, "portal_invitation", template)
        message_id = enqueue("portal_invitation", to="jordan@example.com", context=INVITE).id
        db.session.commit()
    with app.app_context():
        delivered, took = timed(deliver_due)

    assert delivered == 1 and took < 1
    [email] = mailbox.wait_for(1)
    assert email["Subject"] == "Create your Acme Plumbing account"
    with in_business(business):
        stored = db.session.scalar(select(NotificationTemplate))
        sent = db.session.get(OutboxMessage, message_id)
        assert sent.status == "sent" and COSTLY[template] in sent.template_error
        assert COSTLY[template] in stored.last_error  # shown to the business's staff on the templates page


def test_another_business_password_reset_goes_out_promptly_while_one_business_has_a_costly_template(
        app, db, client, make_business, in_business, mailbox):
    slow = make_business("slow", name="Slow Co")
    acme = make_business("acme", name="Acme Plumbing")
    create_staff(app, acme)
    with in_business(slow):
        store_template(db, "portal_invitation", SIX_NESTED_LOOPS)
        for n in range(20):
            enqueue("portal_invitation", to=f"customer{n}@slow.test", context=INVITE)
        db.session.commit()
    forgot = "/b/acme/console/forgot-password"
    assert submit_form(client, forgot, {"email": "dana@acme.test"}).status_code == 200
    with app.app_context():
        run_due()  # the worker turns the request into the reset email (core.console.auth)

    def sweep():
        with app.app_context():
            deliver_due()

    worker = threading.Thread(target=sweep, daemon=True)
    worker.start()
    started = time.monotonic()
    while not mailbox.to("dana@acme.test") and time.monotonic() - started < 2:
        time.sleep(0.01)
    assert mailbox.to("dana@acme.test"), "the password reset waited behind the other business's messages"
    assert mailbox.to("dana@acme.test")[0]["Subject"] == "Set a new password for the Acme Plumbing console"
    worker.join(timeout=30)
    assert len(mailbox.wait_for(21)) == 21


def test_businesses_take_turns_in_the_outbox(app, db, make_business, in_business, mailbox):
    busy = make_business("busy", name="Busy Co")
    quiet = make_business("quiet", name="Quiet Co")
    with in_business(busy):
        for n in range(30):
            enqueue("portal_invitation", to=f"customer{n}@busy.test", context=INVITE)
        db.session.commit()
    with in_business(quiet):
        enqueue("portal_invitation", to="only@quiet.test", context=INVITE)
        db.session.commit()

    with app.app_context():
        assert deliver_due(limit=10) == 10

    received = [str(m["To"]) for m in mailbox.wait_for(10)]
    assert received[:2] == ["customer0@busy.test", "only@quiet.test"]
