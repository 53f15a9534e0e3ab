"""After paying by link, a customer without a portal login is invited to create one, if that can work."""

import pytest
from sqlalchemy import select

from core.extensions import db
from core.identity.tokens import hash_token
from core.models import ActionToken, Business, Customer, CustomerUser, OutboxMessage
from core.notifications.outbox import deliver_due
from core.plugin_api import hookimpl
from core.testing.records import issue_invoice, switch_plugin
from plugins.payments_stripe.testing import local_path, pay_now, pay_on_hosted_page


class AcceptsInvitations:
    """Stands in for the portal: says which view turns an invitation token into a login."""

    @hookimpl
    def invitation_handlers(self):
        return "paylink.show"  # any endpoint taking a token serves to check the link that is built


@pytest.fixture
def invitations(app, shop, register_plugin):
    register_plugin(AcceptsInvitations(), "invitations_test")
    return lambda: switch_plugin(app, shop, "invitations_test")


def pay_by_link(app, client, shop):
    _, token = issue_invoice(app, shop)
    redirect = pay_on_hosted_page(pay_now(client, shop, token).headers["Location"])
    assert "Paid" in client.get(local_path(redirect.headers["Location"])).get_data(as_text=True)


def invitations_sent(in_business, shop):
    with in_business(shop):
        return db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.template_key == "portal_invitation")).all()


def test_a_customer_without_a_login_is_invited_after_paying(app, client, shop, invitations, in_business,
                                                            mailbox):
    invitations()

    pay_by_link(app, client, shop)

    [message] = invitations_sent(in_business, shop)
    assert message.recipient == "pat@example.com"
    link = message.context["invite_url"]
    assert link.startswith("http://suprata.test/b/acme/pay/")
    with in_business(shop):
        token_row = db.session.scalar(select(ActionToken))
        assert token_row.purpose == "portal_invitation"
        assert token_row.token_hash == hash_token(link.rsplit("/", 1)[1])
        assert token_row.customer_id == db.session.scalar(select(Customer.id))
    with app.app_context():
        deliver_due()
    [invite] = [m for m in mailbox.wait_for(3) if "account" in m["Subject"]]
    assert link in mailbox.text_of(invite)


def test_no_invitation_without_an_enabled_plugin_that_accepts_it(app, client, shop, invitations, in_business):
    pay_by_link(app, client, shop)  # the plugin is loaded, but this business has it off

    assert invitations_sent(in_business, shop) == []


def test_no_invitation_for_a_customer_who_has_a_login(app, client, shop, invitations, in_business):
    invitations()
    _, token = issue_invoice(app, shop)
    with in_business(shop):
        customer = db.session.scalar(select(Customer))
        db.session.add(CustomerUser(customer_id=customer.id, email="pat@example.com"))
        db.session.commit()

    redirect = pay_on_hosted_page(pay_now(client, shop, token).headers["Location"])
    client.get(local_path(redirect.headers["Location"]))

    assert invitations_sent(in_business, shop) == []


def test_no_invitation_when_the_business_turned_the_policy_off(app, client, shop, invitations, in_business):
    invitations()
    with app.app_context():
        business = db.session.get(Business, shop.id)
        business.policies = {"invite_after_payment": False}
        db.session.commit()
    app.extensions["suprata"].businesses.forget(shop.id)

    pay_by_link(app, client, shop)

    assert invitations_sent(in_business, shop) == []
