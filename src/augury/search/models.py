"""The global search index: one row per searchable object of an organization.

The services that write charts, dashboards, datasets, metrics, alerts, forecasts and
members keep their object's row current (``search.service.index`` / ``remove``) in the
same transaction as the change. The database's own full-text search indexes
``title`` (weighted first) and ``body``: SQLite's FTS5 table ``search_entry_fts``, kept
in step by triggers, and on PostgreSQL a GIN index over their weighted tsvector
(migration 0017).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from augury.store.base import Base, IdMixin, OrgMixin


class SearchEntry(IdMixin, OrgMixin, Base):
    __tablename__ = "search_entry"
    __table_args__ = (
        UniqueConstraint("org_id", "kind", "object_id", name="uq_search_entry_object"),
        Index("ix_search_entry_org_kind", "org_id", "kind"),
    )

    kind: Mapped[str] = mapped_column(String(20))
    """chart, dashboard, dataset, metric, alert, anomaly, forecast or member."""
    object_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    """The other searchable words: a chart's question, a dataset's description, tags
    and column names, a metric's dimensions ..."""
    link: Mapped[str] = mapped_column(String(500))
    """The UI page of the object, relative to the server."""
    min_role: Mapped[str] = mapped_column(String(10), default="viewer")
    """The least role that may find it (members: admin)."""
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
