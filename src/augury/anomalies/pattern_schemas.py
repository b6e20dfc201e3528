"""Request and response bodies of "seen before": similar episodes, patterns, matches."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from augury.schemas import StrictModel

Scope = Literal["metric", "what", "all"]


class SimilarEpisode(BaseModel):
    """A past metric anomaly like this one."""

    anomaly_id: int = Field(description="The Anomaly (group) it belongs to.")
    metric_anomaly_id: int
    metric_id: int
    metric_name: str
    same_metric: bool = Field(description="Of the same metric (else: of the same `what`).")
    similarity: float = Field(description="0-1: shape, direction and duration alike.")
    start: float
    end: float
    duration: float
    points: int
    direction: Literal["up", "down"]
    peak_score: float
    delta: float
    state: Literal["open", "closed"]
    link: str = Field(description="The anomaly's page.")


class PatternLabel(BaseModel):
    """A saved pattern this anomaly matched."""

    pattern_id: int
    name: str
    metric_id: int
    similarity: float


class SimilarRead(BaseModel):
    anomaly_id: int
    metric_anomaly_id: int = Field(description="The member the episode is taken from.")
    metric_id: int
    episode: dict = Field(description="points, direction, peak (band units), shape.")
    items: list[SimilarEpisode]
    candidates: int = Field(description="Past anomalies compared.")
    patterns: list[PatternLabel] = Field(description="Saved patterns it matched.")


class PatternCreate(StrictModel):
    anomaly_id: int = Field(ge=1, le=2**31 - 1, description="The anomaly to save.")
    metric_id: int | None = Field(
        None, ge=1, le=2**31 - 1, description="Which of its metrics; unset: the strongest."
    )
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    scope: Scope = Field("what", description="Later anomalies of: its metric, its `what`, all.")
    threshold: float = Field(0.8, ge=0.5, le=1.0, description="Similarity that labels.")
    enabled: bool = True
    backfill_days: float = Field(
        30.0,
        ge=0,
        le=365,
        description="Also label the anomalies of the last this many days (0: only later ones).",
    )


class PatternUpdate(StrictModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    scope: Scope | None = None
    threshold: float | None = Field(None, ge=0.5, le=1.0)
    enabled: bool | None = None


class PatternRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    description: str | None
    anomaly_id: int | None = Field(description="The anomaly it was saved from (if kept).")
    metric_anomaly_id: int | None
    metric_id: int | None
    what: str
    timescale: Literal["native", "1h", "1d"]
    scope: Scope
    threshold: float
    enabled: bool
    summary: dict = Field(
        description="points, direction, peak (band units), duration_s, start, end."
    )
    shape: list[float] = Field(description="The normalised shape: context, then the anomaly.")
    match_count: int
    label_from: datetime = Field(
        description="Anomalies changed from this time on are compared with it (its save, "
        "less the backfill asked for)."
    )
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime


class MatchRead(BaseModel):
    id: int
    pattern_id: int
    anomaly_id: int
    metric_anomaly_id: int
    metric_id: int
    metric_name: str
    similarity: float
    start: float
    end: float
    direction: Literal["up", "down"]
    peak_score: float
    state: Literal["open", "closed"]
    link: str
    created_at: datetime
    updated_at: datetime
