"""Back-channel logout: when a customer signs out of the portal, every client their session signed in to
is told, server to server, with a signed logout token (OpenID Connect Back-Channel Logout 1.0).

The clients a session signed in to are the ones it was issued authorization codes for. Each notice is a
background task, written in the sign-out's transaction and retried while the client cannot be reached.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import requests
from flask import current_app
from joserfc import jwt
from sqlalchemy import select

from core.background.tasks import background_task
from core.extensions import db
from core.identity.oidc import keys
from core.models import AuthSession, OidcAuthorizationCode, OidcClient
from core.tenancy.state import current_business
from core.tenancy.urls import business_base_url

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TTL = 120
DELIVERY_TIMEOUT_SECONDS = 5


def session_sid(auth_session_id: int) -> str:
    """The ``sid`` clients know a customer's login session by: stable for the session, and telling nothing
    about how many sessions there are."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"oidc sid {auth_session_id}".encode(), hashlib.sha256).hexdigest()[:32]


def tell_clients(sessions: list[AuthSession]) -> None:
    """Queue a logout notice to every client these sessions signed in to (caller's transaction)."""
    if not sessions:
        return
    by_id = {row.id: row for row in sessions}
    signed_in = db.session.execute(
        select(OidcAuthorizationCode.auth_session_id, OidcAuthorizationCode.client_id)
        .where(OidcAuthorizationCode.auth_session_id.in_(by_id), OidcAuthorizationCode.used_at.is_not(None))
        .distinct()
    ).all()
    for session_id, client_id in signed_in:
        deliver_logout.enqueue(client_id, session_sid(session_id), str(by_id[session_id].user_id))


def logout_token(client_id: str, sid: str, sub: str) -> str:
    """A signed logout token for ``client_id`` naming the session and the customer."""
    key = keys.signing_key()
    now = int(time.time())
    claims = {"iss": business_base_url(current_business()), "aud": client_id, "iat": now,
              "exp": now + LOGOUT_TOKEN_TTL, "jti": secrets.token_urlsafe(16), "sub": sub, "sid": sid,
              "events": {LOGOUT_EVENT: {}}}
    header = {"alg": keys.ALGORITHM, "kid": key.kid, "typ": "logout+jwt"}
    return jwt.encode(header, claims, keys.private_key(key))


@background_task(max_attempts=6)
def deliver_logout(client_id: str, sid: str, sub: str) -> None:
    """Post a logout token to the client's back-channel logout address (retried while it fails)."""
    client = db.session.scalar(select(OidcClient).where(OidcClient.client_id == client_id))
    if client is None or client.revoked_at is not None or not client.backchannel_logout_uri:
        return
    token = logout_token(client_id, sid, sub)
    response = requests.post(client.backchannel_logout_uri, data={"logout_token": token},
                             timeout=DELIVERY_TIMEOUT_SECONDS)
    response.raise_for_status()
