"""Tables of analytics: saved charts, key-drivers analyses and LLM providers.

A saved chart keeps the question and the plan it ran, not only its numbers: reading it
reruns the plan on the dataset's newest version, so a chart stays live as new versions
arrive. The answer as it was when saved (``answer``) is kept too, for the day the
dataset's columns change under the plan and it no longer runs: the chart then shows its
last answer with the reason, rather than failing.

Both belong to a dataset and go with it (``ON DELETE CASCADE``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from augury import clock
from augury.store.base import Base, CreatedMixin, IdMixin, OrgMixin


class SavedChart(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "analytics_chart"
    __table_args__ = (Index("ix_analytics_chart_org_created", "org_id", "created_at"),)

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    """The dataset version the chart was saved from."""
    query: Mapped[str] = mapped_column(Text)
    """The question, as asked."""
    title: Mapped[str | None] = mapped_column(String(200))
    chart_type: Mapped[str] = mapped_column(String(20))
    """What the person asked for: auto, or a mark (bar, line ...)."""
    shown_type: Mapped[str] = mapped_column(String(20))
    """The mark the saved answer was drawn with (for lists and filters)."""
    plan: Mapped[dict] = mapped_column()
    """The plan the question became (:meth:`augury.engines.ask.plan.Plan.to_dict`)."""
    options: Mapped[dict] = mapped_column(default=dict)
    """theme, interactive, export_formats."""
    answer: Mapped[dict] = deferred(mapped_column(JSON, nullable=False))
    """The answer when saved (``Answer.to_dict()``): shown when the plan no longer runs.
    Deferred: lists never load it."""
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class Analysis(IdMixin, CreatedMixin, OrgMixin, Base):
    """A key-drivers analysis as it was answered (a later read returns it unchanged)."""

    __tablename__ = "analytics_analysis"
    __table_args__ = (Index("ix_analytics_analysis_org_created", "org_id", "created_at"),)

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    query: Mapped[str] = mapped_column(Text)
    analysis_type: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(1000))
    options: Mapped[dict] = mapped_column(default=dict)
    results: Mapped[dict] = deferred(mapped_column(JSON, nullable=False))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class AIProvider(IdMixin, CreatedMixin, OrgMixin, Base):
    """An OpenAI-compatible endpoint an organization lets read its questions.

    The API key is kept only encrypted (``api_key_encrypted``: a Fernet token under a
    key derived from the server's secret, ``augury.analytics.providers``) and is never
    returned; ``key_hint`` (its last 4 characters) lets people tell keys apart.
    """

    __tablename__ = "ai_provider"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_ai_provider_org_name"),)

    name: Mapped[str] = mapped_column(String(100))
    base_url: Mapped[str] = mapped_column(String(2000))
    """Where ``/chat/completions`` lives: ``http://localhost:11434/v1``."""
    model: Mapped[str] = mapped_column(String(200))
    api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    key_hint: Mapped[str | None] = mapped_column(String(8))
    is_default: Mapped[bool] = mapped_column(default=False)
    """The provider ``engine: "auto"`` uses (at most one per organization)."""
    timeout_s: Mapped[float] = mapped_column(Float, default=30.0)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class AIProviderCall(IdMixin, CreatedMixin, Base):
    """One call to a provider: how long it took and whether a plan came back (the
    median of the last ones is the provider's response time in ``/ai/models``)."""

    __tablename__ = "ai_provider_call"
    __table_args__ = (Index("ix_ai_provider_call_provider_created", "provider_id", "created_at"),)

    provider_id: Mapped[int] = mapped_column(ForeignKey("ai_provider.id", ondelete="CASCADE"))
    latency_ms: Mapped[float] = mapped_column(Float)
    ok: Mapped[bool] = mapped_column()
    error: Mapped[str | None] = mapped_column(String(300))
