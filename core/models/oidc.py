"""Core as an OpenID Connect provider for the customer realm: signing keys, registered clients and
authorization codes, each owned by a business (each business is its own issuer)."""

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.types import UTCDateTime
from core.tenancy import TenantScoped, utcnow


class OidcSigningKey(TenantScoped, db.Model):
    """A key the business signs ID tokens with; the private half is sealed (``core.crypto``).

    The newest key that is not retired signs; a retired key stays published in the JWKS until every token
    it signed has expired, so a rotation never breaks a sign-in in flight.
    """

    __tablename__ = "oidc_signing_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    alg: Mapped[str] = mapped_column(String(16))
    public_jwk: Mapped[dict] = mapped_column(JSON)
    private_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OidcClient(TenantScoped, db.Model):
    """An application customers sign in to with their portal login: the help site (registered by its
    plugin) or one staff registered (an external help desk). Only the secret's hash is kept."""

    __tablename__ = "oidc_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(500))
    # The plugin that registered it for itself (None: registered by staff in the console).
    plugin_name: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the client last measured between its clock and ours (seconds, + when ours is ahead).
    clock_offset: Mapped[float | None] = mapped_column(Float)
    clock_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OidcAuthorizationCode(TenantScoped, db.Model):
    """A single-use authorization code, stored hashed. Kept after use: it records which clients a customer
    session signed in to, so signing out of the portal signs out of them too."""

    __tablename__ = "oidc_authorization_code"
    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_user_id: Mapped[int] = mapped_column(ForeignKey("customer_user.id", ondelete="CASCADE"))
    auth_session_id: Mapped[int] = mapped_column(ForeignKey("auth_session.id", ondelete="CASCADE"),
                                                 index=True)
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(200))
    nonce: Mapped[str | None] = mapped_column(String(255), index=True)
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    auth_time: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
