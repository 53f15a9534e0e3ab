"""Invoices, their lines, pay links and the record of every pay-link view. Money is integer minor units."""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.customer import Customer
from core.models.types import UTCDateTime
from core.tenancy import TenantScoped, utcnow

INVOICE_KINDS = {
    "one_off": "One-off",
    "service_agreement": "Service agreement",
    "recurring_rental": "Recurring rental",
    "subscription": "Subscription",
}
INVOICE_STATUSES = ("draft", "open", "paid", "void")
# scheduled: to be charged; charging: being charged; failed: declined ("autopay failed"), retried on the
# business's ladder unless the decline was final; action_required: the bank wants the customer to confirm the
# payment themselves; paid: paid by autopay.
AUTOPAY_STATES = ("scheduled", "charging", "failed", "action_required", "paid")


class Invoice(TenantScoped, db.Model):
    __tablename__ = "invoice"
    __table_args__ = (UniqueConstraint("business_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="RESTRICT"), index=True)
    # Set on an invoice for what is still owed on a reservation: its payment counts towards the reservation.
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservation.id", ondelete="SET NULL"),
                                                       index=True)
    number: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32), default="one_off")
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    currency: Mapped[str] = mapped_column(String(3))
    issue_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    memo: Mapped[str | None] = mapped_column(Text)  # shown to the customer
    internal_notes: Mapped[str | None] = mapped_column(Text)  # staff only
    subtotal: Mapped[int] = mapped_column(Integer, default=0)
    tax_total: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    amount_paid: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where automatic charging stands (core.money.autopay): None when it is not charged automatically.
    autopay_state: Mapped[str | None] = mapped_column(String(16))

    customer: Mapped[Customer] = relationship()
    lines: Mapped[list["InvoiceLine"]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )

    @property
    def amount_due(self) -> int:
        return max(self.total - self.amount_paid, 0)

    @property
    def kind_label(self) -> str:
        return INVOICE_KINDS.get(self.kind, self.kind)

    def recompute_totals(self) -> None:
        """Totals are always derived from the lines on the server, never taken from a form."""
        for line in self.lines:
            line.recompute()
        self.subtotal = sum(line.amount for line in self.lines)
        self.tax_total = sum(line.tax_amount for line in self.lines)
        self.total = self.subtotal + self.tax_total


class InvoiceLine(TenantScoped, db.Model):
    __tablename__ = "invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3), default=Decimal(1))
    unit_price: Mapped[int] = mapped_column(Integer)  # minor units
    tax_rate_bp: Mapped[int] = mapped_column(Integer, default=0)  # basis points: 825 = 8.25 %
    amount: Mapped[int] = mapped_column(Integer, default=0)
    tax_amount: Mapped[int] = mapped_column(Integer, default=0)
    unit_cost: Mapped[int | None] = mapped_column(Integer)  # staff only

    invoice: Mapped[Invoice] = relationship(back_populates="lines")

    def recompute(self) -> None:
        amount = (Decimal(self.quantity) * self.unit_price).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        self.amount = int(amount)
        tax = (amount * self.tax_rate_bp / Decimal(10000)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        self.tax_amount = int(tax)


class PayLink(TenantScoped, db.Model):
    """An unguessable link to one invoice. Only the token's hash is stored."""

    __tablename__ = "pay_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    invoice: Mapped[Invoice] = relationship()


class InvoiceView(TenantScoped, db.Model):
    __tablename__ = "invoice_view"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"), index=True)
    pay_link_id: Mapped[int | None] = mapped_column(ForeignKey("pay_link.id", ondelete="SET NULL"))
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
