"""The body of ``POST /api/v1/ai/workflow`` (Aicser's custom AI workflow).

Each step's ``parameters`` are checked against its ``type``: an unknown type, an
unknown parameter or a value out of range is a 422 before anything is queued. What
a step does with them is documented on the engine's functions
(:mod:`augury.engines.ask.workflow`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from augury.analytics.schemas import DataSource
from augury.schemas import StrictModel

ColumnName = Annotated[str, Field(min_length=1, max_length=300)]
Frequency = Literal["H", "D", "W", "M"]
Aggregate = Literal["sum", "mean", "median", "min", "max", "count"]
RELATIVE_RANGE = r"^(all|last_\d{1,5}_(day|week|month|year)s?)$"

_SERIES_HELP = {
    "column": "The numeric column to analyse; unset: the first numeric column.",
    "time_column": "The time column; unset: the first date or datetime column.",
    "frequency": "Period of the series (H, D, W, M); unset: the data's own spacing. Rows "
    "of one period are aggregated; a period without rows is interpolated.",
    "aggregate": "How the rows of a period combine (sum: amounts; mean: levels).",
}


class TimeRange(StrictModel):
    """Inclusive bounds; a date alone as ``end`` keeps that whole day."""

    start: date | datetime | None = Field(None, description="Unset: from the first row.")
    end: date | datetime | None = Field(None, description="Unset: to the last row.")

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.start and self.end and _naive(self.start) > _naive(self.end):
            raise ValueError("start is after end")
        return self


def _naive(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime(value.year, value.month, value.day)


class PrepareParameters(StrictModel):
    data_source: DataSource | None = None
    time_column: ColumnName | None = Field(None, description=_SERIES_HELP["time_column"])
    time_range: Annotated[str, Field(pattern=RELATIVE_RANGE, max_length=30)] | TimeRange = Field(
        "all",
        description="'all', 'last_<n>_<days|weeks|months|years>' (counted back from the "
        "newest row, not from today), or {start, end}.",
    )
    cleaning_rules: list[Literal["remove_outliers", "fill_missing", "drop_duplicates"]] = Field(
        default_factory=list,
        max_length=3,
        description="Applied as drop_duplicates, remove_outliers (the cell becomes missing), "
        "fill_missing (numbers interpolated in time, text by its most frequent value).",
    )
    value_columns: list[ColumnName] | None = Field(
        None, max_length=200, description="Columns to keep (with the time column); unset: all."
    )
    outlier_method: Literal["robust_z", "iqr"] = Field(
        "robust_z", description="robust_z: |0.6745 (x - median) / MAD| > threshold; iqr: 1.5 IQR."
    )
    outlier_threshold: float = Field(3.5, ge=1.0, le=20.0)


class _SeriesParameters(StrictModel):
    data_source: DataSource | None = None
    column: ColumnName | None = Field(None, description=_SERIES_HELP["column"])
    time_column: ColumnName | None = Field(None, description=_SERIES_HELP["time_column"])
    frequency: Frequency | None = Field(None, description=_SERIES_HELP["frequency"])
    aggregate: Aggregate = Field("sum", description=_SERIES_HELP["aggregate"])


class TrendParameters(_SeriesParameters):
    method: Literal["moving_average", "linear"] = "moving_average"
    window_size: int = Field(3, ge=2, le=1000, description="Periods per moving average.")


class ForecastParameters(_SeriesParameters):
    model: Literal["auto", "arima", "ets", "theta", "naive"] = Field(
        "auto",
        description="auto: augury's automatic choice (backtested candidates, combined when "
        "better); ets: AutoETS; theta: AutoTheta; naive: the last value. augury's engine has "
        "no ARIMA: 'arima' runs the automatic choice and the result says so.",
    )
    forecast_periods: int = Field(12, ge=1, le=1000)
    confidence_interval: float = Field(0.95, ge=0.5, le=0.99)


StepNumber = Annotated[int, Field(ge=1, le=1000)]


class _Step(StrictModel):
    step: StepNumber
    depends_on: list[StepNumber] | None = Field(
        None,
        max_length=20,
        description="Steps (numbered before this one) that must finish first; the first "
        "one's output is this step's input. Unset: an analysis step reads the nearest "
        "data preparation before it.",
    )


class PrepareStep(_Step):
    type: Literal["data_preparation"]
    parameters: PrepareParameters = Field(default_factory=PrepareParameters)


class TrendStep(_Step):
    type: Literal["trend_analysis"]
    parameters: TrendParameters = Field(default_factory=TrendParameters)


class ForecastStep(_Step):
    type: Literal["forecasting"]
    parameters: ForecastParameters = Field(default_factory=ForecastParameters)


Step = Annotated[PrepareStep | TrendStep | ForecastStep, Field(discriminator="type")]


class WorkflowOptions(StrictModel):
    parallel_execution: bool = Field(
        False, description="Run steps whose dependencies are done at the same time."
    )
    save_intermediate_results: bool = Field(
        False,
        description="Save each step's output as a dataset named '<workflow_name> step <n> "
        "<type>' (a new version when it exists), recorded as the job's output.",
    )


class WorkflowCreate(StrictModel):
    """A workflow: numbered steps run as one ``analytics.workflow`` job."""

    workflow_name: str = Field(min_length=1, max_length=120, pattern=r"^[^/\\\x00-\x1f]+$")
    data_source: DataSource | None = Field(
        None, description="The dataset of steps that name none and read no other step."
    )
    steps: list[Step] = Field(min_length=1, max_length=20)
    options: WorkflowOptions = Field(default_factory=WorkflowOptions)
