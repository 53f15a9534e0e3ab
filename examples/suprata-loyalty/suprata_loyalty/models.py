"""The plugin's own table: one row of points per captured payment.

``TenantScoped`` gives the table its ``business_id`` and puts it under core's tenancy rules: every query
is limited to the current business and new rows are stamped with it.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.plugin_api import TenantScoped, UTCDateTime, db


class LoyaltyPoints(TenantScoped, db.Model):
    __tablename__ = "loyalty_points"
    # A payment earns points once, however often its capture is reported.
    __table_args__ = (UniqueConstraint("business_id", "payment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"))
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="CASCADE"))
    points: Mapped[int]
    # When the business's webhook accepted the news (None: not sent, or no webhook then).
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
