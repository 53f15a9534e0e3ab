"""The durable notification outbox, the business's own versions of message templates, who it tells about what,
and its DKIM keys."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.types import SealedJSON, SealedText, UTCDateTime
from core.tenancy import TenantScoped, utcnow

# pending: waiting for (another) delivery attempt; sending: claimed by a worker until lease_until;
# sent: delivered; failed: retries exhausted, shown to staff; skipped: nothing to send it to; bounced: sent,
# then reported undeliverable by the receiving mail server.
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "skipped", "bounced")


class OutboxMessage(TenantScoped, db.Model):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))  # "email", "sms", ...
    template_key: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(255))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer.id", ondelete="SET NULL"), index=True
    )
    # The variables and the rendered text may hold live links (pay links, password links): sealed at rest.
    context: Mapped[dict] = mapped_column(SealedJSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set when the business's template failed and the default was used instead.
    template_error: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(String(500))  # as rendered on the last attempt
    body_text: Mapped[str | None] = mapped_column(SealedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_ref: Mapped[str | None] = mapped_column(String(255))


class NotificationTemplate(TenantScoped, db.Model):
    """A business's own wording for one message; absent means the built-in default is used. One body, in
    Markdown with the template's variables, from which both the text and the HTML parts are made."""

    __tablename__ = "notification_template"
    __table_args__ = (UniqueConstraint("business_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(500))
    body_text: Mapped[str] = mapped_column(Text)
    # Below the account-access link, in messages that carry one (core places the link between the two).
    body_text_after: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationSetting(TenantScoped, db.Model):
    """Who a business tells about one event, and on which channels; absent means the event's defaults."""

    __tablename__ = "notification_setting"
    __table_args__ = (UniqueConstraint("business_id", "event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(64))
    customer_channels: Mapped[list] = mapped_column(JSON, default=list)
    business_channels: Mapped[list] = mapped_column(JSON, default=list)
    options: Mapped[dict] = mapped_column(JSON, default=dict)  # e.g. a reminder's lead time
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CustomerChannelChoice(TenantScoped, db.Model):
    """The channels a customer chose for one event, among those the business offers."""

    __tablename__ = "customer_channel_choice"
    __table_args__ = (UniqueConstraint("business_id", "customer_id", "event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(64))
    channels: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ReminderSent(TenantScoped, db.Model):
    """A reminder that went out, so each one is sent once (``ref`` names what it was about, and when)."""

    __tablename__ = "reminder_sent"
    __table_args__ = (UniqueConstraint("business_id", "event", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(String(128))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DkimKey(TenantScoped, db.Model):
    """A business's DKIM signing key for one sending domain; the newest one signs."""

    __tablename__ = "dkim_key"
    __table_args__ = (UniqueConstraint("business_id", "domain", "selector"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(255))
    selector: Mapped[str] = mapped_column(String(63))
    private_key: Mapped[str] = mapped_column(SealedText)  # PEM; reads None if the secret key changed
    public_key: Mapped[str] = mapped_column(Text)  # base64 DER, as published in DNS
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
