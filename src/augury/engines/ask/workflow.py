"""Workflows (Aicser's custom AI workflow): numbered steps over tables, run in the order
their dependencies give, independent ones side by side when asked.

Three kinds of step, each a pure function from a pandas frame to a :class:`StepResult`
(a frame for the next step, and a small JSON-able summary):

* :func:`prepare` (``data_preparation``): a time range and cleaning rules;
* :func:`trend` (``trend_analysis``): a moving average or a straight line through a
  time series, with its slope and direction;
* :func:`forecast` (``forecasting``): augury's forecasting engine with intervals.

:func:`plan` turns the numbered steps into :class:`Node` objects, each fed by a dataset
or by the step before it, and refuses cycles and steps that wait on later ones;
:func:`run` executes them. The caller (a job) loads the datasets and reports progress
through callbacks, so this module knows nothing of jobs, databases or HTTP.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

STEP_TYPES = ("data_preparation", "trend_analysis", "forecasting")
CLEANING_RULES = ("remove_outliers", "fill_missing", "drop_duplicates")
OUTLIER_METHODS = ("robust_z", "iqr")
TREND_METHODS = ("moving_average", "linear")
AGGREGATES = ("sum", "mean", "median", "min", "max", "count")
FREQUENCIES = ("H", "D", "W", "M")
FORECAST_MODELS: dict[str, tuple[str, ...] | None] = {
    "auto": None,
    "arima": None,
    "ets": ("auto_ets",),
    "theta": ("auto_theta",),
    "naive": ("naive",),
}
"""Requested model -> candidates of :func:`augury.engines.forecast.auto_forecast`
(``None``: every candidate, the automatic choice). The engine has no ARIMA: ``arima``
runs the automatic choice and the summary says so."""

ROBUST_Z = 3.5
"""Outlier threshold on the robust z-score 0.6745 * (x - median) / MAD (Iglewicz and
Hoaglin's modified z-score, whose 3.5 they recommend)."""
IQR_K = 1.5
MAX_PERIODS = 20_000
"""Longest series a trend or forecast step builds (the grid from the first to the last
period): a minute-level table read per hour over years would otherwise grow without
bound."""
PREVIEW_ROWS = 10

_RELATIVE = re.compile(r"^last_(\d{1,5})_(day|week|month|year)s?$")
_FLOOR = {"H": "h", "D": "D"}
_GRID = {"H": "h", "D": "D", "W": "W-MON", "M": "MS"}
_FORECAST_FREQ = {"H": "h", "D": "d", "W": "w", "M": "m"}


class WorkflowError(ValueError):
    """A workflow or a step that cannot run as given; ``problems`` lists each reason as
    ``{"step", "field", "message"}`` (``step`` None for the workflow itself)."""

    def __init__(self, message: str, problems: list[dict] | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or [{"step": None, "field": None, "message": message}]


@dataclass
class StepResult:
    frame: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Node:
    """One step as it will run: its parameters, what feeds it and what it waits for.

    ``source`` names a dataset the caller loads (its ``data_source`` as given, or the
    workflow's); otherwise ``feed`` is the step whose output it reads. ``after`` holds
    every step it waits for (``feed`` included)."""

    step: int
    type: str
    params: dict[str, Any]
    after: tuple[int, ...]
    feed: int | None = None
    source: str | int | None = None


# -- reading -----------------------------------------------------------------------------


def read_frame(path: Path, specs: list, columns: list[str] | None = None) -> pd.DataFrame:
    """A dataset version's Parquet file as a frame, each column read as its logical type
    (``specs``: :class:`~augury.engines.tabular.columns.ColumnSpec`); decimals become
    floats, since the steps compute in floating point."""
    from augury.engines.tabular._duckdb import connect
    from augury.engines.tabular.columns import quote_literal, view_sql

    wanted = [s for s in specs if columns is None or s.name in columns]
    con = connect()
    try:
        frame = con.execute(view_sql(f"read_parquet({quote_literal(str(path))})", wanted)).df()
    finally:
        con.close()
    for name in frame.columns:
        if frame[name].dtype == object and _all_decimal(frame[name]):
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    return frame


def _all_decimal(values: pd.Series) -> bool:
    import decimal

    present = values.dropna()
    return len(present) > 0 and all(isinstance(v, decimal.Decimal) for v in present.head(50))


def preview(frame: pd.DataFrame, rows: int = PREVIEW_ROWS) -> dict[str, Any]:
    """The first rows of a frame as JSON-able ``{"columns", "rows"}`` (dates as ISO text,
    missing values as None)."""
    head = frame.head(rows)
    return {
        "columns": [str(c) for c in frame.columns],
        "rows": [[_cell(v) for v in row] for row in head.itertuples(index=False, name=None)],
    }


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            return None
    if isinstance(value, float | int | str | bool):
        return value
    return str(value)


# -- data preparation --------------------------------------------------------------------


def time_column_of(frame: pd.DataFrame, given: str | None = None) -> str:
    """``given`` when the frame has it, else the frame's first date or datetime column."""
    if given is not None:
        _require(frame, [given], "time_column")
        if not pd.api.types.is_datetime64_any_dtype(frame[given]):
            converted = pd.to_datetime(frame[given], errors="coerce", format="mixed")
            if converted.notna().sum() == 0:
                raise WorkflowError(f"Column '{given}' holds no dates.")
        return given
    for name in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[name]):
            return str(name)
    for name in frame.columns:  # dates still stored as text (a version not profiled yet)
        if frame[name].dtype == object and _looks_like_dates(frame[name]):
            return str(name)
    raise WorkflowError(
        "The data has no date column; name one with 'time_column'.",
        [{"step": None, "field": "time_column", "message": "no date column"}],
    )


def _looks_like_dates(values: pd.Series) -> bool:
    sample = values.dropna().head(100)
    if sample.empty or not all(isinstance(v, str) for v in sample):
        return False
    if pd.to_numeric(sample, errors="coerce").notna().any():  # numbers, not dates
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().all())


