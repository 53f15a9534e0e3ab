"""The SMS plugin's own tables. All are tenant tables: scoped to the current business like core's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.plugin_api import TenantScoped, UTCDateTime, db, utcnow

# Twilio's message statuses in the order they happen; the terminal ones share a rank, so the first of them
# to arrive stays.
STATUS_RANK = {"accepted": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4, "undelivered": 4,
               "failed": 4, "read": 5, "received": 5}


class SmsVerification(TenantScoped, db.Model):
    """A code texted to prove a phone is the customer's. Only the newest of a phone's codes counts."""

    __tablename__ = "sms_twilio_verification"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_id: Mapped[int] = mapped_column(ForeignKey("customer_phone.id", ondelete="CASCADE"), index=True)
    # HMAC of the code under the app's secret key: six digits are too few to survive a plain hash.
    code_hash: Mapped[str] = mapped_column(String(64))
    started_by: Mapped[str] = mapped_column(String(16))  # "staff" or "customer"
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SmsMessage(TenantScoped, db.Model):
    """A text through Twilio, out or in, by its message SID: its delivery status, or what the customer wrote.

    Status callbacks move ``status`` forward only (see :data:`STATUS_RANK`); an inbound text is recorded
    once, however often Twilio retries its webhook.
    """

    __tablename__ = "sms_twilio_message"
    __table_args__ = (UniqueConstraint("business_id", "sid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(8), default="out")  # "out" or "in"
    number: Mapped[str] = mapped_column(String(32))  # the customer's side
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"),
                                                    index=True)
    outbox_message_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)  # inbound texts only: outbound bodies stay in the outbox
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
