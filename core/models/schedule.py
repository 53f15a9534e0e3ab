"""Which worker queued each run of each periodic task: the claim that makes the run happen once."""

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.types import UTCDateTime
from core.tenancy import utcnow


class PeriodicRun(db.Model):
    """One due minute of one periodic task, claimed by the first worker's scheduler to reach it."""

    __tablename__ = "periodic_run"
    __table_args__ = (UniqueConstraint("task_name", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_name: Mapped[str] = mapped_column(String(160))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    claimed_by: Mapped[str] = mapped_column(String(255))  # host and process id of the worker
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
