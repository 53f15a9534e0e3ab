"""Secret tokens for links: 256 random bits, stored only as a SHA-256 hash, single use, expiring."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from core.extensions import db
from core.models import ActionToken
from core.tenancy import utcnow


def new_token() -> tuple[str, str]:
    """A fresh token and its hash. The token goes in the link; only the hash is stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    # A plain hash suffices: the token has 256 bits of entropy, so there is nothing to brute-force.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue(purpose: str, *, ttl: timedelta, customer_id: int | None = None, email: str | None = None,
          payload: dict | None = None) -> str:
    """Create an action token in the caller's transaction and return the secret to put in a link."""
    token, token_hash = new_token()
    db.session.add(
        ActionToken(
            purpose=purpose,
            token_hash=token_hash,
            customer_id=customer_id,
            email=email,
            payload=payload or {},
            expires_at=utcnow() + ttl,
        )
    )
    return token


def peek(purpose: str, token: str) -> ActionToken | None:
    """The live token for showing a form (not consumed); None when unknown, used, revoked or expired."""
    row = db.session.scalar(select(ActionToken).where(ActionToken.token_hash == hash_token(token)))
    if row is None or row.purpose != purpose or row.used_at or row.revoked_at or row.expires_at <= utcnow():
        return None
    return row


def consume(purpose: str, token: str) -> ActionToken | None:
    """Use a token exactly once, even when two requests race: only one UPDATE can match."""
    now = utcnow()
    result = db.session.execute(
        update(ActionToken)
        .where(
            ActionToken.token_hash == hash_token(token),
            ActionToken.purpose == purpose,
            ActionToken.used_at.is_(None),
            ActionToken.revoked_at.is_(None),
            ActionToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    return db.session.scalar(select(ActionToken).where(ActionToken.token_hash == hash_token(token)))


def revoke_all(purpose: str, *, customer_id: int | None = None, email: str | None = None) -> None:
    """Revoke outstanding tokens of a purpose (e.g. older invitations when a new one is sent)."""
    conditions = [
        ActionToken.purpose == purpose, ActionToken.used_at.is_(None), ActionToken.revoked_at.is_(None)
    ]
    if customer_id is not None:
        conditions.append(ActionToken.customer_id == customer_id)
    if email is not None:
        conditions.append(ActionToken.email == email)
    db.session.execute(
        update(ActionToken).where(*conditions).values(revoked_at=utcnow()).execution_options(
            synchronize_session=False
        )
    )
