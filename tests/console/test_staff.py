"""Staff management and password links: invitations, "forgot your password?", deactivation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from core.background.tasks import run_due
from core.models import ActionToken, AuditEntry, OutboxMessage, StaffUser
from core.notifications.outbox import deliver_due
from core.tenancy import business_context, utcnow
from core.testing.helpers import (
    create_staff,
    csrf_token_from,
    login_staff,
    submit_form,
    without_nonces,
)

STAFF = "/b/acme/console/staff"
FORGOT = "/b/acme/console/forgot-password"
NEW_PASSWORD = "a fresh passphrase"


def _messages(app, db, business, template_key: str) -> list[OutboxMessage]:
    """The outbox's messages of one template, once the worker has run the tasks requests left for it."""
    with app.app_context():
        run_due()
    with app.app_context(), business_context(business.id):
        return db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template_key == template_key).order_by(OutboxMessage.id)
        ).all()


def _link_path(message: OutboxMessage) -> str:
    return "/" + message.context["set_password_url"].split("/", 3)[3]


def _set_password(client, path: str, password: str = NEW_PASSWORD):
    return submit_form(client, path, {"new_password": password, "confirm_password": password})


def _post_button(client, page_url: str, action_url: str, **data):
    token = csrf_token_from(client.get(page_url).get_data(as_text=True))
    return client.post(action_url, data={"csrf_token": token, **data})


@pytest.fixture
def invited(app, db, acme, console):
    """Sam, just invited by Dana: (the staff row's id, the path of Sam's link)."""
    response = submit_form(console, STAFF, {"name": "Sam Lee", "email": "Sam@Acme.test"})
    assert response.status_code == 302
    [message] = _messages(app, db, acme, "staff_invitation")
    assert message.recipient == "sam@acme.test" and message.context["invited_by"] == "Dana Ortiz"
    with app.app_context(), business_context(acme.id):
        user_id = db.session.scalar(select(StaffUser.id).where(StaffUser.email == "sam@acme.test"))
    return user_id, _link_path(message)


def test_an_invited_person_chooses_a_password_once_and_logs_in(app, acme, invited):
    _, path = invited
    newcomer = app.test_client()
    assert login_staff(newcomer, acme, email="sam@acme.test", password=NEW_PASSWORD).status_code == 401

    page = newcomer.get(path)
    assert page.status_code == 200 and "sam@acme.test" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    response = _set_password(newcomer, path)

    assert response.status_code == 302 and response.headers["Location"].endswith("/console/login")
    assert login_staff(newcomer, acme, email="sam@acme.test", password=NEW_PASSWORD).status_code == 302
    used = app.test_client().get(path)
    assert used.status_code == 404 and "doesn't work any more" in used.get_data(as_text=True)


def test_the_staff_page_lists_everyone_with_their_status(console, invited):
    page = console.get(STAFF).get_data(as_text=True)
    assert "Dana Ortiz" in page and "(you)" in page
    assert "sam@acme.test" in page and "badge-invited" in page and "Send the invitation again" in page


def test_the_invitation_arrives_by_email(app, acme, invited, mailbox):
    with app.app_context():
        deliver_due()
    [mail] = mailbox.wait_for(1)
    assert mail["To"] == "sam@acme.test"
    assert "Dana Ortiz invited you to the Acme Plumbing console" in str(mail["Subject"])
    assert re.search(r"http://\S+/b/acme/console/set-password/[A-Za-z0-9_\-]+", mailbox.text_of(mail))


def test_sending_the_invitation_again_replaces_the_old_link(app, db, acme, console, invited):
    user_id, old_path = invited
    _post_button(console, STAFF, f"{STAFF}/{user_id}/invite")
    newest = _messages(app, db, acme, "staff_invitation")[-1]
    assert app.test_client().get(old_path).status_code == 404
    assert app.test_client().get(_link_path(newest)).status_code == 200


TAKEN = "Someone on the staff already has this email address."


@pytest.mark.parametrize(("fields", "error"), [
    ({"name": "Other Dana", "email": "DANA@acme.test"}, TAKEN),
    ({"name": "Sam Lee", "email": "not an address"}, "Enter a valid email."),
    ({"name": "", "email": "sam@acme.test"}, "This field is required."),
])
def test_adding_someone_checks_the_form(app, db, acme, console, fields, error):
    response = submit_form(console, STAFF, fields)
    assert response.status_code == 400 and error in response.get_data(as_text=True)
    assert _messages(app, db, acme, "staff_invitation") == []


def test_a_password_link_checks_the_new_password(app, invited):
    _, path = invited
    response = _set_password(app.test_client(), path, "short")
    assert response.status_code == 400 and "Use at least 8 characters." in response.get_data(as_text=True)
    assert app.test_client().get(path).status_code == 200  # not used up by a rejected form


def test_forgot_password_answers_the_same_for_anyone_and_mails_only_staff(app, db, acme, client, staff):
    known = submit_form(client, FORGOT, {"email": staff.email}).get_data(as_text=True)
    unknown = submit_form(client, FORGOT, {"email": "nobody@acme.test"}).get_data(as_text=True)

    def normalised(page: str, email: str) -> str:
        return re.sub(r'value="[^"]*"', 'value=""', without_nonces(page).replace(email, "EMAIL"))

    assert "a link to choose a new password is on its way" in known
    assert normalised(known, staff.email) == normalised(unknown, "nobody@acme.test")
    [message] = _messages(app, db, acme, "staff_password_reset")
    assert message.recipient == staff.email


