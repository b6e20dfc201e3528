"""What the API served, per minute: the record usage metrics are counted from.

The request middleware adds each authenticated request to an in-memory minute bucket
per (organization, user, API key, method, route template) and writes the buckets it
holds every few seconds (and at shutdown) as upserts that add, so a row is the sum of
every process's requests in that minute. ``user_id`` and ``key_id`` are 0 when there is
none (no foreign keys: usage outlives a deleted key).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from augury.store.base import Base, IdMixin, OrgMixin


class ApiUsage(IdMixin, OrgMixin, Base):
    __tablename__ = "api_usage"
    __table_args__ = (
        UniqueConstraint("minute", "org_id", "user_id", "key_id", "method", "route"),
        Index("ix_api_usage_org_minute", "org_id", "minute"),
    )

    minute: Mapped[datetime] = mapped_column()
    user_id: Mapped[int] = mapped_column(Integer, default=0)
    key_id: Mapped[int] = mapped_column(Integer, default=0)
    method: Mapped[str] = mapped_column(String(10))
    route: Mapped[str] = mapped_column(String(200))
    """The route's template (``/api/v1/datasets/{dataset_id}``), not the raw path."""
    requests: Mapped[int] = mapped_column(Integer, default=0)
    client_errors: Mapped[int] = mapped_column(Integer, default=0)
    """4xx answers."""
    server_errors: Mapped[int] = mapped_column(Integer, default=0)
    """5xx answers."""
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    """Summed; divide by ``requests`` for the mean."""
    max_duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    bytes_in: Mapped[int] = mapped_column(BigInteger, default=0)
