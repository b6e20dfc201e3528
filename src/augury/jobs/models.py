"""Tables of background jobs: the durable job row and its log lines."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from augury.store.base import Base, CreatedMixin, IdMixin, OrgMixin


class JobStatus(enum.StrEnum):
    pending = "pending"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    aborted = "aborted"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset({JobStatus.succeeded, JobStatus.failed, JobStatus.aborted})


class Job(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_status_created", "status", "created_at"),)

    type: Mapped[str] = mapped_column(String(100), index=True)
    params: Mapped[dict] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default=JobStatus.pending)
    progress: Mapped[float] = mapped_column(default=0.0)
    message: Mapped[str | None] = mapped_column(String(500))
    result: Mapped[dict | None]
    error: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    abort_requested: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None]
    cpu_seconds: Mapped[float | None]
    peak_memory_mb: Mapped[float | None]
    disk_written_mb: Mapped[float | None]


class JobLog(IdMixin, CreatedMixin, Base):
    """A line a job wrote while it ran (as in the Anaimo logs resource)."""

    __tablename__ = "job_log"
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(10), default="info")
    message: Mapped[str] = mapped_column(Text)
