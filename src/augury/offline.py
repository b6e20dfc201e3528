"""CSV files <-> the detection and forecasting engines, for `augury detect` and `augury forecast`.

Pure functions on pandas DataFrames: no printing, no database, no server. The CLI reads a
file with :func:`read_csv`, checks it with :func:`parse_points`, runs :func:`detect_points`
or :func:`forecast_points`, writes the frame they return and prints their summaries.

Input is a CSV of ``timestamp,value`` rows (one series) or long format
``series,timestamp,value`` (column names case-insensitive, any column order, other
columns ignored). Timestamps are unix epoch seconds or ISO 8601 strings. Every problem
with the file raises :class:`InputError` with a one-line message for the user.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from augury.engines.detect import DEFAULT_DECISION_LEVEL, score_series
from augury.engines.forecast import auto_forecast
from augury.engines.forecast.base import level_key, normalize_levels
from augury.engines.timegrid import forecast_options, future_timestamps, on_grid

__all__ = [
    "DetectOutput",
    "ForecastOutput",
    "InputError",
    "Points",
    "SeriesForecast",
    "check_forecast_options",
    "detect_points",
    "forecast_points",
    "parse_points",
    "read_csv",
]

_MISSING = {"", "nan", "na", "n/a", "null", "none"}


class InputError(ValueError):
    """The input file cannot be used; the message is one line meant for the user."""


@dataclass(frozen=True)
class Points:
    """A checked input file.

    Attributes
    ----------
    frame : DataFrame with one row per input row, in input order: ``series`` (str),
        ``timestamp`` (the input text, unchanged), ``value_text`` (the input text),
        ``value`` (float, NaN where the cell was empty) and ``seconds`` (float, epoch).
    long : whether the input had a ``series`` column.
    epoch : whether the timestamps were numbers (epoch seconds) rather than ISO strings.
    """

    frame: pd.DataFrame
    long: bool
    epoch: bool

    def groups(self) -> Iterator[tuple[str, pd.DataFrame]]:
        """``(series, rows)`` per series in first-appearance order, rows in time order."""
        for name, rows in self.frame.groupby("series", sort=False):
            yield name, rows.sort_values("seconds", kind="mergesort")


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a CSV file as text (every cell a string, nothing converted)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"no such file: {p}")
    if not p.is_file():
        raise InputError(f"not a file: {p}")
    try:
        raw = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{p} is empty") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{p} is not a readable CSV file: {_one_line(exc)}") from exc
    return raw


def parse_points(raw: pd.DataFrame, default_series: str = "series") -> Points:
    """Check the columns, values and timestamps of a text frame from :func:`read_csv`.

    ``default_series`` names the single series of a ``timestamp,value`` file.
    """
    cols = {str(c).strip().lower(): c for c in raw.columns}
    missing = [c for c in ("timestamp", "value") if c not in cols]
    if missing:
        found = ", ".join(str(c) for c in raw.columns) or "none"
        raise InputError(
            f"missing column(s) {', '.join(missing)}: expected timestamp,value or "
            f"series,timestamp,value (found: {found})"
        )
    if len(raw) == 0:
        raise InputError("the file has a header but no data rows")
    long = "series" in cols
    ts_text = raw[cols["timestamp"]].astype(str).str.strip()
    val_text = raw[cols["value"]].astype(str).str.strip()
    series = (
        raw[cols["series"]].astype(str).str.strip()
        if long
        else pd.Series(default_series, index=raw.index)
    )

    values = pd.to_numeric(val_text.where(~val_text.str.lower().isin(_MISSING)), errors="coerce")
    bad = values.isna() & ~val_text.str.lower().isin(_MISSING)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"non-numeric value {val_text.iloc[i]!r} on line {i + 2} ({int(bad.sum())} such row(s))"
        )

    seconds, epoch = _parse_timestamps(ts_text)
    frame = pd.DataFrame(
        {
            "series": series.to_numpy(),
            "timestamp": ts_text.to_numpy(),
            "value_text": val_text.to_numpy(),
            "value": values.to_numpy(dtype=float),
            "seconds": seconds,
        }
    )
    return Points(frame=frame, long=long, epoch=epoch)


def _parse_timestamps(text: pd.Series) -> tuple[np.ndarray, bool]:
    empty = text.eq("")
    if empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise InputError(f"empty timestamp on line {i + 2}")
    numeric = pd.to_numeric(text, errors="coerce")
    if numeric.notna().all():
        return numeric.to_numpy(dtype=float), True
    if numeric.notna().mean() >= 0.5:  # mostly epoch seconds: point at the odd one out
        i = int(np.flatnonzero(numeric.isna().to_numpy())[0])
        raise InputError(
            f"cannot read timestamp {text.iloc[i]!r} on line {i + 2}: the others are epoch seconds"
        )
    parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    if parsed.isna().any():  # not strict ISO 8601: let pandas guess, row by row
        retry = pd.to_datetime(text[parsed.isna()], utc=True, format="mixed", errors="coerce")
        parsed = parsed.fillna(retry)
    if parsed.isna().any():
        i = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise InputError(
            f"cannot read timestamp {text.iloc[i]!r} on line {i + 2}: expected epoch seconds "
            "or ISO 8601 (e.g. 2024-05-01T12:00:00Z)"
        )
    seconds = (parsed - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    return seconds.to_numpy(dtype=float), False


# -- detection -------------------------------------------------------------------------


@dataclass(frozen=True)
class DetectOutput:
    """What :func:`detect_points` returns.

    Attributes
    ----------
    frame : one row per input row, in input order: ``[series,] timestamp, value,
        anomaly_score, is_anomaly`` (``series`` only for long-format input).
    anomalies : the points that raised an anomaly (``is_anomaly == 1``): ``series,
        timestamp, value, anomaly_score``, by series then time.
    series_count : number of series scored.
    """

    frame: pd.DataFrame
    anomalies: pd.DataFrame
    series_count: int


def detect_points(points: Points, decision_level: float = DEFAULT_DECISION_LEVEL) -> DetectOutput:
    """Stream each series, in time order, through :func:`~augury.engines.detect.score_series`.

    ``is_anomaly`` is 1 on the point that raises an anomaly (the detector keeps the
    anomaly open, without new alarms, until its scores calm down), 0 elsewhere.
    """
    if not 0.0 < decision_level <= 1.0:
        raise InputError(f"decision level must be in (0, 1], got {decision_level:g}")
    f = points.frame
    scores = np.zeros(len(f))
    alarms = np.zeros(len(f), dtype=bool)
    order: list[np.ndarray] = []
    for _, rows in points.groups():
        res = score_series(
            rows["value"].to_numpy(), rows["seconds"].to_numpy(), decision_level=decision_level
        )
        idx = rows.index.to_numpy()
        scores[idx] = res.scores
        alarms[idx] = res.is_anomaly
        order.append(idx)
    out = pd.DataFrame(
        {
            "series": f["series"],
            "timestamp": f["timestamp"],
            "value": f["value_text"],
            "anomaly_score": np.round(np.clip(scores, 0.0, 1.0), 6),
            "is_anomaly": alarms.astype(int),
        }
    )
    in_time_order = out.loc[np.concatenate(order)] if order else out
    anomalies = in_time_order.loc[in_time_order["is_anomaly"] == 1].drop(columns="is_anomaly")
    if not points.long:
        out = out.drop(columns="series")
    return DetectOutput(
        frame=out, anomalies=anomalies.reset_index(drop=True), series_count=len(order)
    )


# -- forecasting -----------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesForecast:
    """The outcome for one series: the model and its reason, or the error."""

    series: str
    points: int
    step_seconds: float | None = None
    model: str | None = None
    reason: str | None = None
    periods: tuple[int, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class ForecastOutput:
    """What :func:`forecast_points` returns.

    Attributes
    ----------
    frame : ``series, timestamp, forecast, lower_L, upper_L, ..., model`` (levels
        ascending), ``horizon`` rows per series that succeeded.
    reports : one :class:`SeriesForecast` per series, in input order.
    """

    frame: pd.DataFrame
    reports: list[SeriesForecast] = field(default_factory=list)

    @property
    def failed(self) -> list[SeriesForecast]:
        return [r for r in self.reports if r.error is not None]


def check_forecast_options(horizon: int, levels: Iterable[float]) -> list[float]:
    """Validate the horizon and levels (percent); the levels sorted and unique."""
    if int(horizon) != horizon or horizon < 1:
        raise InputError(f"horizon must be a positive integer, got {horizon}")
    try:
        out = normalize_levels(list(levels))
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    if not out:
        raise InputError("at least one confidence level is needed")
    return out


def forecast_points(
    points: Points, horizon: int, levels: Iterable[float] = (80, 95)
) -> ForecastOutput:
    """Forecast every series with :func:`~augury.engines.forecast.auto_forecast`.

    Each series' sampling interval is the median difference of its sorted, distinct
    timestamps; the history is laid on that grid (duplicates averaged, missing steps
    left as gaps for the engine to fill) and the future timestamps continue it in the
    input's format (epoch seconds, or ISO 8601 in the style of the series' last
    timestamp). A series that fails is reported in ``reports`` and left out of
    ``frame``; the others go on.
    """
    lv = check_forecast_options(horizon, levels)
    frames, reports = [], []
    for name, rows in points.groups():
        try:
            frame, report = _forecast_one(str(name), rows, points.epoch, int(horizon), lv)
        except Exception as exc:  # one failing series must not fail the file
            report = SeriesForecast(series=str(name), points=len(rows), error=_one_line(exc))
            frame = None
        reports.append(report)
        if frame is not None:
            frames.append(frame)
    columns = ["series", "timestamp", "forecast"]
    for v in lv:
        columns += [f"lower_{level_key(v)}", f"upper_{level_key(v)}"]
    columns.append("model")
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return ForecastOutput(frame=out[columns], reports=reports)


def _forecast_one(
    name: str, rows: pd.DataFrame, epoch: bool, horizon: int, levels: list[float]
) -> tuple[pd.DataFrame, SeriesForecast]:
    sec = rows["seconds"].to_numpy()
    y, step = on_grid(sec, rows["value"].to_numpy())
    res = auto_forecast(y, horizon, levels=levels, **forecast_options(step))
    stamps = future_timestamps(
        rows["timestamp"].iloc[-1],
        float(sec[-1]),
        step,
        horizon,
        epoch,
        integral=bool(np.all(sec == np.round(sec))),
    )
    data = {"series": name, "timestamp": stamps, "forecast": res.mean}
    for v in levels:
        data[f"lower_{level_key(v)}"] = res.lower[v]
        data[f"upper_{level_key(v)}"] = res.upper[v]
    frame = pd.DataFrame(data).round(6)
    frame["model"] = res.model
    report = SeriesForecast(
        series=name,
        points=len(rows),
        step_seconds=step,
        model=res.model,
        reason=res.reason,
        periods=tuple(res.periods),
    )
    return frame, report


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if not isinstance(exc, ValueError) else text
