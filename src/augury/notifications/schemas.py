"""Response bodies of the notifications API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, computed_field


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    """What finished: ``job.succeeded``, ``job.failed``, ``text.upload`` ..."""
    title: str
    body: str
    link: str | None
    """The UI page of the thing, relative to the server."""
    data: dict
    created_at: datetime
    read_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def read(self) -> bool:
        return self.read_at is not None


class UnreadCount(BaseModel):
    unread: int


class MarkedAllRead(BaseModel):
    marked: int
    """How many notifications were unread and are now read."""
