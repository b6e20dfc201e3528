"""Notifications: a line for a person when long work of theirs finishes.

A model ready, an upload segmented, a batch analysis done: whatever finishes off the
request path leaves a notification for whoever started it (``user_id``), read in the
UI's bell and through ``/api/v1/notifications``. ``read_at`` is null until read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from augury.store.base import Base, CreatedMixin, IdMixin, OrgMixin


class Notification(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_read", "user_id", "read_at"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(50))
    """What finished: ``job.succeeded``, ``job.failed``, ``text.upload`` ..."""
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))
    """The UI page of the thing, relative to the server (``/text/projects/3``)."""
    data: Mapped[dict] = mapped_column(default=dict)
    read_at: Mapped[datetime | None] = mapped_column()
