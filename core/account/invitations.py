"""Invitations to create a customer login: sent by staff from the customer record, or after a customer paid
by link. A plugin's page turns them into a login (``invitation_handlers``); core sends one only while such a
page exists, so an invitation never leads nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from core.account.logins import login_for_email, open_login
from core.activity import record
from core.extensions import db
from core.identity import tokens
from core.models import Customer, CustomerUser
from core.notifications.outbox import enqueue
from core.tenancy import utcnow
from core.tenancy.state import current_business
from core.tenancy.urls import public_url_for

INVITATION_PURPOSE = "portal_invitation"
INVITATION_TTL = timedelta(days=14)


@dataclass(frozen=True)
class Invitation:
    """What an invitation page shows: who is invited, at which address."""

    customer_id: int
    customer_name: str
    email: str


def invitation_page() -> str | None:
    """The endpoint of the page that accepts invitations (a plugin's), or None when no plugin offers one."""
    return current_app.extensions["suprata"].plugins.call_first("invitation_handlers")


def login_to_pay() -> bool:
    """True when the business wants customers logged in before they pay an emailed invoice, and customers
    can get a login (a plugin accepts invitations and sign-ups); otherwise the pay link takes payment."""
    return bool(current_business().policy("login_to_pay")) and invitation_page() is not None


def send_invitation(customer: Customer, *, email: str | None = None, invited_by: str | None = None,
                    template_key: str = INVITATION_PURPOSE) -> bool:
    """Email ``customer`` a single-use link to create a login at ``email`` (by default their primary
    address); earlier invitations stop working.

    ``template_key`` names the message (a plugin's own, with the variables ``customer_name``, ``invite_url``
    and ``expires_at``). In the caller's transaction. False (nothing sent) when no page accepts invitations,
    there is no address, or a login already uses it.
    """
    endpoint = invitation_page()
    recipient = (email or customer.primary_email or "").strip().lower()
    if not endpoint or not recipient or login_for_email(recipient) is not None:
        return False
    tokens.revoke_all(INVITATION_PURPOSE, customer_id=customer.id)
    token = tokens.issue(INVITATION_PURPOSE, ttl=INVITATION_TTL, customer_id=customer.id, email=recipient)
    enqueue(template_key, to=recipient, customer_id=customer.id,
            context={"customer_name": customer.name, "invite_url": public_url_for(endpoint, token=token),
                     "expires_at": (utcnow() + INVITATION_TTL).isoformat()})
    who = f"by {invited_by}" if invited_by else "after a payment"
    record(customer.id, surface="console" if invited_by else "system", kind="account.invited",
           summary=f"Invited to create a portal login ({who}), at {recipient}")
    return True


def find_invitation(token: str) -> Invitation | None:
    """The live invitation behind ``token``, for showing its page; None once it is used, expired, revoked,
    or a login uses its address by now."""
    return _invitation(tokens.peek(INVITATION_PURPOSE, token))


def accept_invitation(token: str, password: str) -> CustomerUser | None:
    """Use the invitation: a login for the invited customer, at the invited address, with ``password``.

    Following the emailed link proved the address, so the login starts confirmed. None when the invitation
    is no longer live (a second tab used it first, say). In the caller's transaction.
    """
    invitation = _invitation(tokens.consume(INVITATION_PURPOSE, token))
    if invitation is None:
        return None
    return open_login(invitation.customer_id, invitation.email, password, how="from an invitation")


def _invitation(link) -> Invitation | None:
    if link is None:
        return None
    customer = db.session.get(Customer, link.customer_id)
    if customer is None or login_for_email(link.email) is not None:
        return None
    return Invitation(customer_id=customer.id, customer_name=customer.name, email=link.email)
