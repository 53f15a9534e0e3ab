"""What a business bills from: its named tax rates and its saved items (services and parts)."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.invoice import Rate
from core.models.types import UTCDateTime
from core.tenancy import TenantScoped, utcnow


class TaxRate(TenantScoped, db.Model):
    """A named tax rate ("NY sales tax", 8.875 %), chosen on each invoice line; one may be the default.

    An archived rate is offered no more, and stays on the invoices that use it.
    """

    __tablename__ = "tax_rate"
    __table_args__ = (UniqueConstraint("business_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    rate_bp: Mapped[Decimal] = mapped_column(Rate)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SavedItem(TenantScoped, db.Model):
    """A service or part billed often, with its default price, tax rate and (staff-only) cost."""

    __tablename__ = "saved_item"
    __table_args__ = (UniqueConstraint("business_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(500))  # becomes the line's description
    unit_price: Mapped[int] = mapped_column(Integer)
    tax_rate_id: Mapped[int | None] = mapped_column(ForeignKey("tax_rate.id", ondelete="SET NULL"))
    unit_cost: Mapped[int | None] = mapped_column(Integer)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tax_rate: Mapped[TaxRate | None] = relationship()
