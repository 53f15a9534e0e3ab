"""Field work the customer can see in the portal: jobs, appointment requests, agreements, reservations."""

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from core.extensions import db
from core.models.customer import Customer
from core.models.types import UTCDateTime
from core.tenancy import TenantScoped, utcnow


class Job(TenantScoped, db.Model):
    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32), default="scheduled")  # requested/scheduled/done/canceled
    scheduled_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scheduled_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    internal_notes: Mapped[str | None] = mapped_column(Text)  # staff only
    cost: Mapped[int | None] = mapped_column(Integer)  # staff only, minor units
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship()


# When in the day a customer would like a visit, as they read it.
TIME_WINDOWS = {"morning": "Morning (8–12)", "afternoon": "Afternoon (12–5)", "evening": "Evening (5–8)",
                "any time": "Any time"}


class AppointmentRequest(TenantScoped, db.Model):
    """A customer asks for a visit; staff confirm a time (a job is scheduled) or propose another one."""

    __tablename__ = "appointment_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    service: Mapped[str] = mapped_column(String(200))
    preferred_date: Mapped[date | None] = mapped_column(Date)
    preferred_window: Mapped[str | None] = mapped_column(String(64))  # a TIME_WINDOWS key
    # Further choices after the first, best first: [{"date": "2026-07-02", "window": "morning"}, ...].
    other_preferences: Mapped[list] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    # requested, proposed (staff offered another time), scheduled, declined
    status: Mapped[str] = mapped_column(String(32), default="requested", index=True)
    proposed_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proposed_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply: Mapped[str | None] = mapped_column(Text)  # staff's words to the customer
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    job: Mapped["Job | None"] = relationship()

    @property
    def preferences(self) -> list[tuple[date, str | None]]:
        """Every preferred date with its time window, best first."""
        first = [(self.preferred_date, self.preferred_window)] if self.preferred_date else []
        others = [(date.fromisoformat(p["date"]), p.get("window")) for p in self.other_preferences or []]
        return first + others


class Agreement(TenantScoped, db.Model):
    __tablename__ = "agreement"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32), default="active")
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    document_name: Mapped[str | None] = mapped_column(String(255))
    document_mime: Mapped[str | None] = mapped_column(String(64))
    # Deferred: listing agreements must not pull every signed PDF out of the database.
    document: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reservation(TenantScoped, db.Model):
    __tablename__ = "reservation"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[int] = mapped_column(Integer, default=0)
    amount_paid: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(32), default="confirmed")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def balance(self) -> int:
        return self.total - self.amount_paid
