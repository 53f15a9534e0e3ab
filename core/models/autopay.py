"""Autopay: the customer's recorded consent, each charge of an invoice's ladder, and reminders sent."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.types import UTCDateTime
from core.tenancy import TenantScoped, utcnow

# How a customer said yes to autopay: ticking the box in the portal, or out loud to a staff member.
CONSENT_CHANNELS = {"portal": "In the portal", "phone": "By phone"}


class AutopayConsent(TenantScoped, db.Model):
    """A customer's yes to having invoices charged automatically: when, how, and the words of it.

    Kept for good: switching autopay off withdraws the consent (``withdrawn_at``) without deleting it.
    """

    __tablename__ = "autopay_consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # a CONSENT_CHANNELS key
    # The wording the customer agreed to in the portal, or what staff noted was said on the phone.
    wording: Mapped[str] = mapped_column(Text)
    # The staff member who heard it, for consent given by phone.
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff_user: Mapped["StaffUser | None"] = relationship()  # noqa: F821 (core.models.identity)


# pending: to charge at next_attempt_at; charging: claimed by a worker until lease_until; done: settled (see
# outcome); failed: the processor could not be reached on any try, told to staff.
AUTOPAY_ATTEMPT_STATUSES = ("pending", "charging", "done", "failed")
# succeeded: paid; declined: the card was declined; action_required: the bank wants the customer to confirm
# the payment themselves; skipped: nothing to charge any more (paid, voided, autopay switched off).
AUTOPAY_OUTCOMES = ("succeeded", "declined", "action_required", "skipped")


class AutopayAttempt(TenantScoped, db.Model):
    """One automatic charge of an invoice: number 1 when it is issued, then one per step of the retry ladder.

    A work row (:mod:`core.background.leases`): a worker claims it before charging, so two workers never
    charge the same attempt, and the unique (invoice, number) stops a second row for the same step. Its
    payment carries the idempotency key of this attempt, so charging it again after a crash or a timeout
    gets the processor's first answer instead of a second charge.
    """

    __tablename__ = "autopay_attempt"
    __table_args__ = (UniqueConstraint("invoice_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    decline_code: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InvoiceReminder(TenantScoped, db.Model):
    """A reminder of an unpaid invoice, sent once: ``day`` days after its due date (negative: before)."""

    __tablename__ = "invoice_reminder"
    __table_args__ = (UniqueConstraint("invoice_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"), index=True)
    day: Mapped[int] = mapped_column(Integer)
    # The queued message, so a payment can stop it if it has not gone out yet.
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
