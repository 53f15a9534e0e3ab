"""Signed-in tickets and the staff queue: a signed-in customer's ticket goes straight in on their record;
staff filter, assign, reply (emailed through the real SMTP server) and write internal notes that no
customer response ever holds; customers reply from the help site or the portal's Tickets tab, which
reopens a pending or resolved ticket; another customer's or business's ticket is a 404; roles decide who
works the queue."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import ActivityEvent
from core.plugin_api import hookimpl
from core.testing.background import run_background_work
from core.testing.helpers import sign_in, sign_in_staff, staff_routes_without_a_role_decision
from core.testing.records import switch_plugin
from plugins.helpdesk.models import Ticket, TicketAttachment
from plugins.helpdesk.testing import sign_in_on_help_site
from tests.helpdesk.conftest import add_customer, post_form, send_signed_in, staff_post, tickets_of

NOTE = "INTERNAL-NOTE-MARKER"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class Recorder:
    def __init__(self):
        self.calls = []

    @hookimpl
    def on_ticket_submitted(self, ticket):
        self.calls.append(("submitted", ticket.id))

    @hookimpl
    def on_ticket_replied(self, ticket, message):
        self.calls.append(("replied", ticket.id, message.author, message.internal))


@pytest.fixture
def recorder(app, acme, register_plugin):
    plugin = register_plugin(Recorder(), "ticket_recorder")
    switch_plugin(app, acme, "ticket_recorder")
    return plugin


def test_a_signed_in_customer_files_straight_to_the_queue_on_their_record(as_maria, acme, maria, in_business,
                                                                         emailed, recorder):
    form = as_maria.get("/b/acme/help/tickets/new").get_data(as_text=True)
    assert "Maria Garcia" in form and 'name="email"' not in form and 'name="website"' not in form
    response = send_signed_in(as_maria, attachments=[(io.BytesIO(PNG), "tap.png")])
    [ticket] = tickets_of(in_business, acme)
    assert response.status_code == 302 and response.location.endswith(f"/help/tickets/{ticket.id}")
    assert (ticket.status, ticket.customer_id, ticket.source, ticket.email) == (
        "open", maria, "signed_in", "maria@example.com")
    assert emailed("helpdesk_ticket_confirm") == []
    assert [to for to, _ in emailed("ticket_submitted")] == ["maria@example.com"]
    assert recorder.calls == [("submitted", ticket.id)]
    with in_business(acme):
        [event] = db.session.scalars(select(ActivityEvent).where(ActivityEvent.kind == "ticket.submitted"))
        assert event.customer_id == maria
    page = as_maria.get(f"/b/acme/help/tickets/{ticket.id}").get_data(as_text=True)
    assert "Leaking tap" in page and "Drips all night." in page and "tap.png" in page


def test_an_unconfirmed_login_is_a_visitor_on_the_help_site(app, client, acme, maria, in_business):
    from core.testing.helpers import create_customer_login

    login = create_customer_login(app, acme, maria, email="maria@example.com", confirmed=False)
    sign_in(app, client, acme, login)
    form = client.get("/b/acme/help/tickets/new").get_data(as_text=True)
    assert 'name="email"' in form  # the public form: nothing goes on Maria's record unproven
    assert client.get("/b/acme/help/tickets").status_code == 302


def test_the_whole_conversation(app, as_maria, acme, maria, in_business, emailed, recorder, mailbox):
    send_signed_in(as_maria)
    [ticket] = tickets_of(in_business, acme)
    staff = app.test_client()
    pat = sign_in_staff(app, staff, acme, "support", name="Pat Support")

    assert staff_post(staff, ticket.id, "assign", {"assignee": str(pat.id)}).status_code == 302
    assert staff_post(staff, ticket.id, "note", {"note": f"{NOTE} customer is grumpy"}).status_code == 302
    reply = staff_post(staff, ticket.id, "reply", {"message": "We'll come Thursday.", "status": "pending"})
    assert reply.status_code == 302
    ticket = tickets_of(in_business, acme)[0]
    assert (ticket.status, ticket.assignee_id) == ("pending", pat.id)

    run_background_work(app)
    [message] = [m for m in mailbox.wait_for(3) if "Re: Leaking tap" in str(m["Subject"])]
    text = mailbox.text_of(message)
    assert message["To"] == "maria@example.com" and "We'll come Thursday." in text and NOTE not in text
    assert f"/help/tickets/{ticket.id}" in text

    # The customer answers from the portal's Tickets tab: the pending ticket goes back to the team.
    tab = as_maria.get("/b/acme/portal/tickets/").get_data(as_text=True)
    assert "Leaking tap" in tab and "Waiting for the customer" in tab
    url = f"/b/acme/portal/tickets/{ticket.id}"
    response = post_form(as_maria, url, {"message": "Thursday works."})
    assert response.status_code == 302
    assert tickets_of(in_business, acme)[0].status == "open"
    assert recorder.calls == [("submitted", ticket.id), ("replied", ticket.id, "staff", False),
                              ("replied", ticket.id, "customer", False)]

    # Resolved, then the customer writes again from the help site: open again.
    staff_post(staff, ticket.id, "reply", {"message": "Fixed the washer.", "status": "resolved"})
    post_form(as_maria, f"/b/acme/help/tickets/{ticket.id}", {"message": "It drips again."})
    assert tickets_of(in_business, acme)[0].status == "open"

    # Closed: the customer is told to send a new request, and nothing is added.
    staff_post(staff, ticket.id, "status", {"status": "closed"})
    page = as_maria.get(f"/b/acme/help/tickets/{ticket.id}").get_data(as_text=True)
    assert "This request is closed" in page and 'id="send-reply"' not in page
    response = post_form(as_maria, f"/b/acme/help/tickets/{ticket.id}", {"message": "Hello?"},
                         post_url=f"/b/acme/help/tickets/{ticket.id}")
    assert response.status_code == 400 and tickets_of(in_business, acme)[0].status == "closed"

    queue = staff.get(f"/b/acme/console/help/tickets/{ticket.id}").get_data(as_text=True)
    assert NOTE in queue and "Internal note" in queue and "It drips again." in queue


def test_internal_notes_are_in_no_customer_response(app, as_maria, acme, maria, in_business, emailed):
    send_signed_in(as_maria, attachments=[(io.BytesIO(PNG), "tap.png")])
    [ticket] = tickets_of(in_business, acme)
    staff = app.test_client()
    sign_in_staff(app, staff, acme, "support")
    staff_post(staff, ticket.id, "note", {"note": f"{NOTE}-1"})
    staff_post(staff, ticket.id, "reply", {"message": "Visible answer", "status": "resolved"})
    staff_post(staff, ticket.id, "note", {"note": f"{NOTE}-2"})
    post_form(as_maria, f"/b/acme/help/tickets/{ticket.id}", {"message": "Thanks"})
    with in_business(acme):
        file_id = db.session.scalar(select(TicketAttachment.id))
    responses = {}
    for path in ("/b/acme/help/tickets", f"/b/acme/help/tickets/{ticket.id}", "/b/acme/portal/tickets/",
                 f"/b/acme/portal/tickets/{ticket.id}", f"/b/acme/help/tickets/{ticket.id}/files/{file_id}",
                 f"/b/acme/portal/tickets/{ticket.id}/files/{file_id}", "/b/acme/portal/activity",
                 "/b/acme/help/", "/b/acme/account/"):
        response = as_maria.get(path, follow_redirects=True)
        assert response.status_code == 200, path
        responses[path] = response.get_data().decode("utf-8", "replace")
    assert "Visible answer" in responses[f"/b/acme/help/tickets/{ticket.id}"]
    assert [path for path, body in responses.items() if NOTE in body] == []
    for key in ("ticket_submitted", "ticket_submitted_staff", "ticket_replied", "ticket_replied_staff"):
        assert all(NOTE not in str(context) for _, context in emailed(key))


def test_another_customers_or_businesses_ticket_is_a_404(app, client, acme, globex, maria, in_business):
    send_as = {}
    for business, name, email in ((acme, "Maria Garcia", "maria@example.com"),
                                  (acme, "Ken Ito", "ken@example.com"),
                                  (globex, "Gia Lee", "gia@example.com")):
        customer_id = maria if name == "Maria Garcia" else add_customer(in_business, business, name, email)
        visitor = app.test_client()
        from core.testing.helpers import create_customer_login

        login = create_customer_login(app, business, customer_id, email=email)
        sign_in(app, visitor, business, login)
        sign_in_on_help_site(app, visitor, business, login)
        fields = {"subject": f"From {name}", "message": "m", "attachments": [(io.BytesIO(PNG), "a.png")]}
        post_form(visitor, f"/b/{business.slug}/help/tickets/new", fields, content_type="multipart/form-data")
        send_as[name] = visitor
    [marias, kens] = tickets_of(in_business, acme)
    [gias] = tickets_of(in_business, globex)
    with in_business(acme):
        ken_file = db.session.scalar(select(TicketAttachment.id).join_from(
            TicketAttachment, Ticket, Ticket.id == kens.id).order_by(TicketAttachment.id.desc()))
    maria_client = send_as["Maria Garcia"]
    for path in (f"/b/acme/help/tickets/{kens.id}", f"/b/acme/portal/tickets/{kens.id}",
                 f"/b/acme/help/tickets/{kens.id}/files/{ken_file}",
                 f"/b/acme/help/tickets/{marias.id}/files/{ken_file}",
                 f"/b/acme/help/tickets/{gias.id}", f"/b/acme/portal/tickets/{gias.id}",
                 "/b/acme/help/tickets/999999"):
        assert maria_client.get(path).status_code == 404, path
    foreign_reply = maria_client.post(f"/b/acme/help/tickets/{kens.id}", data={"message": "x"})
    assert foreign_reply.status_code in (400, 404)
    staff = app.test_client()
    sign_in_staff(app, staff, acme, "support")
    assert staff.get(f"/b/acme/console/help/tickets/{gias.id}").status_code == 404
    assert "From Gia Lee" not in staff.get("/b/acme/console/help/tickets?status=").get_data(as_text=True)


def test_the_queue_filters_by_status_assignee_and_customer(app, acme, maria, in_business):
    ken = add_customer(in_business, acme, "Ken Ito", "ken@example.com")
    from plugins.helpdesk import tickets as ticket_logic

    staff = app.test_client()
    pat = sign_in_staff(app, staff, acme, "support", name="Pat Support")
    with in_business(acme):
        from core.models import Customer

        for customer_id, subject in ((maria, "Maria one"), (maria, "Maria two"), (ken, "Ken one")):
            ticket_logic.submit_signed_in(db.session.get(Customer, customer_id), subject=subject, body="b",
                                          files=[])
        db.session.commit()
        tickets = {t.subject: t.id for t in db.session.scalars(select(Ticket))}
    staff_post(staff, tickets["Maria two"], "assign", {"assignee": str(pat.id)})
    staff_post(staff, tickets["Ken one"], "status", {"status": "resolved"})

    def listed(query: str) -> set[str]:
        page = staff.get(f"/b/acme/console/help/tickets{query}").get_data(as_text=True)
        return {subject for subject in tickets if subject in page}

    assert listed("") == {"Maria one", "Maria two"}  # open, by default
    assert listed("?status=") == set(tickets)
    assert listed("?status=resolved") == {"Ken one"}
    assert listed("?status=&assignee=me") == {"Maria two"}
    assert listed("?status=&assignee=none") == {"Maria one", "Ken one"}
    assert listed(f"?status=&customer={ken}") == {"Ken one"}
    assert listed("?status=&q=two") == {"Maria two"}


@pytest.mark.parametrize(("role", "allowed"), [("support", True), ("owner", True), ("billing", False),
                                               ("admin", False)])
def test_support_works_the_help_desk_and_billing_does_not(app, acme, role, allowed):
    staff = app.test_client()
    sign_in_staff(app, staff, acme, role)
    for path in ("/b/acme/console/help/tickets", "/b/acme/console/help/articles",
                 "/b/acme/console/help/articles/new"):
        assert staff.get(path).status_code == (200 if allowed else 403), path
    menu = staff.get("/b/acme/console/").get_data(as_text=True)
    assert ("/console/help/tickets" in menu) == allowed


def test_every_help_desk_staff_route_declares_its_permission(app):
    assert staff_routes_without_a_role_decision(app) == []


def test_staff_write_articles_in_the_console(app, acme, in_business, client):
    staff = app.test_client()
    sign_in_staff(app, staff, acme, "support")
    post_form(staff, "/b/acme/console/help/articles", {"name": "Heating", "description": "", "position": "1"},
              post_url="/b/acme/console/help/categories")
    response = post_form(staff, "/b/acme/console/help/articles/new",
                         {"title": "Boiler pressure", "category": "1", "status": "draft",
                          "body": "Check the **gauge**.<script>alert(1)</script>"})
    assert response.status_code == 302
    assert client.get("/b/acme/help/articles/boiler-pressure").status_code == 404  # a draft
    edit = response.location.removeprefix("http://localhost")
    post_form(staff, edit, {"title": "Boiler pressure", "category": "1", "status": "published",
                            "body": "Check the **gauge**.<script>alert(1)</script>"})
    page = client.get("/b/acme/help/articles/boiler-pressure").get_data(as_text=True)
    assert "<strong>gauge</strong>" in page and "<script>alert" not in page
    assert "Heating" in page
