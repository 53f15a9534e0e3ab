"""The portal's own table: sign-ups with an email address that is not on file, waiting for staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.plugin_api import TenantScoped, UTCDateTime, db, utcnow

APPLICATION_STATUSES = ("pending", "approved", "declined")


class PortalApplication(TenantScoped, db.Model):
    """Someone who proved an email address we do not know and asked for an account; staff approve (linking it
    to a customer record, old or new) or decline."""

    __tablename__ = "portal_application"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"))
