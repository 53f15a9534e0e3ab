"""Invitations (from the customer record, and the follow-up after a pay-link payment) land on the portal's
page and make a login in one step; the approval queue links unknown sign-ups to customers or declines them,
emailing the applicant either way."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import Customer, CustomerEmail, CustomerUser
from core.notifications.outbox import deliver_due
from core.testing.helpers import login_staff, submit_form
from core.testing.records import issue_invoice
from plugins.payments_stripe.testing import connect_stripe, pay_now, pay_on_hosted_page
from plugins.portal.models import PortalApplication
from tests.portal.conftest import local
from tests.portal.test_registration import NEW_PASSWORD, set_policies, sign_up

CUSTOMER_PAGE = "/b/acme/console/customers/{}"


def invite(console, customer_id: int):
    """Press "Invite to the portal" on the customer's record."""
    return submit_form(console, CUSTOMER_PAGE.format(customer_id), {},
                       post_url=f"/b/acme/console/customers/{customer_id}/invite")


@pytest.fixture
def console(app, acme, staff_member):
    client = app.test_client()
    assert login_staff(client, acme).status_code == 302
    return client


def test_staff_invite_a_customer_from_their_record(app, acme, console, maria, emailed, in_business):
    page = console.get(CUSTOMER_PAGE.format(maria)).get_data(as_text=True)
    assert "Invite to the portal" in page and "No login yet." in page
    assert invite(console, maria).status_code == 302
    [(to, context)] = emailed("portal_invitation")
    assert to == "maria@example.com"
    link = local(context["invite_url"])
    assert link.startswith("/b/acme/portal/invitation/")
    assert "Invited" in console.get(CUSTOMER_PAGE.format(maria)).get_data(as_text=True)

    customer = app.test_client()
    page = customer.get(link)
    assert "Welcome, Maria Garcia" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert submit_form(customer, link, NEW_PASSWORD).headers["Location"] == "/b/acme/portal/"
    assert customer.get("/b/acme/portal/invoices").status_code == 200
    assert customer.get(link).status_code == 404  # single use
    assert "maria@example.com" in console.get(CUSTOMER_PAGE.format(maria)).get_data(as_text=True)
    with in_business(acme):
        assert db.session.scalar(select(CustomerUser.customer_id)) == maria


def test_no_invitation_is_offered_while_the_portal_is_off(app, acme, console, maria, in_business, emailed):
    from core.plugins.settings import set_enabled

    with in_business(acme):
        set_enabled("portal", False)
        db.session.commit()
    app.extensions["suprata"].businesses.forget()
    assert "Invite to the portal" not in console.get(CUSTOMER_PAGE.format(maria)).get_data(as_text=True)
    invite(console, maria)
    assert emailed("portal_invitation") == []
    assert console.get("/b/acme/portal/invitation/anything").status_code == 404


def test_a_newer_invitation_replaces_the_older_one(acme, console, maria, emailed):
    for _ in range(2):
        invite(console, maria)
    first, second = [local(context["invite_url"]) for _, context in emailed("portal_invitation")]
    assert console.get(first).status_code == 404
    assert "Welcome" in console.get(second).get_data(as_text=True)


def test_a_customer_who_paid_by_link_registers_from_the_follow_up_invitation(
        app, client, acme, stripe_api, emailed, in_business, mailbox):
    connect_stripe(app, acme)
    _, token = issue_invoice(app, acme, email="pat@example.com")
    redirect = pay_on_hosted_page(pay_now(client, acme, token).headers["Location"])
    assert "Paid" in client.get(local(redirect.headers["Location"])).get_data(as_text=True)

    [(to, context)] = emailed("portal_invitation")
    assert to == "pat@example.com"
    with app.app_context():
        deliver_due()
    [invite] = [m for m in mailbox.wait_for(3) if "account" in m["Subject"]]
    link = context["invite_url"]
    assert link in mailbox.text_of(invite) and "/b/acme/portal/invitation/" in link

    response = submit_form(client, local(link), NEW_PASSWORD)  # one click and a password
    assert response.headers["Location"] == "/b/acme/portal/"
    invoices = client.get("/b/acme/portal/invoices").get_data(as_text=True)
    assert "Paid" in invoices
    with in_business(acme):
        assert db.session.scalar(select(CustomerUser.email)) == "pat@example.com"


