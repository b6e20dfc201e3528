"""Tables of forecasting: tasks, their runs, and one result per metric and run.

A task names metrics (an expression), a horizon in steps of a resolution, confidence
levels and a schedule. Each execution is a run (a ``forecast.run`` job); a run's
results become visible only when the run completes, so an aborted or failed run never
shows half its results. Past runs' results stay, which is how accuracy against what
really happened is measured.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from augury.store.base import Base, CreatedMixin, IdMixin, OrgMixin


class ForecastTask(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "forecast_task"

    name: Mapped[str] = mapped_column(String(200))
    expression: Mapped[str] = mapped_column(Text)
    horizon: Mapped[int] = mapped_column(Integer)
    resolution: Mapped[str] = mapped_column(String(10))
    """native, 1m, 5m, 1h or 1d."""
    levels: Mapped[list] = mapped_column(default=lambda: [80, 95])
    every_minutes: Mapped[int | None] = mapped_column(Integer)
    """Refresh period; ``None`` runs once."""
    next_run_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class ForecastRun(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "forecast_run"
    __table_args__ = (Index("ix_forecast_run_task_id_id", "task_id", "id"),)

    task_id: Mapped[int] = mapped_column(ForeignKey("forecast_task.id", ondelete="CASCADE"))
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("job.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="pending")
    """pending, running, complete, failed or aborted (only complete runs are shown)."""
    metrics: Mapped[int] = mapped_column(Integer, default=0)
    failed_metrics: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class ForecastResult(IdMixin, OrgMixin, Base):
    """One metric's forecast from one run (or why there is none)."""

    __tablename__ = "forecast_result"
    __table_args__ = (Index("ix_forecast_result_run_metric", "run_id", "metric_id"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("forecast_run.id", ondelete="CASCADE"))
    task_id: Mapped[int] = mapped_column(ForeignKey("forecast_task.id", ondelete="CASCADE"))
    metric_id: Mapped[int] = mapped_column(ForeignKey("metric.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    """ok, or no_data / too_short / failed with ``message``."""
    message: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[float | None] = mapped_column(Float)
    """Timestamp of the last history point used (epoch seconds)."""
    step: Mapped[float | None] = mapped_column(Float)
    history_points: Mapped[int] = mapped_column(Integer, default=0)
    timestamps: Mapped[list | None]
    mean: Mapped[list | None]
    lower: Mapped[dict | None]
    upper: Mapped[dict | None]
    model: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    candidates: Mapped[dict | None]
    periods: Mapped[list | None]
    error_metric: Mapped[str | None] = mapped_column(String(10))
    """smape or mase: what the candidates' backtest errors measure."""
