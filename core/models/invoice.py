"""Invoices, their lines, pay links and the record of every pay-link view. Money is integer minor units;
rates (tax, discount, deposit) are basis points to a tenth (887.5 = 8.875 %)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, Session, deferred, mapped_column, relationship

from core.extensions import db
from core.models.customer import Customer
from core.models.types import SealedText, UTCDateTime
from core.money.totals import LineFigures, work_out
from core.tenancy import TenantScoped, utcnow

INVOICE_KINDS = {
    "one_off": "One-off",
    "service_agreement": "Service agreement",
    "recurring_rental": "Recurring rental",
    "subscription": "Subscription",
}
INVOICE_STATUSES = ("draft", "open", "paid", "void")
# A rate in basis points, to a tenth: 887.5 is 8.875 %.
Rate = Numeric(7, 1)
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
    subtotal: Mapped[int] = mapped_column(Integer, default=0)  # the lines, after their own discounts
    # A discount on the whole invoice, before tax: ``discount_rate_bp`` of the subtotal, or a fixed amount.
    discount: Mapped[int] = mapped_column(Integer, default=0)
    discount_rate_bp: Mapped[Decimal | None] = mapped_column(Rate)
    tax_total: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    # A first payment asked for before the rest (0: none): ``deposit_rate_bp`` of the total, or an amount.
    deposit: Mapped[int] = mapped_column(Integer, default=0)
    deposit_rate_bp: Mapped[Decimal | None] = mapped_column(Rate)
    # How tax is rounded (a key of core.money.totals.ROUNDING), fixed when the invoice is created.
    tax_rounding: Mapped[str] = mapped_column(String(8), default="invoice")
    amount_paid: Mapped[int] = mapped_column(Integer, default=0)
    # Refunded to the customer out of ``amount_paid`` (which it does not reduce).
    amount_refunded: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where automatic charging stands (core.money.autopay): None when it is not charged automatically.
    autopay_state: Mapped[str | None] = mapped_column(String(16))
    # Goes up whenever the invoice or one of its lines changes (see _count_revisions), so what was
    # rendered from one revision can be reused until the next.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    customer: Mapped[Customer] = relationship()
    lines: Mapped[list["InvoiceLine"]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )

    @property
    def balance(self) -> int:
        """What is left to pay on the whole invoice."""
        return max(self.total - self.amount_paid, 0)

    @property
    def amount_due(self) -> int:
        """What the customer is asked to pay now: the rest of the deposit while it is unpaid, else the
        balance."""
        if self.deposit and self.amount_paid < self.deposit:
            return min(self.deposit - self.amount_paid, self.balance)
        return self.balance

    @property
    def net_paid(self) -> int:
        return self.amount_paid - self.amount_refunded

    @property
    def kind_label(self) -> str:
        return INVOICE_KINDS.get(self.kind, self.kind)

    def work_out_totals(self):
        """The invoice's figures from its lines (:func:`core.money.totals.work_out`), without storing them."""
        lines = [LineFigures(line.quantity, line.unit_price, line.discount_rate_bp, line.discount,
                             line.tax_name, line.tax_rate_bp) for line in self.lines]
        return work_out(lines, discount_rate_bp=self.discount_rate_bp, discount=self.discount,
                        deposit_rate_bp=self.deposit_rate_bp, deposit=self.deposit,
                        rounding=self.tax_rounding or "invoice")

    def recompute_totals(self) -> None:
        """Totals are always derived from the lines on the server, never taken from a form."""
        totals = self.work_out_totals()
        for line, figures in zip(self.lines, totals.lines, strict=True):
            line.amount, line.discount, line.tax_amount = figures.amount, figures.discount, figures.tax
        self.subtotal, self.discount, self.tax_total = totals.subtotal, totals.discount, totals.tax_total
        self.total, self.deposit = totals.total, totals.deposit

    def taxes(self):
        """The tax of each rate on this invoice, as :class:`core.money.totals.TaxFigure`, for display."""
        return self.work_out_totals().taxes


class InvoiceLine(TenantScoped, db.Model):
    __tablename__ = "invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3), default=Decimal(1))
    unit_price: Mapped[int] = mapped_column(Integer)  # minor units
    # A discount on this line: ``discount_rate_bp`` of quantity x price, or a fixed amount.
    discount: Mapped[int] = mapped_column(Integer, default=0)
    discount_rate_bp: Mapped[Decimal | None] = mapped_column(Rate)
    # The business tax rate chosen, and its name and rate as they were then (a rate may change later).
    tax_rate_id: Mapped[int | None] = mapped_column(ForeignKey("tax_rate.id", ondelete="SET NULL"))
    tax_name: Mapped[str | None] = mapped_column(String(100))
    tax_rate_bp: Mapped[Decimal] = mapped_column(Rate, default=Decimal(0))  # 825 = 8.25 %
    amount: Mapped[int] = mapped_column(Integer, default=0)  # quantity x price, less the line's discount
    tax_amount: Mapped[int] = mapped_column(Integer, default=0)  # its share of the invoice's tax
    unit_cost: Mapped[int | None] = mapped_column(Integer)  # staff only

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


@event.listens_for(Session, "before_flush")
def _count_revisions(session, _flush_context, _instances) -> None:
    """Every flush that changes an invoice or its lines raises the invoice's revision, in SQL (two
    concurrent changes give two revisions, not one)."""
    changed = {id(obj): obj for obj in session.dirty
               if isinstance(obj, Invoice) and session.is_modified(obj, include_collections=False)}
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, InvoiceLine):
            invoice = obj.invoice or (session.get(Invoice, obj.invoice_id) if obj.invoice_id else None)
            if invoice is not None and invoice not in session.new:
                changed[id(invoice)] = invoice
    for invoice in changed.values():
        invoice.revision = Invoice.revision + 1


class PayLink(TenantScoped, db.Model):
    """An unguessable link to one invoice. Only the token's hash is stored."""

    __tablename__ = "pay_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token itself, sealed (encrypted at rest, like queued messages' links), so staff can copy the link
    # again and a corrected invoice goes out with the link the customer already has. Lookups use the hash.
    token_sealed: Mapped[str | None] = deferred(mapped_column(SealedText))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    invoice: Mapped[Invoice] = relationship()


class InvoiceView(TenantScoped, db.Model):
    __tablename__ = "invoice_view"
    # Answers "when was this invoice last viewed" from the index alone, whatever the number of views: the
    # tenancy filter adds business_id to every query, so it is part of the key, before the time.
    __table_args__ = (Index("ix_invoice_view_latest", "invoice_id", "business_id", "viewed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"))
    pay_link_id: Mapped[int | None] = mapped_column(ForeignKey("pay_link.id", ondelete="SET NULL"))
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    # False when the page said "Online payment isn't available" to a customer who owed money.
    payment_offered: Mapped[bool | None] = mapped_column(Boolean)
