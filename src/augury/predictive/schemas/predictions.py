"""Bodies of predictions: rows predicted now (``POST /models/{id}/predict``), a dataset
predicted by a job (``POST /models/{id}/predictions``) and what-ifs
(``POST /models/{id}/what-if``).

Row values are free JSON here (a model's columns are only known once its version is
loaded); the service checks them against the version's features and coerces them to
the training column types, so its 422 can name the column and the row.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, JsonValue, model_validator

from augury.jobs.schemas import JobRead
from augury.schemas import StrictModel

MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
VersionNumber = Annotated[int, Field(ge=1, le=MAX_ID)]
Row = dict[str, JsonValue]

MAX_WHAT_IF_ROWS = 1_000
"""Rows one what-if may change (inline or by index)."""
MAX_CHANGES = 100


class PredictRequest(StrictModel):
    """Rows to predict now, with the current version unless ``version`` names one. The
    row count is checked by the service (its 422 then says to start a batch job)."""

    rows: list[Row] = Field(
        min_length=1, description="Rows as {column: value}; extra columns are ignored."
    )
    version: VersionNumber | None = Field(
        None, description="The model version; unset: the model's current version."
    )
    explain: bool = Field(
        False, description="Add each row's contributions per feature and the base value."
    )


class Contribution(BaseModel):
    feature: str
    value: Any = None
    contribution: float


class RowPrediction(BaseModel):
    """One row's prediction: ``probability`` for a classifier, ``lower``/``upper`` (the
    80 % interval) for a regression or forecast; a forecast row also names its
    ``date`` and ``series``."""

    prediction: Any = None
    probability: dict[str, float | None] | None = None
    lower: float | None = None
    upper: float | None = None
    date: str | None = None
    series: dict[str, Any] | None = None
    contributions: list[Contribution] | None = None
    base: float | None = None


class PredictRead(BaseModel):
    model_id: int
    version: int
    task: str | None
    classes: list[Any] | None = None
    output: str | None = Field(
        None, description="With explain: what the contributions add up to, from `base`."
    )
    predictions: list[RowPrediction]


class BatchCreate(StrictModel):
    """A dataset version to predict as a ``models.predict`` job."""

    dataset_id: Id
    version: VersionNumber | None = Field(
        None, description="The dataset version; unset: its latest."
    )
    model_version: VersionNumber | None = Field(
        None, description="The model version; unset: the model's current version."
    )
    output_name: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        pattern=r"\S",
        description="The output dataset's name (a new version when it exists); "
        "unset: '<model name> predictions'.",
    )


class BatchCreated(BaseModel):
    job: JobRead
    model_id: int
    model_version: int
    dataset_id: int
    dataset_version: int
    output_name: str


class DatasetRows(StrictModel):
    """Rows of a dataset version, by position (0 is the first row)."""

    dataset_id: Id
    version: VersionNumber | None = Field(None, description="Unset: the dataset's latest.")
    row_indices: list[Annotated[int, Field(ge=0, le=2**40)]] = Field(
        min_length=1, max_length=MAX_WHAT_IF_ROWS
    )


class Change(StrictModel):
    """Change ``column`` by ``percent`` (numeric columns) or to ``value``."""

    column: str = Field(min_length=1, max_length=300)
    percent: float | None = Field(None, ge=-1000, le=1000)
    value: JsonValue = Field(None, description="The new value (null: missing).")

    @model_validator(mode="after")
    def _one_of(self) -> Change:
        if (self.percent is None) == (not self.sets_value):
            raise ValueError("give percent or value, exactly one")
        return self

    @property
    def sets_value(self) -> bool:
        """Whether the change gives a value (``null`` included: the value made missing)."""
        return "value" in self.model_fields_set


class WhatIfRequest(StrictModel):
    """Rows given inline (``rows`` as a list) or by position in a dataset (``rows`` as
    ``{dataset_id, version?, row_indices}``, or those three beside ``changes``), and
    the changes applied to every one of them."""

    rows: list[Row] | DatasetRows | None = Field(
        None, description="Rows as {column: value}, or {dataset_id, version?, row_indices}."
    )
    dataset_id: Id | None = None
    version: VersionNumber | None = None
    row_indices: list[Annotated[int, Field(ge=0, le=2**40)]] | None = Field(
        None, max_length=MAX_WHAT_IF_ROWS
    )
    changes: list[Change] = Field(min_length=1, max_length=MAX_CHANGES)
    model_version: VersionNumber | None = Field(
        None, description="The model version; unset: the model's current version."
    )

    @model_validator(mode="after")
    def _one_source(self) -> WhatIfRequest:
        flat = self.dataset_id is not None or self.row_indices is not None
        if flat:
            if self.rows is not None:
                raise ValueError("give rows, or dataset_id and row_indices, not both")
            if self.dataset_id is None or not self.row_indices:
                raise ValueError("dataset_id and row_indices go together")
            self.rows = DatasetRows(
                dataset_id=self.dataset_id, version=self.version, row_indices=self.row_indices
            )
            self.dataset_id = self.version = self.row_indices = None
        elif self.version is not None:
            raise ValueError("version is the dataset's: give it with dataset_id")
        if self.rows is None:
            raise ValueError("give rows, or dataset_id and row_indices")
        if isinstance(self.rows, list) and not 1 <= len(self.rows) <= MAX_WHAT_IF_ROWS:
            raise ValueError(f"give 1 to {MAX_WHAT_IF_ROWS} rows")
        return self


class Outcome(BaseModel):
    prediction: Any = None
    probability: dict[str, float | None] | None = None
    lower: float | None = None
    upper: float | None = None


class Explanation(BaseModel):
    base: float
    output: str | None = None
    contributions: list[Contribution]


class WhatIfRow(BaseModel):
    index: int | None = Field(None, description="The row's position in the dataset, if read.")
    changed: dict[str, dict[str, Any]] = Field(description="Each changed column: {before, after}.")
    before: Outcome
    after: Outcome
    delta: float | None = Field(
        description="after - before of the score: the prediction (regression), the "
        "positive class's probability (binary) or the before-predicted class's (multiclass)."
    )
    score: str | None = Field(None, description="What `delta` measures.")
    explanation: Explanation | None


class WhatIfRead(BaseModel):
    model_id: int
    version: int
    task: str | None
    rows: list[WhatIfRow]
