"""Background work queued by plugins (and core): one row per call, durable until it has run."""

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.types import UTCDateTime
from core.tenancy import TenantScoped, utcnow

# pending: waiting for (another) attempt; running: claimed by a worker until lease_until; failed: attempts
# exhausted, shown to staff on the plugins page. A task that ran is deleted.
TASK_STATUSES = ("pending", "running", "failed")


class QueuedTask(TenantScoped, db.Model):
    """One call of a background task, written in the transaction that queued it (core.background.tasks)."""

    __tablename__ = "queued_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The plugin whose task it is (its switch governs it); None for core's own.
    plugin_name: Mapped[str | None] = mapped_column(String(64), index=True)
    task_name: Mapped[str] = mapped_column(String(255))
    arguments: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
