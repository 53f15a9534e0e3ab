"""One timeline per customer across every surface, and the audit trail of staff and money actions."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.types import UTCDateTime
from core.tenancy import TenantScoped, utcnow

# Where an event happened, as staff read it on a timeline.
SURFACES = {"pay_link": "Pay link", "portal": "Portal", "help": "Help site", "console": "Console",
            "system": "System", "sms": "Text message"}


class ActivityEvent(TenantScoped, db.Model):
    __tablename__ = "activity_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    surface: Mapped[str] = mapped_column(String(32))  # a SURFACES key, or a plugin's own
    kind: Mapped[str] = mapped_column(String(64))  # invoice.viewed, payment.captured, ticket.submitted, ...
    summary: Mapped[str] = mapped_column(String(500))
    ref: Mapped[dict] = mapped_column(JSON, default=dict)  # {"invoice_id": 3}, for links on the timeline

    @property
    def surface_label(self) -> str:
        return SURFACES.get(self.surface, self.surface)


class AuditEntry(TenantScoped, db.Model):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(255))  # "Dana Ortiz", "customer via pay link", "autopay"
    action: Mapped[str] = mapped_column(String(64))  # invoice.voided, payment.refunded, ...
    target: Mapped[str] = mapped_column(String(255))  # "invoice INV-0003"
    details: Mapped[dict] = mapped_column(JSON, default=dict)
