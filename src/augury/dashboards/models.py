"""Dashboards: a named grid of tiles, shared read-only by revocable links, and mailed
as PDF on a schedule.

A tile is one JSON object of ``tiles``: its place on a 12-column grid (``x``, ``y``,
``w``, ``h``, as Aicser's layout positions) and what it shows (a saved chart, a metric
chart, an anomaly list, a forecast, a single number or a markdown note). ``version``
grows with every save, so two editors cannot overwrite each other unseen.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from augury import clock
from augury.store.base import Base, CreatedMixin, IdMixin, OrgMixin


class Dashboard(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "dashboard"

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    tiles: Mapped[list] = mapped_column(default=list)
    settings: Mapped[dict] = mapped_column(default=dict)
    """auto_refresh, refresh_interval (s), theme, and the time range and dimension
    filters every metric tile follows."""
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class DashboardShare(IdMixin, CreatedMixin, OrgMixin, Base):
    """A read-only link to one dashboard: whoever holds the token sees that dashboard's
    tiles and nothing else, until the link is revoked or expires. Only the token's
    SHA-256 is stored."""

    __tablename__ = "dashboard_share"

    dashboard_id: Mapped[int] = mapped_column(
        ForeignKey("dashboard.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class ExportSchedule(IdMixin, CreatedMixin, OrgMixin, Base):
    """A dashboard mailed as PDF (or HTML) to a list of addresses on a cron schedule."""

    __tablename__ = "dashboard_export_schedule"

    dashboard_id: Mapped[int] = mapped_column(
        ForeignKey("dashboard.id", ondelete="CASCADE"), index=True
    )
    cron: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    recipients: Mapped[list] = mapped_column(default=list)
    format: Mapped[str] = mapped_column(String(10), default="pdf")
    page_size: Mapped[str] = mapped_column(String(10), default="a4")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_at: Mapped[datetime | None] = mapped_column(index=True)
    last_run_at: Mapped[datetime | None] = mapped_column()
    last_status: Mapped[str | None] = mapped_column(String(20))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
