"""Customer records, with several emails and phone numbers, each verified or not, and how staff find them."""

import re
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.types import UTCDateTime
from core.tenancy import TenantScoped, utcnow


class Customer(TenantScoped, db.Model):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(500))
    # Staff-only: never rendered on a customer-facing page.
    internal_notes: Mapped[str | None] = mapped_column(Text)
    # Invoices of the kinds the business charges automatically are charged to the customer's autopay card
    # (core.money.autopay); on only with the customer's recorded consent.
    autopay_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    emails: Mapped[list["CustomerEmail"]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerEmail.id"
    )
    phones: Mapped[list["CustomerPhone"]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerPhone.id"
    )

    @property
    def primary_email(self) -> str | None:
        for email in self.emails:
            if email.is_primary:
                return email.email
        return self.emails[0].email if self.emails else None


class CustomerEmail(TenantScoped, db.Model):
    __tablename__ = "customer_email"
    __table_args__ = (UniqueConstraint("business_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    # Stored lower-cased so lookups and the uniqueness rule ignore case.
    email: Mapped[str] = mapped_column(String(255))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship(back_populates="emails")


class CustomerPhone(TenantScoped, db.Model):
    __tablename__ = "customer_phone"
    __table_args__ = (UniqueConstraint("business_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(32))  # E.164
    label: Mapped[str | None] = mapped_column(String(32))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sms_opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship(back_populates="phones")


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_condition(query: str):
    """Customers whose name, company, email or phone number contains ``query``."""
    pattern = _like(query)
    conditions = [
        Customer.name.ilike(pattern, escape="\\"),
        Customer.company.ilike(pattern, escape="\\"),
        Customer.emails.any(CustomerEmail.email.ilike(pattern, escape="\\")),
    ]
    # Numbers are stored as +15550102030; "(555) 010-2030" should still find them.
    digits = re.sub(r"\D", "", query)
    if len(digits) >= 3:
        conditions.append(Customer.phones.any(CustomerPhone.number.like(f"%{digits}%")))
    return or_(*conditions)
