"""Self-registration: proving an email address, then a login for the customer who has it on file, or an
application that staff approve or decline (when the business queues unknown addresses).

The sign-up form answers the same, in the same time, whatever the address: every answer is an email with a
link, and every branch does the same work (two look-ups, old links revoked, one link, one message) before
the page is shown. What happens next is decided when the link is followed, once the address is proven, so a
change of policy or of the customer records in between is honoured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from core.plugin_api import (
    CustomerEmail,
    consume_token,
    current_business,
    db,
    issue_token,
    login_for_email,
    notify,
    open_login,
    peek_token,
    public_url,
    revoke_tokens,
    send_password_reset,
)
from plugins.portal.models import PortalApplication

SIGNUP_PURPOSE = "portal_signup"
SIGNUP_TTL = timedelta(days=1)


def self_registration_open() -> bool:
    return bool(current_business().policy("self_registration"))


def queues_unknown() -> bool:
    """True when the business queues sign-ups with an address it does not know, instead of refusing them."""
    return current_business().policy("unknown_signup_policy") == "queue"


def customer_with_email(email: str) -> int | None:
    """The customer who has this address on file."""
    return db.session.scalar(select(CustomerEmail.customer_id).where(CustomerEmail.email == email))


def start_signup(email: str, next_path: str | None = None) -> None:
    """Someone asked to sign up with ``email``: email them a link. In the caller's transaction.

    An address with a login already gets a link to choose a new password; any other address gets a link
    that proves it, after which it is told what follows (choose a password when it is on file, tell staff
    who you are when the business queues unknown addresses, or that it is not on file). Every branch does
    the same work, so neither the page nor its timing says which addresses are known.
    """
    email = email.strip().lower()
    existing = login_for_email(email)
    customer_id = customer_with_email(email)
    if existing is not None:
        send_password_reset(existing)
        return
    revoke_tokens(SIGNUP_PURPOSE, email=email)
    token = issue_token(SIGNUP_PURPOSE, ttl=SIGNUP_TTL, email=email, payload={"next": next_path})
    notify("portal_signup_confirm", to=email, customer_id=customer_id,
           context={"confirm_url": public_url("portal.signup_confirm", token=token)})


@dataclass(frozen=True)
class Signup:
    """A confirmed address and what it leads to: ``"login"`` (choose a password), ``"apply"`` (ask staff),
    ``"has_login"`` (sign in instead) or ``"unknown"`` (not on file, and not queued)."""

    email: str
    step: str
    customer_id: int | None
    next_path: str | None


def signup_for(token: str, *, use: bool = False) -> Signup | None:
    """What the sign-up link ``token`` leads to now; with ``use``, the link is used up. None when the link is
    used, expired, replaced or unknown."""
    link = consume_token(SIGNUP_PURPOSE, token) if use else peek_token(SIGNUP_PURPOSE, token)
    if link is None:
        return None
    customer_id = customer_with_email(link.email)
    if login_for_email(link.email) is not None:
        step = "has_login"
    elif customer_id is not None:
        step = "login"
    elif queues_unknown():
        step = "apply"
    else:
        step = "unknown"
    return Signup(email=link.email, step=step, customer_id=customer_id, next_path=link.payload.get("next"))


def finish_signup(signup: Signup, password: str):
    """The login for a confirmed, known address (``signup`` from a used link)."""
    return open_login(signup.customer_id, signup.email, password, how="signed up")


def apply(signup: Signup, *, name: str, phone: str | None, note: str | None) -> PortalApplication:
    """Queue a confirmed, unknown address for staff, who are emailed; applying again updates the waiting
    application instead of adding another."""
    application = db.session.scalar(select(PortalApplication).where(PortalApplication.email == signup.email,
                                                                    PortalApplication.status == "pending"))
    if application is None:
        application = PortalApplication(email=signup.email)
        db.session.add(application)
    application.name, application.phone, application.note = name.strip(), phone or None, note or None
    db.session.flush()
    office = current_business().email
    if office:
        review_url = public_url("portal_console.application", application_id=application.id)
        notify("portal_application_received", to=office,
               context={"applicant_name": application.name, "applicant_email": application.email,
                        "review_url": review_url})
    return application
