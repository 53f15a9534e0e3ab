"""Which plugins a business has switched on, their settings, and the errors they raised."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.types import UTCDateTime
from core.tenancy import TenantScoped, utcnow


class PluginState(TenantScoped, db.Model):
    __tablename__ = "plugin_state"
    __table_args__ = (UniqueConstraint("business_id", "plugin_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_name: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PluginError(TenantScoped, db.Model):
    """A hook implementation that raised; the caller carried on, staff see it on the plugins page."""

    __tablename__ = "plugin_error"

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_name: Mapped[str] = mapped_column(String(64), index=True)
    hook: Mapped[str] = mapped_column(String(64))
    error: Mapped[str] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
