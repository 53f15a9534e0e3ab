"""Payments, refunds and saved payment methods (only the processor's references are kept)."""

from datetime import date, datetime, timedelta

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.invoice import Invoice
from core.models.types import UTCDateTime
from core.tenancy import TenantScoped, utcnow

# expiring: its checkout page is being closed at the processor (the invoice was paid, voided or changed, or a
# newer page replaces it); unapplied: money received that could not be applied to its invoice (see
# core.money.payments.ledger), refunded automatically or held for staff; reversed: a payment staff recorded by
# hand and took back (core.money.payments.offline).
PAYMENT_STATUSES = ("pending", "expiring", "succeeded", "failed", "canceled", "unapplied", "reversed")
# Where a payment was started, as staff read it.
PAYMENT_SOURCES = {"pay_link": "Pay link", "portal": "Customer portal", "staff": "Staff",
                   "phone": "Staff, by phone", "autopay": "Autopay"}


class Payment(TenantScoped, db.Model):
    __tablename__ = "payment"
    __table_args__ = (UniqueConstraint("processor", "processor_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="RESTRICT"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="RESTRICT"), index=True)
    processor: Mapped[str] = mapped_column(String(32))
    # The processor's id for the money movement (a Stripe PaymentIntent), once known.
    processor_ref: Mapped[str | None] = mapped_column(String(255))
    # The processor's id for the attempt that started it (a Stripe Checkout Session), if any, its hosted page
    # (given again to a second Pay Now while it is open) and when that page stops taking payments.
    checkout_ref: Mapped[str | None] = mapped_column(String(255), index=True)
    checkout_url: Mapped[str | None] = mapped_column(Text)
    checkout_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    amount_refunded: Mapped[int] = mapped_column(Integer, default=0)
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_message: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="pay_link")  # a PAYMENT_SOURCES key
    saved_method_id: Mapped[int | None] = mapped_column(ForeignKey("saved_payment_method.id"))
    # The card it was paid with, as the processor reported it (kept or not).
    card_brand: Mapped[str | None] = mapped_column(String(32))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    # A payment taken outside the processor (processor "offline"): how (an OFFLINE_METHODS key), the
    # cheque number or transfer reference, and staff's note.
    method: Mapped[str | None] = mapped_column(String(16))
    reference: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # True for real money, False for a processor's test mode; None when the processor does not say.
    live: Mapped[bool | None] = mapped_column(Boolean)

    invoice: Mapped[Invoice] = relationship()
    refunds: Mapped[list["Refund"]] = relationship(back_populates="payment", order_by="Refund.id")
    # The card it was paid with, when one was kept (shown as "Visa ending 4242").
    saved_method: Mapped["SavedPaymentMethod | None"] = relationship()

    @property
    def source_label(self) -> str:
        return PAYMENT_SOURCES.get(self.source, self.source)


class Refund(TenantScoped, db.Model):
    __tablename__ = "refund"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    processor_ref: Mapped[str | None] = mapped_column(String(255), unique=True)
    reason: Mapped[str | None] = mapped_column(String(255))
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="refunds")


class SavedPaymentMethod(TenantScoped, db.Model):
    """A card kept at the processor for off-session use, saved only with the customer's explicit yes."""

    __tablename__ = "saved_payment_method"
    __table_args__ = (UniqueConstraint("processor", "processor_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    processor: Mapped[str] = mapped_column(String(32))
    processor_ref: Mapped[str] = mapped_column(String(255))
    brand: Mapped[str | None] = mapped_column(String(32))
    last4: Mapped[str | None] = mapped_column(String(4))
    exp_month: Mapped[int | None] = mapped_column(Integer)
    exp_year: Mapped[int | None] = mapped_column(Integer)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_text: Mapped[str] = mapped_column(Text)
    consent_ip: Mapped[str | None] = mapped_column(String(64))
    consent_user_agent: Mapped[str | None] = mapped_column(String(300))
    # The staff member the customer said yes to, when the card was saved during a payment by phone.
    consent_staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"))
    # The card autopay charges (at most one per customer).
    used_for_autopay: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the customer was told the card expires soon; cleared when its expiry changes.
    expiry_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def expires_on(self):
        """The last day the card can be charged (the end of its expiry month), or None if unknown."""
        if not (self.exp_month and self.exp_year):
            return None
        following = date(self.exp_year + self.exp_month // 12, self.exp_month % 12 + 1, 1)
        return following - timedelta(days=1)


class ProcessorHealth(TenantScoped, db.Model):
    """What the business's payment processor was last seen doing, for the dashboard's "Needs a look": when
    its last webhook arrived, and since when calls to it fail (keys refused, unreachable), with why."""

    __tablename__ = "processor_health"
    __table_args__ = (UniqueConstraint("business_id", "processor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    processor: Mapped[str] = mapped_column(String(32))
    last_webhook_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure: Mapped[str | None] = mapped_column(String(500))


# close_checkout: close a payment's checkout page at its processor; refund: refund money that arrived twice.
PROCESSOR_TASK_ACTIONS = ("close_checkout", "refund")


class ProcessorTask(TenantScoped, db.Model):
    """Something a payment's processor must still do after a commit, kept until it is done: written in the
    transaction of the event that needs it, then carried out and retried by the worker
    (:mod:`core.money.payments.tasks`). pending: to do (again at ``next_attempt_at``); running: claimed by a
    worker until ``lease_until``; done; failed: given up after its last attempt, told to staff."""

    __tablename__ = "processor_task"
    __table_args__ = (UniqueConstraint("payment_id", "action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
