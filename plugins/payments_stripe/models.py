"""The Stripe plugin's own tables. Both are tenant tables: scoped to the current business like core's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.plugin_api import TenantScoped, db, utcnow


class StripeCustomer(TenantScoped, db.Model):
    """The Stripe customer that holds a Suprata customer's saved cards (one per Stripe mode)."""

    __tablename__ = "stripe_customer"
    __table_args__ = (UniqueConstraint("business_id", "customer_id", "livemode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    livemode: Mapped[bool] = mapped_column(Boolean)
    stripe_customer_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StripeEvent(TenantScoped, db.Model):
    """A webhook event already acted on. Written in the transaction of its effect, so each counts once."""

    __tablename__ = "stripe_event"
    __table_args__ = (UniqueConstraint("business_id", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
