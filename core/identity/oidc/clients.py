"""The applications customers may sign in to with their portal login (OpenID Connect clients).

Staff register one in the console (an external help desk): its secret is shown once and only a hash is
kept. A plugin that is a client itself (the help site) gets one registered for it in each business on first
use, with a secret derived from the app's secret key, so nothing secret is stored for it either. Redirect
URIs are compared exactly, as registered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin, scope_to_list
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from core.identity.oidc.keys import ALGORITHM
from core.identity.tokens import hash_token
from core.models import OidcClient
from core.tenancy import require_business_id, utcnow

SCOPES = ("openid", "profile", "email")
TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


class ClientError(ValueError):
    """A client's details that cannot be used; the message says why, for the user."""


class RegisteredClient(ClientMixin):
    """A client row as Authlib's authorization server sees it."""

    id_token_signed_response_alg = ALGORITHM

    def __init__(self, row: OidcClient):
        self.row = row

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # every request names its redirect URI, compared exactly with the registered ones

    def get_allowed_scope(self, scope) -> str:
        return " ".join(s for s in scope_to_list(scope or "") if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(hash_token(client_secret), self.row.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in TOKEN_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"

    @property
    def client_metadata(self) -> dict:
        return {"post_logout_redirect_uris": list(self.row.post_logout_redirect_uris or [])}


def find_client(client_id: str | None) -> RegisteredClient | None:
    """The live client of the current business with this id."""
    if not client_id:
        return None
    row = db.session.scalar(select(OidcClient).where(OidcClient.client_id == client_id,
                                                     OidcClient.revoked_at.is_(None)))
    return RegisteredClient(row) if row is not None else None


def check_uri(text: str) -> str:
    """``text`` as an absolute address a client may be sent back to; ClientError saying why not."""
    uri = text.strip()
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ClientError(f"“{uri}” is not a full web address (it starts with https://).")
    if parts.fragment or "#" in uri:
        raise ClientError(f"“{uri}”: a redirect address cannot have a # part.")
    production = current_app.config.get("SUPRATA_ENV") == "production"
    if parts.scheme == "http" and production and parts.hostname not in LOCAL_HOSTS:
        raise ClientError(f"“{uri}” must use https://.")
    return uri


def check_uris(texts) -> list[str]:
    """Addresses from user input, one per entry (blank ones ignored); ClientError listing the problems."""
    uris, problems = [], []
    for text in texts:
        if not text.strip():
            continue
        try:
            uri = check_uri(text)
        except ClientError as exc:
            problems.append(str(exc))
            continue
        if uri not in uris:
            uris.append(uri)
    if problems:
        raise ClientError(" ".join(problems))
    return uris


def register_client(name: str, redirect_uris: list[str], *, post_logout_redirect_uris: list[str] = (),
                    backchannel_logout_uri: str | None = None) -> tuple[OidcClient, str]:
    """Register a client for the current business (caller's transaction): the row and its secret, which
    is shown once and never stored."""
    if not name.strip():
        raise ClientError("Give the application a name.")
    redirect_uris = check_uris(redirect_uris)
    if not redirect_uris:
        raise ClientError("Give at least one redirect address.")
    secret = secrets.token_urlsafe(32)
    row = OidcClient(client_id=secrets.token_urlsafe(16), name=name.strip(), secret_hash=hash_token(secret),
                     redirect_uris=redirect_uris,
                     post_logout_redirect_uris=check_uris(post_logout_redirect_uris),
                     backchannel_logout_uri=backchannel_logout_uri and check_uri(backchannel_logout_uri))
    db.session.add(row)
    db.session.flush()
    return row, secret


def revoke_client(row: OidcClient) -> None:
    """The client can no longer sign anyone in (caller's transaction)."""
    row.revoked_at = row.revoked_at or utcnow()


def plugin_client(plugin_name: str, *, name: str, redirect_uris: list[str],
                  post_logout_redirect_uris: list[str],
                  backchannel_logout_uri: str | None) -> tuple[str, str]:
    """The (client id, secret) of the client ``plugin_name`` is in the current business, registered or
    brought up to date with these addresses (they follow the plugin's settings). Commits when it changes
    anything."""
    business_id = require_business_id()
    client_id = f"{plugin_name}-{business_id}"
    secret = _derived_secret(client_id)
    wanted = {"name": name, "secret_hash": hash_token(secret), "redirect_uris": list(redirect_uris),
              "post_logout_redirect_uris": list(post_logout_redirect_uris),
              "backchannel_logout_uri": backchannel_logout_uri, "revoked_at": None}
    row = db.session.scalar(select(OidcClient).where(OidcClient.client_id == client_id))
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(OidcClient(client_id=client_id, plugin_name=plugin_name, **wanted))
        except IntegrityError:  # another request registered it at the same moment
            row = db.session.scalar(select(OidcClient).where(OidcClient.client_id == client_id))
        db.session.commit()
    if row is not None and any(getattr(row, field) != value for field, value in wanted.items()):
        for field, value in wanted.items():
            setattr(row, field, value)
        db.session.commit()
    return client_id, secret


def client_of_plugin(module_name: str, **addresses) -> tuple[str, str]:
    """:func:`plugin_client` for the plugin whose package holds ``module_name`` (pass ``__name__``)."""
    plugin_name = current_app.extensions["suprata"].plugins.plugin_owning(module_name)
    if plugin_name is None:
        raise LookupError(f"{module_name} belongs to no loaded plugin")
    return plugin_client(plugin_name, **addresses)


def _derived_secret(client_id: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"oidc client secret {client_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def report_clock_offset(client_id: str, offset_seconds: float) -> None:
    """A client measured how far its clock is from ours (+ when ours is ahead); staff see it when it is
    beyond the leeway. Caller's transaction."""
    row = db.session.scalar(select(OidcClient).where(OidcClient.client_id == client_id))
    if row is not None:
        row.clock_offset = round(offset_seconds, 3)
        row.clock_checked_at = utcnow()


def clock_alerts() -> list[OidcClient]:
    """Clients whose last measured clock offset is beyond the leeway: sign-ins to them fail."""
    leeway = current_app.config["SUPRATA_SSO_LEEWAY_SECONDS"]
    rows = db.session.scalars(select(OidcClient).where(OidcClient.revoked_at.is_(None),
                                                       OidcClient.clock_offset.is_not(None)))
    return [row for row in rows if abs(row.clock_offset) > leeway]
