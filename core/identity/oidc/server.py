"""Authlib's authorization server, set up for the customer realm.

Only the authorization code grant is registered, so implicit and hybrid requests get
``unsupported_response_type`` and the password grant ``unsupported_grant_type``. PKCE is required with
S256 (a missing challenge, or ``plain``, is refused), every request carries a nonce, and a code works once,
for at most :data:`CODE_TTL`. ID tokens are signed with the business's key (:mod:`.keys`) and name the
business as issuer, the client as audience, and the customer's login session (``sid``), which back-channel
logout refers to.
"""

from __future__ import annotations

import time
from datetime import timedelta

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidRequestError, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.rpinitiated import EndSessionEndpoint
from flask import g
from sqlalchemy import exists, select, update

from core.extensions import db
from core.identity.oidc import backchannel, keys
from core.identity.oidc.clients import TOKEN_AUTH_METHODS, find_client
from core.identity.tokens import hash_token
from core.models import AuthSession, CustomerUser, OidcAuthorizationCode
from core.tenancy import utcnow
from core.tenancy.state import current_business
from core.tenancy.urls import business_base_url

CODE_TTL = timedelta(minutes=5)  # the standard allows ten at most


def issuer() -> str:
    """The current business's issuer identifier: its public address."""
    return business_base_url(current_business())


class StoredCode:
    """An authorization code row as Authlib's grants read it."""

    def __init__(self, row: OidcAuthorizationCode):
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return self.row.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(TOKEN_AUTH_METHODS)

    def save_authorization_code(self, code: str, request) -> None:
        data = request.payload.data
        session_row = g.auth_session
        db.session.add(OidcAuthorizationCode(
            code_hash=hash_token(code), client_id=request.client.get_client_id(),
            customer_user_id=request.user.id, auth_session_id=session_row.id,
            redirect_uri=request.payload.redirect_uri, scope=request.scope, nonce=data.get("nonce"),
            code_challenge=data["code_challenge"], code_challenge_method=data["code_challenge_method"],
            auth_time=int(session_row.created_at.timestamp()), expires_at=utcnow() + CODE_TTL,
        ))
        db.session.commit()

    def query_authorization_code(self, code: str, client) -> StoredCode | None:
        # Claimed here, in one UPDATE, so two requests racing with the same code cannot both win.
        now = utcnow()
        claimed = db.session.execute(
            update(OidcAuthorizationCode)
            .where(OidcAuthorizationCode.code_hash == hash_token(code),
                   OidcAuthorizationCode.client_id == client.get_client_id(),
                   OidcAuthorizationCode.used_at.is_(None), OidcAuthorizationCode.expires_at > now)
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if claimed.rowcount != 1:
            return None
        return StoredCode(db.session.scalar(
            select(OidcAuthorizationCode).where(OidcAuthorizationCode.code_hash == hash_token(code))))

    def delete_authorization_code(self, authorization_code: StoredCode) -> None:
        """Kept, marked used: it records which clients the customer's session signed in to."""

    def authenticate_user(self, authorization_code: StoredCode) -> CustomerUser | None:
        row = authorization_code.row
        session_row = db.session.get(AuthSession, row.auth_session_id)
        if session_row is None or session_row.revoked_at is not None:
            return None  # signed out of the portal between the redirect and this exchange
        user = db.session.get(CustomerUser, row.customer_user_id)
        if user is None or not user.active:
            return None
        g.oidc_code = row
        return user


class S256Challenge(CodeChallenge):
    """PKCE with S256 only: no challenge, or a ``plain`` one (what a missing method means), is refused."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE with S256 is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Unsupported 'code_challenge_method': only S256 is accepted.")
        super().validate_code_challenge(grant, redirect_uri)


class IdTokens(OpenIDCode):
    def exists_nonce(self, nonce: str, request) -> bool:
        return db.session.scalar(select(exists().where(
            OidcAuthorizationCode.nonce == nonce,
            OidcAuthorizationCode.client_id == request.payload.client_id)))

    def _key(self):
        if "oidc_key" not in g:
            g.oidc_key = keys.signing_key()
        return g.oidc_key

    def resolve_client_private_key(self, client):
        return keys.private_key(self._key())

    def get_client_algorithm(self, client) -> str:
        return keys.ALGORITHM

    def get_encode_header(self, client) -> dict:
        return {"alg": keys.ALGORITHM, "kid": self._key().kid, "typ": "JWT"}

    def get_client_claims(self, client) -> dict:
        return {"iss": issuer(), "aud": client.get_client_id(),
                "exp": int(time.time() + keys.ID_TOKEN_TTL.total_seconds())}

    def get_authorization_code_claims(self, authorization_code: StoredCode) -> dict:
        claims = super().get_authorization_code_claims(authorization_code)
        claims["sid"] = backchannel.session_sid(authorization_code.row.auth_session_id)
        return claims

    def generate_user_info(self, user: CustomerUser, scope: str) -> UserInfo:
        info = UserInfo(sub=str(user.id))
        if "profile" in scope:
            info["name"] = user.customer.name
        if "email" in scope:
            info["email"] = user.email
            info["email_verified"] = user.email_confirmed_at is not None
        return info


class EndSession(EndSessionEndpoint):
    def get_server_jwks(self):
        return keys.verification_keys()

    def get_algorithms(self) -> list[str]:
        return [keys.ALGORITHM]

    def end_session(self, end_session_request) -> None:
        claims = end_session_request.id_token_claims
        if claims is not None and claims.get("iss") != issuer():
            raise InvalidRequestError("The ID token was issued by another business.")
        g.oidc_end_session = True  # the view signs the customer out: it owns the login's cookie


def _save_token(token, request) -> None:
    """Access tokens are not kept: the ID token is what clients use, and no API accepts them."""


authorization = AuthorizationServer()
authorization.register_grant(CodeGrant, [IdTokens(require_nonce=True), S256Challenge(required=True)])
authorization.register_endpoint(EndSession)


def init_app(app) -> None:
    app.config.setdefault("OAUTH2_TOKEN_EXPIRES_IN", {"authorization_code": 300})
    authorization.init_app(app, query_client=find_client, save_token=_save_token)
