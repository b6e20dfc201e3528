"""Bodies of the model registry API: plan, train, versions, compare."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from augury.predictive.models import Application
from augury.schemas import StrictModel

MAX_ID = 2**31 - 1
Column = Field(min_length=1, max_length=255)
Columns = Field(None, max_length=5000)


class TrainingOptions(StrictModel):
    """What a training is asked: the columns (``features`` none: every usable one;
    ``exclude`` left out by the user), the date and series columns (detected when not
    given), the search's time budget, failure costs and the forecast horizon."""

    features: list[str] | None = Columns
    exclude: list[str] | None = Columns
    date_column: str | None = Field(None, min_length=1, max_length=255)
    series_columns: list[str] | None = Field(None, max_length=20)
    time_budget_s: float | None = Field(
        None,
        ge=10.0,
        le=3600.0,
        description="Seconds the model search may take; unset: the server's default "
        "(AUGURY_PREDICTIVE__DEFAULT_TIME_BUDGET_S, 120 unless configured).",
    )
    cost_missed: float | None = Field(None, gt=0.0, le=1e12)
    cost_false_alarm: float | None = Field(None, gt=0.0, le=1e12)
    horizon: int | None = Field(None, ge=1, le=10_000)

    @model_validator(mode="after")
    def _costs_together(self) -> TrainingOptions:
        if (self.cost_missed is None) != (self.cost_false_alarm is None):
            raise ValueError("cost_missed and cost_false_alarm go together")
        for name in ("features", "exclude", "series_columns"):
            for column in getattr(self, name) or []:
                if not 1 <= len(column) <= 255:
                    raise ValueError(f"{name}: column names are 1 to 255 characters")
        return self


class PlanRequest(TrainingOptions):
    """What a training would do with these choices, without training."""

    dataset_id: int = Field(ge=1, le=MAX_ID)
    version: int | None = Field(None, ge=1, le=MAX_ID, description="Dataset version; latest.")
    application: Application
    target: str = Column


class ModelCreate(TrainingOptions):
    """A new named model and its first version, trained on a dataset version."""

    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    description: str = Field("", max_length=5000)
    application: Application
    dataset_id: int = Field(ge=1, le=MAX_ID)
    version: int | None = Field(None, ge=1, le=MAX_ID, description="Dataset version; latest.")
    target: str = Column


class VersionCreate(TrainingOptions):
    """A new version of a model: what is not given is the model's newest trained
    version's (its dataset, whose latest version is read, its target and options)."""

    dataset_id: int | None = Field(None, ge=1, le=MAX_ID)
    version: int | None = Field(None, ge=1, le=MAX_ID, description="Dataset version; latest.")
    target: str | None = Field(None, min_length=1, max_length=255)


class ModelUpdate(StrictModel):
    """What is not given stays."""

    name: str | None = Field(None, min_length=1, max_length=200, pattern=r"\S")
    description: str | None = Field(None, max_length=5000)


class ModelRead(BaseModel):
    """A named model: ``status`` is its newest version's, ``task``, ``target`` and
    ``metrics`` (the primary metric's mean) its current version's."""

    id: int
    name: str
    description: str
    application: str
    latest_version: int
    current_version: int | None
    status: str | None
    task: str | None
    target: str | None
    metrics: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    created_by_id: int | None


class DatasetRef(BaseModel):
    id: int
    name: str | None
    version: int | None


class JobRef(BaseModel):
    id: int
    status: str
    progress: float


class VersionRead(BaseModel):
    """One training's result. ``metrics``: the validation scheme, ``primary`` metric,
    per-fold values, ``mean`` and ``std``; ``report``: importance, confusion matrix,
    threshold, candidates, parameters, residuals, warnings; ``excluded``: the columns
    left out and why; ``current``: the version predictions use by default."""

    id: int
    model_id: int
    number: int
    status: str
    source: str
    application: str
    options: dict[str, Any]
    task: str | None
    target: str
    features: list[str]
    excluded: list[dict[str, Any]]
    metrics: dict[str, Any]
    report: dict[str, Any]
    dataset: DatasetRef | None
    content_hash: str | None
    size_bytes: int
    training_seconds: float | None
    job: JobRef | None
    progress: float
    current: bool
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    created_by_id: int | None


class TrainingStarted(BaseModel):
    model: ModelRead
    version: VersionRead
    job: JobRef


class VersionComparison(BaseModel):
    """Versions side by side: ``metrics`` ``{name: {number: {mean, std}}}``,
    ``importance`` ``{feature: {number: share}}`` (null where a version lacks it)."""

    model_id: int
    versions: list[VersionRead]
    primary: dict[str, str | None]
    metrics: dict[str, dict[str, dict[str, Any] | None]]
    importance: dict[str, dict[str, float | None]]


class ExcludedColumn(BaseModel):
    column: str
    code: str
    reason: str


class PlanRead(BaseModel):
    """What training would do: the detected task, the features it would use and the
    columns it would leave out (with the reason), rows and warnings."""

    application: str
    task: str
    target: str
    features: list[str]
    excluded: list[ExcludedColumn]
    date_column: str | None
    series_columns: list[str]
    classes: list[Any] | None
    rows: int
    warnings: list[Any]
