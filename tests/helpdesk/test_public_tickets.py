"""Tickets from the public form wait for their email link: the verification matrix (verified, never
verified, expired, reused link, honeypot), the same answer for every address, rate limits, the switch that
turns verification off (and the console's warning), attachments checked by content, and a plugin that
fails in ``on_ticket_submitted`` losing nothing."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.extensions import db
from core.identity.tokens import hash_token
from core.models import ActionToken
from core.plugin_api import hookimpl, utcnow
from core.testing.helpers import csrf_token_from, sign_in_staff, without_nonces
from core.testing.records import save_plugin_settings, switch_plugin
from plugins.helpdesk import attachments, tickets
from plugins.helpdesk.models import Ticket, TicketAttachment, TicketMessage
from tests.helpdesk.conftest import confirm_path, public_ticket, tickets_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%fake but starts right\n"


class Recorder:
    """A plugin that records the tickets that reach the queue (and may fail while doing so)."""

    def __init__(self):
        self.submitted, self.fail = [], False

    @hookimpl
    def on_ticket_submitted(self, ticket):
        self.submitted.append(ticket.id)
        if self.fail:
            raise RuntimeError("the plugin fell over")


@pytest.fixture
def recorder(app, acme, register_plugin):
    plugin = register_plugin(Recorder(), "ticket_recorder")
    switch_plugin(app, acme, "ticket_recorder")
    return plugin


def confirm(client, path: str):
    page = client.get(path)
    if page.status_code != 200:
        return page
    return client.post(path, data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})


def test_a_public_ticket_reaches_the_queue_only_once_its_link_is_followed(client, acme, maria, in_business,
                                                                         emailed, recorder, as_support):
    response = public_ticket(client, email="Maria@Example.com")
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    [ticket] = tickets_of(in_business, acme)
    assert (ticket.status, ticket.customer_id, ticket.queued_at) == ("unverified", None, None)
    assert "Boiler noise" not in as_support.get("/b/acme/console/help/tickets?status=").get_data(as_text=True)
    assert as_support.get(f"/b/acme/console/help/tickets/{ticket.id}").status_code == 404
    assert recorder.submitted == []
    [(to, context)] = emailed("helpdesk_ticket_confirm")
    assert to == "maria@example.com"

    path = confirm_path(context)
    assert "Yes, send it" in client.get(path).get_data(as_text=True)  # opening the link sends nothing
    assert tickets_of(in_business, acme)[0].status == "unverified"
    done = confirm(client, path)
    assert done.status_code == 200 and f"#{ticket.id}" in done.get_data(as_text=True)
    assert done.headers["Cache-Control"] == "no-store"
    [ticket] = tickets_of(in_business, acme)
    assert (ticket.status, ticket.customer_id) == ("open", maria)  # the proven address is Maria's
    assert recorder.submitted == [ticket.id]
    assert [to for to, _ in emailed("ticket_submitted")] == ["maria@example.com"]
    assert [to for to, _ in emailed("ticket_submitted_staff")] == ["office@acme.test"]
    assert "Boiler noise" in as_support.get("/b/acme/console/help/tickets").get_data(as_text=True)


def test_a_reused_link_gets_the_not_working_page(client, acme, in_business, emailed, recorder):
    public_ticket(client)
    path = confirm_path(emailed("helpdesk_ticket_confirm")[0][1])
    assert confirm(client, path).status_code == 200
    again = confirm(client, path)
    assert again.status_code == 404 and "link" in again.get_data(as_text=True).lower()
    assert recorder.submitted == [tickets_of(in_business, acme)[0].id]  # once


def test_an_expired_link_does_nothing_and_the_ticket_is_purged(app, client, acme, in_business, emailed,
                                                                recorder):
    public_ticket(client)
    path = confirm_path(emailed("helpdesk_ticket_confirm")[0][1])
    with in_business(acme):
        past = utcnow() - timedelta(seconds=1)
        db.session.execute(update(ActionToken).values(expires_at=past))
        db.session.execute(update(Ticket).values(expires_at=past))
        db.session.commit()
    assert confirm(client, path).status_code == 404
    assert tickets_of(in_business, acme)[0].status == "unverified" and recorder.submitted == []
    with in_business(acme):
        assert tickets.purge_unverified() == 1
    assert tickets_of(in_business, acme) == []
    with in_business(acme):
        assert db.session.scalars(select(TicketMessage)).all() == []


@pytest.mark.parametrize("token", ["not-a-real-token", "x" * 43])
def test_an_unknown_or_mutated_link_gets_the_same_page(client, acme, emailed, token):
    public_ticket(client)
    real = confirm_path(emailed("helpdesk_ticket_confirm")[0][1])
    mutated = real[:-1] + ("A" if real[-1] != "A" else "B")
    for path in (mutated, f"/b/acme/help/tickets/confirm/{token}"):
        response = client.get(path)
        assert response.status_code == 404 and "Send your request again" in response.get_data(as_text=True)


def test_a_never_verified_ticket_is_purged_with_its_files_by_the_periodic_job(client, acme, in_business):
    public_ticket(client, attachments=[(io.BytesIO(PNG), "photo.png")])
    fresh = public_ticket(client.application.test_client(), email="other@example.com")
    assert fresh.status_code == 200
    with in_business(acme):
        first = db.session.scalar(select(Ticket).order_by(Ticket.id))
        first.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert db.session.scalars(select(TicketAttachment)).all() != []
    from core.background.schedule import collect_schedules

    [job] = [job for job in collect_schedules(client.application.extensions["suprata"].plugins)
             if job.plugin_name == "helpdesk"]
    with in_business(acme):
        job.func()
    assert [t.email for t in tickets_of(in_business, acme)] == ["other@example.com"]
    with in_business(acme):
        assert db.session.scalars(select(TicketAttachment)).all() == []


def test_the_honeypot_keeps_nothing_and_sends_nothing(client, acme, in_business, emailed):
    response = public_ticket(client, website="http://spam.example")
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    assert tickets_of(in_business, acme) == [] and emailed("helpdesk_ticket_confirm") == []


def test_every_address_gets_the_same_answer(app, acme, maria, maria_login, in_business, emailed):
    pages = []
    for email in ("maria@example.com", "nobody@example.com"):
        visitor = app.test_client()
        page = public_ticket(visitor, email=email).get_data(as_text=True)
        pages.append(without_nonces(page).replace(email, "EMAIL"))
    assert pages[0] == pages[1]
    assert len(emailed("helpdesk_ticket_confirm")) == 2  # both wait for their link, known or not
    assert {t.status for t in tickets_of(in_business, acme)} == {"unverified"}


def test_the_public_form_is_rate_limited(app, acme):
    visitor = app.test_client()
    codes = [public_ticket(visitor, email=f"n{n}@example.com").status_code for n in range(6)]
    assert codes == [200] * 5 + [429]


def test_the_form_needs_its_csrf_token(client, acme, in_business):
    response = client.post("/b/acme/help/tickets/new", data={"name": "A", "email": "a@example.com",
                                                             "subject": "S", "message": "M"})
    assert response.status_code == 400 and tickets_of(in_business, acme) == []


def test_with_verification_off_tickets_go_straight_in_and_the_console_says_what_that_lets_in(
        app, client, acme, maria, in_business, emailed, recorder):
    save_plugin_settings(app, acme, "helpdesk", {"verify_public_tickets": "", "unverified_days": "7"})
    public_ticket(client, email="maria@example.com")
    [ticket] = tickets_of(in_business, acme)
    assert (ticket.status, ticket.customer_id) == ("open", None)  # not proven: on nobody's record
    assert emailed("helpdesk_ticket_confirm") == [] and recorder.submitted == [ticket.id]
    admin = app.test_client()
    sign_in_staff(app, admin, acme, "owner")
    for page in ("/b/acme/console/help/tickets", "/b/acme/console/plugins"):
        text = admin.get(page).get_data(as_text=True)
        assert "Public tickets are not checked" in text and "bots and junk" in text, page


def test_the_console_shows_no_warning_while_verification_is_on(app, acme):
    admin = app.test_client()
    sign_in_staff(app, admin, acme, "owner")
    page = admin.get("/b/acme/console/help/tickets").get_data(as_text=True)
    assert "Public tickets are not checked" not in page


def test_a_plugin_failing_in_on_ticket_submitted_loses_nothing(client, acme, in_business, emailed, recorder):
    recorder.fail = True
    public_ticket(client)
    response = confirm(client, confirm_path(emailed("helpdesk_ticket_confirm")[0][1]))
    assert response.status_code == 200
    [ticket] = tickets_of(in_business, acme)
    assert ticket.status == "open" and recorder.submitted == [ticket.id]


# -- attachments ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "data", "words"), [
    ("huge.png", PNG + b"\x00" * 102400, "larger than 100 KB"),
    ("tool.exe", b"MZ\x90\x00\x03" + b"\x00\xff" * 40, "not a kind of file we accept"),
    ("photo.png", PDF, "does not contain what its name says: it is a PDF document"),
    ("notes.txt", PNG, "it is a PNG picture"),
    ("page.html", b"<html><script>alert(1)</script></html>", "it is plain text"),
    ("empty.pdf", b"", "is empty"),
])
def test_a_refused_attachment_gets_a_clear_message_and_nothing_is_stored(client, acme, in_business, emailed,
                                                                         monkeypatch, name, data, words):
    monkeypatch.setattr(attachments, "MAX_BYTES", 100 * 1024)  # a small body: the test client spools big ones
    response = public_ticket(client, attachments=[(io.BytesIO(data), name)])
    assert response.status_code == 400
    assert words in response.get_data(as_text=True).replace("&#34;", '"')
    assert tickets_of(in_business, acme) == [] and emailed("helpdesk_ticket_confirm") == []


def test_at_most_three_files(client, acme, in_business):
    files = [(io.BytesIO(PNG), f"p{n}.png") for n in range(4)]
    response = public_ticket(client, attachments=files)
    assert response.status_code == 400 and "at most 3 files" in response.get_data(as_text=True)
    assert tickets_of(in_business, acme) == []


def test_accepted_files_are_kept_and_served_back_only_as_downloads(client, acme, maria, in_business, emailed,
                                                                  as_support):
    public_ticket(client, email="maria@example.com",
                  attachments=[(io.BytesIO(PNG), "leak.png"), (io.BytesIO(PDF), "quote.PDF"),
                               (io.BytesIO(b"line one\nline two\n"), "<script>.txt")])
    confirm(client, confirm_path(emailed("helpdesk_ticket_confirm")[0][1]))
    [ticket] = tickets_of(in_business, acme)
    with in_business(acme):
        files = db.session.scalars(select(TicketAttachment).order_by(TicketAttachment.id)).all()
        assert [(f.filename, f.content_type, f.size) for f in files] == [
            ("leak.png", "image/png", len(PNG)), ("quote.PDF", "application/pdf", len(PDF)),
            ("_script_.txt", "text/plain", 18)]
        ids = [f.id for f in files]
    for file_id, expected in zip(ids, (PNG, PDF), strict=False):
        response = as_support.get(f"/b/acme/console/help/tickets/{ticket.id}/files/{file_id}")
        assert response.status_code == 200 and response.data == expected
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]


def test_a_ticket_number_of_a_token_hash_is_not_in_the_link(client, acme, in_business, emailed):
    """The link carries a 256-bit secret; only its hash is stored."""
    public_ticket(client)
    path = confirm_path(emailed("helpdesk_ticket_confirm")[0][1])
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 43
    with in_business(acme):
        stored = db.session.scalar(select(ActionToken).where(ActionToken.purpose == "helpdesk_ticket"))
        assert stored.token_hash == hash_token(token) and token not in str(stored.payload)
