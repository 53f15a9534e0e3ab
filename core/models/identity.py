"""Logins of both realms, their server-side sessions, and single-use action tokens."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.customer import Customer
from core.models.types import UTCDateTime
from core.tenancy import TenantScoped, utcnow


class _Login:
    """What Flask-Login needs from a user; the id it sees is the realm session, not the user."""

    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:  # Flask-Login: we never use its cookie-based remember-me.
        return f"{self.realm}:{self.id}"


class StaffUser(_Login, TenantScoped, db.Model):
    __tablename__ = "staff_user"
    __table_args__ = (UniqueConstraint("business_id", "email"),)
    realm = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    # What the member may do in the console (core.identity.roles); a business's first member is its owner.
    role: Mapped[str] = mapped_column(String(32), default="support")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CustomerUser(_Login, TenantScoped, db.Model):
    """A customer's portal login, always linked to an existing customer record."""

    __tablename__ = "customer_user"
    __table_args__ = (UniqueConstraint("business_id", "email"),)
    realm = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship()


class AuthSession(TenantScoped, db.Model):
    """A revocable login session of either realm; the cookie carries a random token, we keep its hash."""

    __tablename__ = "auth_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    realm: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class ActionToken(TenantScoped, db.Model):
    """A single-use, expiring token sent by email (invitations, confirmations, resets); stored hashed."""

    __tablename__ = "action_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(64), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    email: Mapped[str | None] = mapped_column(String(255))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
