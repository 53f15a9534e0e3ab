"""Who is on a business's staff, with which role, and the rule that a business always keeps an owner.

The first staff member of a business is its owner, whichever tool adds them (``suprata create-staff``, the
demo seed, tests); later members get the role they are given. Demoting or deactivating the last active
owner is refused. Each decision is taken under a lock on the business's row, so two owners demoting each
other at the same moment cannot leave the business with none.
"""

from __future__ import annotations

from sqlalchemy import func, select

from core.database import lock_row
from core.extensions import db
from core.identity.roles import DEFAULT_ROLE, OWNER, ROLES
from core.models import Business, StaffUser
from core.tenancy import require_business_id


class StaffRuleError(ValueError):
    """A change to the staff that would break a rule; the message is for the person who asked."""


def add_staff_member(*, email: str, name: str, password_hash: str = "", role: str | None = None) -> StaffUser:
    """Add a member to the current business in the caller's transaction (flushed, not committed).

    The first member is the owner (``role`` may be None or ``"owner"``); later ones get ``role``, or the
    least role when None. An empty ``password_hash`` means invited: nothing verifies against it.
    """
    lock_row(Business, require_business_id())
    first = db.session.scalar(select(func.count(StaffUser.id))) == 0
    if first and role not in (None, OWNER):
        raise StaffRuleError("The first staff member of a business is its owner.")
    role = OWNER if first else (role or DEFAULT_ROLE)
    _check_role(role)
    member = StaffUser(email=email.strip().lower(), name=name.strip(), password_hash=password_hash, role=role)
    db.session.add(member)
    db.session.flush()
    return member


def change_role(member: StaffUser, role: str) -> None:
    """Give ``member`` another role, keeping at least one active owner; in the caller's transaction."""
    _check_role(role)
    if member.role == OWNER and role != OWNER:
        _keep_an_owner_besides(member, "demote")
    member.role = role


def deactivate(member: StaffUser) -> None:
    """Stop ``member`` logging in, keeping at least one active owner; in the caller's transaction."""
    if member.role == OWNER:
        _keep_an_owner_besides(member, "deactivate")
    member.active = False


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise StaffRuleError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")


def _keep_an_owner_besides(member: StaffUser, action: str) -> None:
    lock_row(Business, require_business_id())
    # An owner who has not chosen a password yet cannot log in, so does not count.
    others = db.session.scalar(
        select(func.count(StaffUser.id)).where(
            StaffUser.role == OWNER, StaffUser.active.is_(True), StaffUser.password_hash != "",
            StaffUser.id != member.id,
        )
    )
    if not others:
        raise StaffRuleError(
            f"You can't {action} {member.name}: a business always keeps at least one active owner. "
            "Make someone else an owner first."
        )
