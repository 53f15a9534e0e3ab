"""Server-side, revocable login sessions for the two realms, plugged into Flask-Login.

Each realm has its own cookie holding a random token; the database keeps its hash. Which realm a request
belongs to is decided by the blueprint that serves it (``bp.realm``), so a staff cookie never authenticates a
customer page and a customer cookie never opens the console. Sessions rotate on login, end on logout and
password change, and expire after an idle period and an absolute lifetime.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, request
from flask_login import AnonymousUserMixin
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from core.extensions import db, login_manager
from core.identity.tokens import hash_token, new_token
from core.models import AuthSession, CustomerUser, StaffUser
from core.tenancy import current_business_id, utcnow

COOKIE_NAMES = {"staff": "suprata_staff", "customer": "suprata_customer"}
USER_MODELS = {"staff": StaffUser, "customer": CustomerUser}
# Loaded with the user, so a customer page knows its customer without another query.
_USER_LOADS = {"staff": (), "customer": (joinedload(CustomerUser.customer),)}
# Refresh last_seen_at at most this often: an idle timeout needs minutes, not a write per request.
TOUCH_INTERVAL = timedelta(seconds=60)


class Anonymous(AnonymousUserMixin):
    realm = None


def request_realm() -> str | None:
    """The login realm of the current request's blueprint (None for public pages)."""
    realms = current_app.extensions["suprata"].blueprint_realms
    return realms.get(request.blueprint)


def _cookie_path() -> str:
    # Businesses served under /b/<slug> in development each get their own cookie.
    return (request.script_root or "") + "/"


def _load_session(realm: str):
    """The live session of ``realm`` that the request's cookie names, with its user, in one query."""
    token = request.cookies.get(COOKIE_NAMES[realm])
    if not token or current_business_id() is None:
        return None, None
    model = USER_MODELS[realm]
    row = db.session.execute(
        select(AuthSession, model)
        .join(model, model.id == AuthSession.user_id)
        .where(AuthSession.token_hash == hash_token(token), AuthSession.realm == realm)
        .options(*_USER_LOADS[realm])
    ).first()
    if row is None:
        return None, None
    session_row, user = row
    now = utcnow()
    config = current_app.config
    if session_row.revoked_at is not None or not user.active:
        return None, None
    if now - session_row.created_at > timedelta(hours=config["SUPRATA_SESSION_MAX_HOURS"]):
        return None, None
    if now - session_row.last_seen_at > timedelta(minutes=config["SUPRATA_SESSION_IDLE_MINUTES"]):
        return None, None
    if now - session_row.last_seen_at > TOUCH_INTERVAL:
        session_row.last_seen_at = now
        db.session.commit()
    return session_row, user


@login_manager.request_loader
def _load_user_from_request(_request):
    realm = request_realm()
    if realm is None:
        return None
    session_row, user = _load_session(realm)
    if session_row is None:
        return None
    g.auth_session = session_row
    return user


def signed_in_user(realm: str):
    """The user signed in to ``realm`` on this request's cookie, whatever realm the page belongs to.

    For a public page that changes with a login (a pay link whose business wants customers signed in
    before they pay); pages of a realm use ``current_user``.
    """
    return _load_session(realm)[1]


def start_session(user) -> None:
    """Log ``user`` in: a brand-new session (rotating any previous one), cookie set on the response."""
    realm = user.realm
    old_token = request.cookies.get(COOKIE_NAMES[realm])
    if old_token:
        _revoke_where(AuthSession.token_hash == hash_token(old_token))
    token, token_hash = new_token()
    db.session.add(
        AuthSession(
            token_hash=token_hash,
            realm=realm,
            user_id=user.id,
            ip=request.remote_addr,
            user_agent=(request.user_agent.string or "")[:300],
        )
    )
    db.session.commit()
    g.set_realm_cookie = (COOKIE_NAMES[realm], token)
    g._login_user = user  # Flask-Login's per-request user cache: the rest of this request is logged in


def end_session(realm: str) -> None:
    """Log out of one realm: the server-side session is revoked, the cookie removed."""
    token = request.cookies.get(COOKIE_NAMES[realm])
    if token:
        _revoke_where(AuthSession.token_hash == hash_token(token))
        db.session.commit()
    g.set_realm_cookie = (COOKIE_NAMES[realm], None)
    g._login_user = Anonymous()


def revoke_user_sessions(user, *, keep_current: bool = False) -> None:
    """End every session of a user (password change, deactivation), optionally keeping this one."""
    conditions = [AuthSession.realm == user.realm, AuthSession.user_id == user.id]
    current = g.get("auth_session")
    if keep_current and current is not None:
        conditions.append(AuthSession.id != current.id)
    _revoke_where(*conditions)


def _revoke_where(*conditions) -> None:
    db.session.execute(
        update(AuthSession)
        .where(AuthSession.revoked_at.is_(None), *conditions)
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def apply_realm_cookie(response):
    """after_request: write or delete the realm cookie decided during the request."""
    decided = g.pop("set_realm_cookie", None)
    if decided is None:
        return response
    name, token = decided
    config = current_app.config
    if token is None:
        response.delete_cookie(name, path=_cookie_path())
    else:
        response.set_cookie(
            name,
            token,
            path=_cookie_path(),
            secure=config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
            max_age=config["SUPRATA_SESSION_MAX_HOURS"] * 3600,
        )
    return response
