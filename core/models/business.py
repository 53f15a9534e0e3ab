"""The business (tenant): branding, contact details, policies, and the host names it is served on."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from core.extensions import db
from core.models.types import UTCDateTime
from core.tenancy import utcnow

# Policies a business may change in its settings, with the defaults a new business starts with.
DEFAULT_POLICIES = {
    # Email a customer who paid by link without a portal account an invitation to register.
    "invite_after_payment": True,
    # Portal self-registration with an email not on file: "reject" or "queue" for staff approval.
    "unknown_signup_policy": "reject",
    "self_registration": True,
    # Customers must log in to the portal before paying from an emailed link (when a portal is on).
    "login_to_pay": False,
    # Public help-site tickets must confirm their email before entering the queue.
    "verify_public_tickets": True,
    # Money that arrives for an invoice already paid or voided (a customer who paid twice): "refund" it
    # automatically, or "hold" it for staff to refund.
    "duplicate_payments": "refund",
    # How tax is rounded on new invoices (a key of core.money.totals.ROUNDING).
    "tax_rounding": "invoice",
    # Invoice kinds charged automatically for customers with autopay on (core.models.invoice.INVOICE_KINDS).
    "autopay_kinds": ["service_agreement", "recurring_rental", "subscription"],
    # After a declined automatic charge, try again this many days after the first decline (a final decline,
    # such as a lost or stolen card, is never retried).
    "autopay_retry_days": [1, 3, 7],
    # Tell a customer this many days ahead that their autopay card expires.
    "card_expiry_notice_days": 30,
    # Remind customers of unpaid invoices this many days after the due date (negative: before it).
    "reminder_days": [-3, 1, 7, 14],
}


class Business(db.Model):
    __tablename__ = "business"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str] = mapped_column(String(64), default="default")
    brand_color: Mapped[str] = mapped_column(String(7), default="#1f6feb")
    accent_color: Mapped[str] = mapped_column(String(7), default="#0b3d91")
    logo: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))  # served by its own route
    logo_mime: Mapped[str | None] = mapped_column(String(64))
    # A digest of the logo, in its address: a new logo is a new address, so no browser shows the old one.
    logo_hash: Mapped[str | None] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(500))
    billing_email: Mapped[str | None] = mapped_column(String(255))
    mail_from: Mapped[str | None] = mapped_column(String(255))
    reply_to: Mapped[str | None] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # Money and dates on every page and email follow this CLDR locale ("en_US", "fr_CA").
    locale: Mapped[str] = mapped_column(String(16), default="en_US")
    invoice_prefix: Mapped[str] = mapped_column(String(16), default="INV-")
    # The number of the business's latest invoice, taken under a row lock (core.money.invoicing).
    last_invoice_number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    policies: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # The host names customers use for it (pay.acme-plumbing.com); the first is in every link sent out.
    hosts: Mapped[list["BusinessHost"]] = relationship(
        order_by="BusinessHost.position", cascade="all, delete-orphan", passive_deletes=True
    )

    def policy(self, name: str):
        return (self.policies or {}).get(name, DEFAULT_POLICIES[name])

    @property
    def primary_host(self) -> str | None:
        """The host name used in links (as on ``BusinessInfo``), or None."""
        return self.hosts[0].name if self.hosts else None


class BusinessHost(db.Model):
    """One host name a business is served on. Not tenant-scoped: a request is matched to its business by
    this table before any business is selected. A name belongs to one business only."""

    __tablename__ = "business_host"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(253), unique=True)
    position: Mapped[int] = mapped_column(default=0)  # 0 is the primary host, used in links