def test_a_reset_ends_every_session_and_the_old_password(app, db, acme, console, staff, password):
    submit_form(app.test_client(), FORGOT, {"email": staff.email})
    [message] = _messages(app, db, acme, "staff_password_reset")

    assert _set_password(app.test_client(), _link_path(message)).status_code == 302

    assert console.get("/b/acme/console/").status_code == 302  # the session open before the reset ended
    assert login_staff(app.test_client(), acme, email=staff.email, password=password).status_code == 401
    assert login_staff(app.test_client(), acme, email=staff.email, password=NEW_PASSWORD).status_code == 302
    with app.app_context(), business_context(acme.id):
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "staff.password_set"))
        assert (entry.actor, entry.target) == ("Dana Ortiz", f"staff {staff.email}")


def test_a_newer_link_replaces_an_older_one_and_links_expire(app, db, acme, staff):
    for _ in range(2):
        submit_form(app.test_client(), FORGOT, {"email": staff.email})
    older, newer = _messages(app, db, acme, "staff_password_reset")
    assert app.test_client().get(_link_path(older)).status_code == 404
    assert app.test_client().get(_link_path(newer)).status_code == 200

    with app.app_context(), business_context(acme.id):
        db.session.execute(update(ActionToken).values(expires_at=utcnow()))
        db.session.commit()
    assert app.test_client().get(_link_path(newer)).status_code == 404


def test_asking_for_links_is_rate_limited(client, acme, staff):
    answers = [submit_form(client, FORGOT, {"email": f"guess{i}@acme.test"}).status_code for i in range(6)]
    assert answers == [200] * 5 + [429]


def test_deactivating_someone_locks_them_out_at_once(app, db, acme, console, password):
    sam = create_staff(app, acme, email="sam@acme.test", password=password, name="Sam Lee")
    sams_browser = app.test_client()
    login_staff(sams_browser, acme, email=sam.email, password=password)
    submit_form(app.test_client(), FORGOT, {"email": sam.email})
    [link] = _messages(app, db, acme, "staff_password_reset")

    asked = console.get(f"{STAFF}/{sam.id}/deactivate").get_data(as_text=True)
    assert "Sam Lee (sam@acme.test) is logged out at once" in asked
    unconfirmed = _post_button(console, STAFF, f"{STAFF}/{sam.id}/deactivate")
    assert unconfirmed.status_code == 400 and "Tick the box to confirm." in unconfirmed.get_data(as_text=True)
    assert sams_browser.get("/b/acme/console/").status_code == 200  # nothing happened without a yes

    assert _post_button(console, STAFF, f"{STAFF}/{sam.id}/deactivate", confirm="y").status_code == 302

    assert sams_browser.get("/b/acme/console/").status_code == 302
    assert login_staff(app.test_client(), acme, email=sam.email, password=password).status_code == 401
    assert app.test_client().get(_link_path(link)).status_code == 404
    submit_form(app.test_client(), FORGOT, {"email": sam.email})
    assert len(_messages(app, db, acme, "staff_password_reset")) == 1  # no link for a deactivated account
    assert "badge-deactivated" in console.get(STAFF).get_data(as_text=True)

    _post_button(console, STAFF, f"{STAFF}/{sam.id}/reactivate")
    assert login_staff(app.test_client(), acme, email=sam.email, password=password).status_code == 302


def test_nobody_can_deactivate_themselves(console, staff):
    response = _post_button(console, STAFF, f"{STAFF}/{staff.id}/deactivate")
    assert response.status_code == 302
    assert "deactivate yourself" in console.get(STAFF).get_data(as_text=True)
    assert console.get("/b/acme/console/").status_code == 200


def test_another_business_s_staff_cannot_be_touched(app, make_business, console, password):
    harbor = make_business("harbor")
    sam = create_staff(app, harbor, email="sam@harbor.test", password=password, name="Sam Rivera")
    assert _post_button(console, STAFF, f"{STAFF}/{sam.id}/deactivate").status_code == 404
    assert "sam@harbor.test" not in console.get(STAFF).get_data(as_text=True)
    assert login_staff(app.test_client(), harbor, email=sam.email, password=password).status_code == 302


def test_a_link_of_one_business_does_not_open_in_another(app, db, acme, make_business, invited):
    make_business("harbor")
    _, path = invited
    assert app.test_client().get(path.replace("/b/acme/", "/b/harbor/")).status_code == 404


def test_password_links_use_the_configured_address_not_the_host_header(app, db, acme, client, staff):
    spoofed = {"Host": "evil.example"}
    page = client.get(FORGOT, headers=spoofed).get_data(as_text=True)
    client.post(FORGOT, data={"csrf_token": csrf_token_from(page), "email": staff.email}, headers=spoofed)
    [message] = _messages(app, db, acme, "staff_password_reset")
    assert message.context["set_password_url"].startswith(app.config["SUPRATA_PUBLIC_URL"] + "/b/acme/")


def test_only_someone_still_invited_can_be_invited_again(console, staff):
    assert _post_button(console, STAFF, f"{STAFF}/{staff.id}/invite").status_code == 404


def test_once_mailed_a_password_link_is_kept_nowhere_but_the_email(app, db, acme, client, staff, mailbox):
    submit_form(client, FORGOT, {"email": staff.email})
    [message] = _messages(app, db, acme, "staff_password_reset")
    token = _link_path(message).rsplit("/", 1)[1]
    with app.app_context():
        deliver_due()
    assert token in mailbox.text_of(mailbox.wait_for(1)[0])
    [sent] = _messages(app, db, acme, "staff_password_reset")
    assert sent.status == "sent" and token not in repr((sent.context, sent.body_text, sent.subject))