def _require(frame: pd.DataFrame, names: Iterable[str], what: str) -> None:
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise WorkflowError(
            f"{what}: no column {', '.join(repr(m) for m in missing)}; "
            f"the data has {', '.join(map(str, frame.columns[:50]))}.",
            [{"step": None, "field": what, "message": f"unknown column {missing[0]!r}"}],
        )


def _as_time(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    if not pd.api.types.is_datetime64_any_dtype(frame[column]):
        parsed = pd.to_datetime(frame[column], errors="coerce", format="mixed")
        frame = frame.assign(**{column: parsed})
    if getattr(frame[column].dt, "tz", None) is not None:
        frame = frame.assign(**{column: frame[column].dt.tz_convert("UTC").dt.tz_localize(None)})
    return frame


def time_window(
    times: pd.Series, time_range: str | dict | None
) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The ``[start, end]`` a time range keeps; ``last_N_days|weeks|months|years``
    counts back from the newest time in the data (not from today: a dataset from 2015
    still has its last 24 months), ``{start, end}`` are inclusive ISO dates, ``all``
    keeps everything."""
    if time_range is None or time_range == "all":
        return None, None
    if isinstance(time_range, dict):
        start, end = time_range.get("start"), time_range.get("end")
        lo = _naive_utc(pd.Timestamp(start)) if start else None
        hi = _naive_utc(pd.Timestamp(end)) if end else None
        if hi is not None and len(str(end)) <= 10:
            hi = hi + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)  # the whole day
        return lo, hi
    match = _RELATIVE.match(time_range)
    if match is None:
        raise WorkflowError(f"Unknown time range {time_range!r}.")
    newest = times.max()
    if pd.isna(newest):
        return None, None
    n, unit = int(match.group(1)), match.group(2)
    offset = {
        "day": pd.DateOffset(days=n),
        "week": pd.DateOffset(weeks=n),
        "month": pd.DateOffset(months=n),
        "year": pd.DateOffset(years=n),
    }[unit]
    return newest - offset, None


def _naive_utc(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def parse_time_range(value: str | dict | None) -> None:
    """Raise :class:`WorkflowError` when ``value`` is not a time range :func:`prepare`
    understands (for validation before a job is queued)."""
    if value is None or value == "all":
        return
    if isinstance(value, dict):
        for key in ("start", "end"):
            if value.get(key) is not None:
                try:
                    pd.Timestamp(value[key])
                except (ValueError, TypeError) as exc:
                    raise WorkflowError(f"time_range.{key}: not a date ({value[key]!r}).") from exc
        lo, hi = value.get("start"), value.get("end")
        if lo and hi and pd.Timestamp(lo) > pd.Timestamp(hi):
            raise WorkflowError("time_range: start is after end.")
        return
    if not _RELATIVE.match(value):
        raise WorkflowError(
            f"Unknown time range {value!r}: use 'all', 'last_<n>_<days|weeks|months|years>' "
            "or {'start': ..., 'end': ...}."
        )


def outlier_mask(
    values: pd.Series, method: str = "robust_z", threshold: float = ROBUST_Z
) -> pd.Series:
    """True where a number is an outlier of its column.

    ``robust_z``: |0.6745 (x - median) / MAD| > ``threshold``; when more than half the
    values are equal (MAD 0) the mean absolute deviation stands in (x 1.2533, its ratio
    to the standard deviation of a normal), and a constant column has none.
    ``iqr``: outside [Q1 - 1.5 IQR, Q3 + 1.5 IQR].

    >>> outlier_mask(pd.Series([10.0, 11, 9, 10, 12, 10, 95])).tolist()
    [False, False, False, False, False, False, True]
    """
    x = values.astype(float)
    if method == "iqr":
        q1, q3 = x.quantile(0.25), x.quantile(0.75)
        spread = q3 - q1
        return (x < q1 - IQR_K * spread) | (x > q3 + IQR_K * spread)
    median = x.median()
    mad = (x - median).abs().median()
    if not mad > 0:
        mean_dev = (x - x.mean()).abs().mean()
        if not mean_dev > 0:
            return pd.Series(False, index=x.index)
        return ((x - median).abs() / (1.2533 * mean_dev)) > threshold
    return (0.6745 * (x - median) / mad).abs() > threshold


def _numeric_columns(frame: pd.DataFrame, skip: Iterable[str] = ()) -> list[str]:
    skipped = set(skip)
    return [
        str(c)
        for c in frame.columns
        if c not in skipped
        and pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
    ]


def prepare(
    frame: pd.DataFrame,
    *,
    time_column: str | None = None,
    time_range: str | dict | None = "all",
    cleaning_rules: Iterable[str] = (),
    value_columns: list[str] | None = None,
    outlier_method: str = "robust_z",
    outlier_threshold: float = ROBUST_Z,
) -> StepResult:
    """A table trimmed to a time range and cleaned, sorted by time.

    The rules run in this order whatever order they are listed in: ``drop_duplicates``
    (identical rows), ``remove_outliers`` (each numeric column's outliers by
    :func:`outlier_mask` become missing: the row keeps its other values), then
    ``fill_missing`` (numbers interpolated in time, both ends included; text and
    categories take their most frequent value). So ``["remove_outliers",
    "fill_missing"]`` replaces an outlier by its neighbours' interpolation.

    ``value_columns`` keeps only those columns (and the time column). Without a date
    column (none in the data and no ``time_column``) a time range other than ``all``
    is refused, and numbers are filled in row order.
    """
    rules = set(cleaning_rules)
    unknown = rules - set(CLEANING_RULES)
    if unknown:
        raise WorkflowError(f"Unknown cleaning rule {sorted(unknown)[0]!r}.")
    if value_columns:
        _require(frame, value_columns, "value_columns")
    try:
        tcol: str | None = time_column_of(frame, time_column)
    except WorkflowError:
        if time_column is not None or time_range not in (None, "all"):
            raise
        tcol = None
    out = frame.copy()
    if value_columns:
        keep = ([tcol] if tcol and tcol not in value_columns else []) + list(value_columns)
        out = out[keep]
    rows_in = len(out)
    summary: dict[str, Any] = {"time_column": tcol, "rows_in": rows_in}
    if tcol is not None:
        out = _as_time(out, tcol)
        lo, hi = time_window(out[tcol], time_range)
        if lo is not None:
            out = out[out[tcol] >= lo]
        if hi is not None:
            out = out[out[tcol] <= hi]
        out = out[out[tcol].notna()].sort_values(tcol, kind="stable")
        summary["time_range"] = time_range if time_range is not None else "all"
        summary["start"] = _cell(out[tcol].min()) if len(out) else None
        summary["end"] = _cell(out[tcol].max()) if len(out) else None
    summary["rows_in_range"] = len(out)
    if "drop_duplicates" in rules:
        before = len(out)
        out = out.drop_duplicates()
        summary["duplicates_dropped"] = before - len(out)
    numbers = _numeric_columns(out, skip=[tcol] if tcol else [])
    if "remove_outliers" in rules:
        removed: dict[str, int] = {}
        for name in numbers:
            mask = outlier_mask(out[name].dropna(), outlier_method, outlier_threshold)
            flagged = mask[mask].index
            if len(flagged):
                out[name] = out[name].astype(float)
                out.loc[flagged, name] = np.nan
                removed[name] = len(flagged)
        summary["outliers_removed"] = removed
        summary["outlier_method"] = outlier_method
    if "fill_missing" in rules:
        summary["filled"] = _fill_missing(out, tcol, numbers)
    out = out.reset_index(drop=True)
    summary["rows_out"] = len(out)
    summary["columns"] = [str(c) for c in out.columns]
    if not len(out):
        raise WorkflowError("No rows left after the time range and cleaning rules.")
    return StepResult(out, summary)


def _fill_missing(frame: pd.DataFrame, tcol: str | None, numbers: list[str]) -> dict[str, int]:
    """Fill ``frame`` in place; the count of cells filled per column."""
    filled: dict[str, int] = {}
    for name in frame.columns:
        if name == tcol:
            continue
        missing = int(frame[name].isna().sum())
        if not missing or frame[name].notna().sum() == 0:
            continue
        if name in numbers:
            series = frame[name].astype(float)
            if tcol is not None and frame[tcol].is_unique:
                indexed = pd.Series(series.to_numpy(), index=pd.DatetimeIndex(frame[tcol]))
                values = indexed.interpolate(method="time", limit_direction="both").to_numpy()
            else:
                values = series.interpolate(limit_direction="both").to_numpy()
            frame[name] = values
        else:
            mode = frame[name].mode(dropna=True)
            if mode.empty:
                continue
            frame[name] = frame[name].fillna(mode.iloc[0])
        filled[str(name)] = missing
    return filled


# -- time series -------------------------------------------------------------------------


@dataclass
class Series:
    """One value per period on a complete grid (periods with no rows interpolated)."""

    values: pd.Series
    time_column: str
    column: str
    frequency: str
    aggregate: str
    filled_periods: int


def infer_frequency(times: pd.Series) -> str:
    """``H``, ``D``, ``W`` or ``M`` from the median spacing of the distinct times."""
    distinct = pd.Series(times.dropna().unique()).sort_values()
    if len(distinct) < 2:
        return "D"
    step = distinct.diff().median()
    days = step / pd.Timedelta(days=1)
    if days >= 25:
        return "M"
    if days >= 6:
        return "W"
    if days >= 0.9:
        return "D"
    return "H"


def _period_start(times: pd.Series, frequency: str) -> pd.Series:
    if frequency in _FLOOR:
        return times.dt.floor(_FLOOR[frequency])
    if frequency == "W":
        return times.dt.to_period("W").dt.start_time
    return times.dt.to_period("M").dt.start_time


def series_of(
    frame: pd.DataFrame,
    *,
    column: str | None = None,
    time_column: str | None = None,
    frequency: str | None = None,
    aggregate: str = "sum",
) -> Series:
    """The ``column`` of a table as one value per period: rows of a period aggregated
    (``sum`` by default: amounts add up; ``mean`` for levels such as temperatures),
    periods without rows interpolated from their neighbours. ``column`` defaults to
    the first numeric column, ``frequency`` to the data's own spacing."""
    tcol = time_column_of(frame, time_column)
    if column is None:
        numbers = _numeric_columns(frame, skip=[tcol])
        if not numbers:
            raise WorkflowError("The data has no numeric column to analyse.")
        column = numbers[0]
    _require(frame, [column], "column")
    if aggregate != "count" and not pd.api.types.is_numeric_dtype(frame[column]):
        raise WorkflowError(f"Column '{column}' is not numeric.")
    data = _as_time(frame[[tcol, column]].copy() if tcol != column else frame[[tcol]], tcol)
    data = data[data[tcol].notna()]
    if data.empty:
        raise WorkflowError(f"Column '{tcol}' holds no dates.")
    freq = frequency or infer_frequency(data[tcol])
    keys = _period_start(data[tcol], freq)
    grouped = data[column].groupby(keys)
    agg = grouped.count() if aggregate == "count" else grouped.agg(aggregate, numeric_only=False)
    if aggregate != "count":
        agg[grouped.count() == 0] = np.nan  # a period whose values are all missing
    grid = pd.date_range(agg.index.min(), agg.index.max(), freq=_GRID[freq])
    if len(grid) > MAX_PERIODS:
        raise WorkflowError(
            f"{len(grid)} periods at frequency {freq}: at most {MAX_PERIODS}; "
            "choose a coarser 'frequency'."
        )
    values = agg.astype(float).reindex(grid)
    values.index.name = tcol
    gaps = int(values.isna().sum())
    if values.notna().sum() == 0:
        raise WorkflowError(f"Column '{column}' has no values.")
    if gaps:
        values = values.interpolate(method="time", limit_direction="both")
    return Series(values, tcol, column, freq, aggregate, gaps)


def trend(
    frame: pd.DataFrame,
    *,
    method: str = "moving_average",
    window_size: int = 3,
    column: str | None = None,
    time_column: str | None = None,
    frequency: str | None = None,
    aggregate: str = "sum",
) -> StepResult:
    """A series' trend: its trailing moving average over ``window_size`` periods
    (``moving_average``; the first ``window_size - 1`` periods have none) or the
    least-squares line through it (``linear``). Either way the summary gives the
    line's slope per period, its p-value and the direction it supports (``flat`` when
    p >= 0.05), and the change from the first to the last smoothed value."""
    from scipy import stats

    series = series_of(
        frame, column=column, time_column=time_column, frequency=frequency, aggregate=aggregate
    )
    y = series.values.to_numpy(dtype=float)
    n = len(y)
    t = np.arange(n, dtype=float)
    out = pd.DataFrame({series.time_column: series.values.index, series.column: y})
    summary: dict[str, Any] = {
        "method": method,
        "column": series.column,
        "time_column": series.time_column,
        "frequency": series.frequency,
        "aggregate": series.aggregate,
        "periods": n,
        "filled_periods": series.filled_periods,
    }
    if n >= 3 and np.ptp(y) > 0:
        fit = stats.linregress(t, y)
        slope, intercept = float(fit.slope), float(fit.intercept)
        p_value, r2 = float(fit.pvalue), float(fit.rvalue**2)
    else:
        slope, intercept = 0.0, float(y.mean()) if n else 0.0
        p_value, r2 = 1.0, 0.0
    if method == "moving_average":
        if window_size > n:
            raise WorkflowError(f"window_size {window_size} is longer than the {n} periods.")
        smooth = series.values.rolling(window_size, min_periods=window_size).mean().to_numpy()
        out["moving_average"] = smooth
        summary["window_size"] = window_size
    elif method == "linear":
        smooth = intercept + slope * t
        out["trend"] = smooth
        summary["r_squared"] = r2
    else:
        raise WorkflowError(f"Unknown trend method {method!r}.")
    present = smooth[np.isfinite(smooth)]
    first, last = (float(present[0]), float(present[-1])) if len(present) else (None, None)
    summary |= {
        "slope_per_period": slope,
        "p_value": p_value,
        "direction": "flat" if p_value >= 0.05 or slope == 0 else ("up" if slope > 0 else "down"),
        "first": first,
        "last": last,
        "change": None if first is None or last is None else last - first,
        "change_pct": None if not first or last is None else 100.0 * (last - first) / abs(first),
    }
    return StepResult(out, summary)


def forecast(
    frame: pd.DataFrame,
    *,
    model: str = "auto",
    forecast_periods: int = 12,
    confidence_interval: float = 0.95,
    column: str | None = None,
    time_column: str | None = None,
    frequency: str | None = None,
    aggregate: str = "sum",
) -> StepResult:
    """The next ``forecast_periods`` periods of a series with augury's forecasting
    engine (:func:`augury.engines.forecast.auto_forecast`), each with the interval at
    ``confidence_interval`` (0.95: a 95% interval). ``model`` restricts the engine's
    candidates (see :data:`FORECAST_MODELS`); the summary names the model that ran and
    why, and the forecast points."""
    from augury.engines.forecast import auto_forecast

    if model not in FORECAST_MODELS:
        raise WorkflowError(f"Unknown forecasting model {model!r}.")
    series = series_of(
        frame, column=column, time_column=time_column, frequency=frequency, aggregate=aggregate
    )
    level = round(100.0 * confidence_interval, 6)
    candidates = FORECAST_MODELS[model]
    options: dict[str, Any] = {"candidates": candidates} if candidates else {}
    result = auto_forecast(
        series.values.to_numpy(dtype=float),
        forecast_periods,
        levels=(level,),
        freq=_FORECAST_FREQ[series.frequency],
        **options,
    )
    last = series.values.index[-1]
    future = pd.date_range(last, periods=forecast_periods + 1, freq=_GRID[series.frequency])[1:]
    lower, upper = result.lower[level], result.upper[level]
    out = pd.DataFrame(
        {series.time_column: future, "forecast": result.mean, "lower": lower, "upper": upper}
    )
    note = None
    if model == "arima":
        note = (
            "augury's forecasting engine has no ARIMA model; its automatic choice ran "
            f"instead ({result.model})."
        )
    summary = {
        "model_requested": model,
        "model_used": result.model,
        "reason": result.reason,
        "note": note,
        "column": series.column,
        "time_column": series.time_column,
        "frequency": series.frequency,
        "aggregate": series.aggregate,
        "history_periods": len(series.values),
        "filled_periods": series.filled_periods,
        "seasonal_periods": list(result.periods),
        "confidence_interval": confidence_interval,
        "interval_method": result.interval_method,
        "points": [
            {
                "time": _cell(row[0]),
                "forecast": _cell(row[1]),
                "lower": _cell(row[2]),
                "upper": _cell(row[3]),
            }
            for row in out.itertuples(index=False, name=None)
        ],
    }
    return StepResult(out, summary)


STEPS: dict[str, Callable[..., StepResult]] = {
    "data_preparation": prepare,
    "trend_analysis": trend,
    "forecasting": forecast,
}


# -- the graph ---------------------------------------------------------------------------


def plan(steps: list[dict[str, Any]], data_source: str | int | None = None) -> list[Node]:
    """Numbered steps (``{"step", "type", "parameters", "depends_on"}``) as nodes in the
    order they may run.

    What feeds a step: its own ``parameters.data_source`` when it has one; else the first
    step of its ``depends_on``; else, for an analysis step (trend, forecast), the
    nearest data preparation numbered before it; else the workflow's ``data_source``.
    So in Aicser's example (prepare, then trend and forecast) both analyses read the
    prepared table and can run side by side. A step may only depend on steps numbered
    before it, which also rules out cycles (reported as such when there is one).

    >>> [(n.step, n.feed, n.source) for n in plan(
    ...     [{"step": 1, "type": "data_preparation", "parameters": {}},
    ...      {"step": 2, "type": "trend_analysis", "parameters": {}},
    ...      {"step": 3, "type": "forecasting", "parameters": {}}], "sales")]
    [(1, None, 'sales'), (2, 1, None), (3, 1, None)]
    """
    problems: list[dict] = []
    numbers = [int(s["step"]) for s in steps]
    known = set(numbers)
    if not steps:
        problems.append({"step": None, "field": "steps", "message": "a workflow needs a step"})
    for n in sorted({n for n in numbers if numbers.count(n) > 1}):
        problems.append({"step": n, "field": "step", "message": f"step {n} is numbered twice"})
    deps = {int(s["step"]): [int(d) for d in s.get("depends_on") or []] for s in steps}
    for s in steps:
        n = int(s["step"])
        if s["type"] not in STEP_TYPES:
            problems.append({"step": n, "field": "type", "message": f"unknown type {s['type']!r}"})
        for d in deps[n]:
            if d == n:
                problems.append({"step": n, "field": "depends_on", "message": "depends on itself"})
            elif d not in known:
                problems.append(
                    {
                        "step": n,
                        "field": "depends_on",
                        "message": f"depends on step {d}, which does not exist",
                    }
                )
    cycle = _cycle(deps)
    if cycle:
        path = " -> ".join(str(c) for c in cycle)
        problems.append(
            {"step": cycle[0], "field": "depends_on", "message": f"the steps {path} form a cycle"}
        )
    else:
        for n, ds in deps.items():
            for d in ds:
                if d in known and d > n:
                    problems.append(
                        {
                            "step": n,
                            "field": "depends_on",
                            "message": f"depends on step {d}, which comes later",
                        }
                    )
    if problems:
        raise WorkflowError(_problem_text(problems[0]), problems)
    nodes: list[Node] = []
    last_prep: int | None = None
    for s in sorted(steps, key=lambda s: int(s["step"])):
        n, params = int(s["step"]), dict(s.get("parameters") or {})
        own = params.pop("data_source", None)
        after = list(deps[n])
        feed: int | None = None
        source = own
        if own is None:
            if after:
                feed = after[0]
            elif s["type"] != "data_preparation" and last_prep is not None:
                feed = last_prep
            else:
                source = data_source
        if feed is None and source is None:
            raise WorkflowError(
                f"Step {n} has no data: give it a 'data_source' or give the workflow one.",
                [{"step": n, "field": "data_source", "message": "no data source"}],
            )
        if feed is not None and feed not in after:
            after.insert(0, feed)
        nodes.append(Node(n, s["type"], params, tuple(after), feed, source))
        if s["type"] == "data_preparation":
            last_prep = n
    return nodes


def _problem_text(problem: dict) -> str:
    where = f"step {problem['step']}: " if problem.get("step") is not None else ""
    return where + problem["message"]


def _cycle(deps: dict[int, list[int]]) -> list[int] | None:
    """One cycle of the dependency graph, as the steps along it back to the first."""
    state: dict[int, int] = {}
    stack: list[int] = []

    def visit(n: int) -> list[int] | None:
        state[n] = 1
        stack.append(n)
        for d in deps.get(n, []):
            if d not in deps or d == n:
                continue
            if state.get(d) == 1:
                return [*stack[stack.index(d) :], d]
            if d not in state:
                found = visit(d)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(deps):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def waves(nodes: list[Node]) -> list[list[int]]:
    """The steps that can run together, wave after wave (for the job's log)."""
    done: set[int] = set()
    out: list[list[int]] = []
    remaining = list(nodes)
    while remaining:
        ready = [n.step for n in remaining if set(n.after) <= done]
        out.append(ready)
        done |= set(ready)
        remaining = [n for n in remaining if n.step not in done]
    return out


def run_step(node: Node, frame: pd.DataFrame) -> StepResult:
    try:
        return STEPS[node.type](frame, **node.params)
    except WorkflowError as exc:
        raise WorkflowError(
            f"step {node.step} ({node.type}): {exc.message}",
            [{**p, "step": node.step} for p in exc.problems],
        ) from exc


def run(
    nodes: list[Node],
    load: Callable[[str | int], pd.DataFrame],
    *,
    parallel: bool = False,
    max_workers: int = 4,
    on_start: Callable[[Node], None] | None = None,
    on_done: Callable[[Node, StepResult, float], None] | None = None,
) -> dict[int, StepResult]:
    """Run every node once the steps it waits for are done; returns each step's result.

    Serial by default, in step order. With ``parallel``, every step whose dependencies
    are done runs at once in a thread pool (numpy, pandas and the forecasters release
    the GIL for much of their work). ``load`` reads a data source (called once per
    source, in the calling thread); ``on_start`` and ``on_done`` are called in the
    calling thread too, so they may touch a database session or raise to stop the run
    (an abort): steps not started yet are cancelled and the exception propagates.
    """
    frames: dict[str | int, pd.DataFrame] = {}
    results: dict[int, StepResult] = {}

    def input_of(node: Node) -> pd.DataFrame:
        if node.feed is not None:
            return results[node.feed].frame
        assert node.source is not None
        if node.source not in frames:
            frames[node.source] = load(node.source)
        return frames[node.source]

    def timed(node: Node, frame: pd.DataFrame) -> tuple[StepResult, float]:
        began = time.perf_counter()
        return run_step(node, frame), time.perf_counter() - began

    if not parallel:
        for node in nodes:
            if on_start:
                on_start(node)
            result, seconds = timed(node, input_of(node))
            results[node.step] = result
            if on_done:
                on_done(node, result, seconds)
        return results

    pending = list(nodes)
    running: dict[Future, Node] = {}
    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="workflow")
    finished_cleanly = False
    try:
        while pending or running:
            for node in [n for n in pending if set(n.after) <= set(results)]:
                pending.remove(node)
                if on_start:
                    on_start(node)
                running[pool.submit(timed, node, input_of(node))] = node
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: running[f].step):
                node = running.pop(future)
                result, seconds = future.result()
                results[node.step] = result
                if on_done:
                    on_done(node, result, seconds)
        finished_cleanly = True
    finally:
        # on an abort or a failed step, return at once: the steps still running finish
        # in their threads, and nothing reads their results
        pool.shutdown(wait=finished_cleanly, cancel_futures=True)
    return results
