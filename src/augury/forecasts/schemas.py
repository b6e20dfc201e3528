"""Request and response bodies of the forecasting API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from augury.schemas import StrictModel

Resolution = Literal["native", "1m", "5m", "1h", "1d"]


class TaskCreate(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    expression: str = Field(min_length=1, max_length=2000, description="Metrics to forecast.")
    horizon: int = Field(ge=1, le=2000, description="Steps ahead, at `resolution`.")
    resolution: Resolution = "native"
    levels: list[float] = Field(
        default_factory=lambda: [80.0, 95.0],
        min_length=1,
        max_length=5,
        description="Confidence levels in percent.",
    )
    every_minutes: int | None = Field(
        None, ge=5, le=7 * 24 * 60, description="Refresh period; unset: run once."
    )


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    job_id: int | None
    status: Literal["pending", "running", "complete", "failed", "aborted"]
    metrics: int
    failed_metrics: int
    created_at: datetime
    finished_at: datetime | None
    error: str | None


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    expression: str
    horizon: int
    resolution: str
    levels: list[float]
    every_minutes: int | None
    next_run_at: datetime | None
    created_at: datetime
    runs: list[RunRead] = Field(default_factory=list, description="Newest first.")


class ResultRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    metric_id: int
    name: str
    status: Literal["ok", "no_data", "too_short", "resolution_mismatch", "failed"]
    message: str | None
    origin: float | None = Field(description="Last history point used (epoch s).")
    step: float | None = Field(description="Seconds between forecast points.")
    history_points: int
    timestamps: list[float] | None
    mean: list[float] | None
    lower: dict[str, list[float]] | None = Field(description="Per level, e.g. {'95': [...]}.")
    upper: dict[str, list[float]] | None
    model: str | None = Field(description="Chosen model, or combination(a+b+...).")
    reason: str | None = Field(description="Why it was chosen.")
    candidates: dict[str, float | None] | None = Field(
        description="Backtest error of every candidate (error_metric; lower is better)."
    )
    periods: list[int] | None
    error_metric: str | None


class ResultsRead(BaseModel):
    task_id: int
    run: RunRead | None = Field(description="The newest complete run (None: none yet).")
    results: list[ResultRead]


class AccuracyRead(BaseModel):
    metric_id: int
    name: str
    runs_evaluated: int
    points: int = Field(description="Forecast points whose actual value is known.")
    smape: float | None
    mase: float | None
    coverage: dict[str, float] = Field(description="% of actual points inside each interval.")


class YhatRead(BaseModel):
    metric_id: int
    name: str
    resolution: str
    origin: float
    model: str
    timestamps: list[float]
    yhat: list[float]
    lower_95: list[float]
    upper_95: list[float]
    source: Literal["forecast_task", "on_demand"]
