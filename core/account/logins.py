"""Customer logins: opening one for a customer record, signing in and out, password links, and confirming
the email address a login uses.

Each function works in the caller's transaction unless it says it commits. Plugins reach the ones that turn
a proven email address into a login through ``core.plugin_api``.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.activity import record
from core.extensions import db
from core.identity import tokens
from core.identity.login import find_by_email
from core.identity.passwords import hash_password
from core.identity.sessions import end_session, revoke_user_sessions, start_session
from core.models import CustomerEmail, CustomerUser
from core.notifications.outbox import enqueue
from core.tenancy import utcnow
from core.tenancy.urls import public_url_for

RESET_PURPOSE = "customer_password"
RESET_TTL = timedelta(hours=1)
CONFIRM_PURPOSE = "customer_email"
CONFIRM_TTL = timedelta(days=2)


def login_for_email(email: str) -> CustomerUser | None:
    """The customer login of the current business that uses this email address (any case)."""
    return find_by_email(CustomerUser, email)


def login_of_customer(customer_id: int) -> CustomerUser | None:
    """A login linked to the customer record, if it has one."""
    return db.session.scalar(select(CustomerUser).where(CustomerUser.customer_id == customer_id).limit(1))


def open_login(customer_id: int, email: str, password: str, *, how: str) -> CustomerUser:
    """A new login for the customer record, its email address confirmed: only call it once the person proved
    the address (they followed a link sent to it). ``how`` says how in the timeline ("signed up")."""
    email = email.strip().lower()
    user = CustomerUser(customer_id=customer_id, email=email, password_hash=hash_password(password),
                        email_confirmed_at=utcnow())
    db.session.add(user)
    db.session.flush()
    _mark_verified(customer_id, email)
    record(customer_id, surface="portal", kind="account.created", summary=f"Created a portal login ({how})")
    return user


def sign_in(user: CustomerUser) -> None:
    """Start a new session for ``user`` on this browser and note it on the timeline; commits."""
    record(user.customer_id, surface="portal", kind="account.login", summary="Logged in to the portal")
    start_session(user)


def sign_out() -> None:
    """End this browser's customer session; commits."""
    end_session("customer")


def sign_out_everywhere(user: CustomerUser) -> None:
    """End every session of ``user``, on every device, this one included; commits."""
    revoke_user_sessions(user)
    record(user.customer_id, surface="portal", kind="account.logout_all", summary="Logged out of all devices")
    end_session("customer")


def send_password_reset(user: CustomerUser) -> None:
    """Email ``user`` a link to choose a new password; earlier links stop working."""
    tokens.revoke_all(RESET_PURPOSE, customer_id=user.customer_id)
    token = tokens.issue(RESET_PURPOSE, ttl=RESET_TTL, customer_id=user.customer_id, email=user.email,
                         payload={"customer_user_id": user.id})
    enqueue("customer_password_reset", to=user.email, customer_id=user.customer_id,
            context={"reset_url": public_url_for("account.reset_password", token=token),
                     "expires_at": (utcnow() + RESET_TTL).isoformat()})


def login_for_link(purpose: str, link) -> CustomerUser | None:
    """The active login a live token of ``purpose`` was issued for."""
    if link is None:
        return None
    user = db.session.get(CustomerUser, link.payload.get("customer_user_id"))
    if user is None or not user.active or user.customer_id != link.customer_id:
        return None
    if purpose == RESET_PURPOSE and user.email != link.email:
        return None  # the address changed since: the link went to the old one
    return user


def send_confirmation(user: CustomerUser, email: str | None = None) -> None:
    """Email a link that confirms ``email`` (by default the login's own) for ``user``.

    Asking to move a login to an address another login uses sends that address a note saying so instead, so
    the answer on the page cannot tell anyone which addresses have logins here.
    """
    email = (email or user.email).strip().lower()
    tokens.revoke_all(CONFIRM_PURPOSE, customer_id=user.customer_id)
    taken = email != user.email and login_for_email(email) is not None
    if taken:
        enqueue("customer_email_taken", to=email, context={})
        return
    token = tokens.issue(CONFIRM_PURPOSE, ttl=CONFIRM_TTL, customer_id=user.customer_id, email=email,
                         payload={"customer_user_id": user.id})
    enqueue("customer_email_confirmation", to=email, customer_id=user.customer_id,
            context={"confirm_url": public_url_for("account.confirm_email", token=token),
                     "is_change": email != user.email})


def confirm_email(token: str) -> CustomerUser | None:
    """Use a confirmation link: the login's address is confirmed, or moved to the new one it was sent to.

    None when the link is not live, or the address was taken by another login meanwhile. The old address is
    told of a move, so a change its owner did not make does not go unnoticed.
    """
    link = tokens.consume(CONFIRM_PURPOSE, token)
    user = login_for_link(CONFIRM_PURPOSE, link)
    if user is None:
        return None
    if link.email != user.email:
        if login_for_email(link.email) is not None:
            return None
        enqueue("customer_email_changed", to=user.email, customer_id=user.customer_id,
                context={"new_email": link.email})
        record(user.customer_id, surface="portal", kind="account.email_changed",
               summary=f"Changed the portal login's email address to {link.email}")
        user.email = link.email
        tokens.revoke_all(RESET_PURPOSE, customer_id=user.customer_id)
    user.email_confirmed_at = utcnow()
    _mark_verified(user.customer_id, user.email)
    return user


def _mark_verified(customer_id: int, email: str) -> None:
    """The person proved they read this address: if it is on the customer's record, it is verified."""
    on_file = db.session.scalar(select(CustomerEmail).where(CustomerEmail.customer_id == customer_id,
                                                            CustomerEmail.email == email))
    if on_file is not None and on_file.verified_at is None:
        on_file.verified_at = utcnow()