# -- the approval queue -----------------------------------------------------------------------------------


@pytest.fixture
def applicant(app, client, acme, emailed):
    """Nia confirmed an address Acme does not know and asked for an account."""
    set_policies(app, acme, unknown_signup_policy="queue")
    sign_up(client, "nia@example.com")
    [(_, context)] = emailed("portal_signup_confirm")
    submit_form(client, local(context["confirm_url"]), {"name": "Nia Okafor", "note": "Flat 3, 12 Elm St."})
    with app.app_context():
        from core.tenancy import business_context

        with business_context(acme.id):
            return db.session.scalar(select(PortalApplication.id))


def test_staff_see_the_queue_and_link_a_sign_up_to_an_existing_customer(
        app, acme, console, applicant, maria, emailed, in_business):
    queue = console.get("/b/acme/console/portal/applications").get_data(as_text=True)
    assert "Nia Okafor" in queue and "nia@example.com" in queue
    assert "Portal sign-ups" in console.get("/b/acme/console/").get_data(as_text=True)
    detail = f"/b/acme/console/portal/applications/{applicant}"
    found = console.get(detail + "?q=Maria").get_data(as_text=True)
    assert "Maria Garcia" in found
    response = submit_form(console, detail + "?q=Maria", {"customer": str(maria)})
    assert response.status_code == 302
    [(to, context)] = emailed("portal_application_approved")
    assert to == "nia@example.com"
    customer = app.test_client()
    assert submit_form(customer, local(context["invite_url"]), NEW_PASSWORD).status_code == 302
    with in_business(acme):
        user = db.session.scalar(select(CustomerUser))
        assert (user.customer_id, user.email) == (maria, "nia@example.com")
        on_file = db.session.scalar(select(CustomerEmail).where(CustomerEmail.email == "nia@example.com"))
        assert on_file.customer_id == maria and on_file.verified_at is not None
        assert db.session.scalar(select(PortalApplication.status)) == "approved"


def test_staff_approve_a_sign_up_as_a_new_customer(app, acme, console, applicant, emailed, in_business):
    detail = f"/b/acme/console/portal/applications/{applicant}"
    assert submit_form(console, detail, {"customer": "new"}).status_code == 302
    with in_business(acme):
        customer = db.session.scalar(select(Customer).where(Customer.name == "Nia Okafor"))
        assert customer.primary_email == "nia@example.com"
    assert [to for to, _ in emailed("portal_application_approved")] == ["nia@example.com"]


def test_staff_decline_a_sign_up_and_the_applicant_is_told(app, acme, console, applicant, emailed,
                                                           in_business):
    detail = f"/b/acme/console/portal/applications/{applicant}"
    response = submit_form(console, detail, {}, post_url=f"{detail}/decline")
    assert response.status_code == 302
    assert [to for to, _ in emailed("portal_application_declined")] == ["nia@example.com"]
    with in_business(acme):
        assert db.session.scalar(select(PortalApplication.status)) == "declined"
        assert db.session.scalar(select(CustomerUser)) is None
    # Decided once: a second decision changes nothing.
    assert submit_form(console, detail.replace("?", ""), {"customer": "new"}).status_code == 200
    assert emailed("portal_application_approved") == []


def test_an_address_on_file_for_another_customer_cannot_be_linked_elsewhere(
        app, acme, console, applicant, maria, in_business):
    from tests.portal.conftest import add_customer

    other = add_customer(in_business, acme, "Jo Lee", "nia@example.com")
    detail = f"/b/acme/console/portal/applications/{applicant}"
    response = submit_form(console, detail + "?q=Maria", {"customer": str(maria)})
    assert response.status_code == 400
    assert "on file for another customer" in response.get_data(as_text=True)
    assert submit_form(console, detail + "?q=Jo", {"customer": str(other)}).status_code == 302


def test_the_queue_is_staff_only_and_per_business(app, acme, globex, applicant, portal):
    assert portal.get("/b/acme/console/portal/applications").status_code == 302
    from core.testing.helpers import create_staff

    create_staff(app, globex, email="gus@globex.test")
    other = app.test_client()
    login_staff(other, globex, email="gus@globex.test")
    assert other.get(f"/b/globex/console/portal/applications/{applicant}").status_code == 404
    assert "Nia" not in other.get("/b/globex/console/portal/applications").get_data(as_text=True)
