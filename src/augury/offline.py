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

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from augury.engines.detect import DEFAULT_DECISION_LEVEL, score_series
from augury.engines.forecast import auto_forecast
from augury.engines.forecast.base import level_key, normalize_levels

__all__ = [
    "DetectOutput",
    "ForecastOutput",
    "InputError",
    "Points",
    "SeriesForecast",
    "check_forecast_options",
    "describe_step",
    "detect_points",
    "forecast_options",
    "forecast_points",
    "future_timestamps",
    "infer_step",
    "on_grid",
    "parse_points",
    "read_csv",
]

_MISSING = {"", "nan", "na", "n/a", "null", "none"}
_DAY, _WEEK = 86400.0, 604800.0
#: Sampling intervals (seconds) that the forecasting engine knows by name.
_FREQ_ALIASES = {
    60.0: "min",
    300.0: "5min",
    600.0: "10min",
    900.0: "15min",
    1800.0: "30min",
    3600.0: "h",
    _DAY: "d",
    _WEEK: "w",
}


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

    def groups(self):
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


def check_forecast_options(horizon: int, levels) -> list[float]:
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


def forecast_points(points: Points, horizon: int, levels=(80, 95)) -> ForecastOutput:
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


def _forecast_one(name, rows, epoch, horizon, levels):
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


def infer_step(seconds) -> float:
    """Sampling interval in seconds: the median difference of the distinct timestamps.

    With an even number of differences the lower of the two middle ones is taken, so the
    interval is always one that occurs in the data.
    """
    u = np.unique(np.asarray(seconds, dtype=float))
    if len(u) < 2:
        raise ValueError("needs at least two distinct timestamps to infer the sampling interval")
    return float(np.quantile(np.diff(u), 0.5, method="lower"))


def on_grid(seconds: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, float]:
    """Values laid on a regular grid from the first timestamp (NaN where nothing fell)."""
    step = infer_step(seconds)
    pos = np.rint((seconds - seconds[0]) / step).astype(np.int64)
    n = int(pos[-1]) + 1
    if n > 4 * len(np.unique(pos)) + 16:
        raise ValueError(
            f"timestamps too irregular: {len(seconds)} points would spread over {n} steps "
            f"of {_duration(step)}"
        )
    ok = np.isfinite(values)
    sums = np.bincount(pos[ok], weights=values[ok], minlength=n)
    counts = np.bincount(pos[ok], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    if not np.isfinite(y).any():
        raise ValueError("no numeric values")
    return y, step


def forecast_options(step: float) -> dict:
    """``auto_forecast`` options for a sampling interval: a ``freq`` alias the engine
    knows, else the daily and weekly cycles in steps (when whole numbers), else none."""
    if step in _FREQ_ALIASES:
        return {"freq": _FREQ_ALIASES[step]}
    days = step / _DAY
    if 28 <= days <= 31:
        return {"freq": "m"}
    if 89 <= days <= 92:
        return {"freq": "q"}
    if 365 <= days <= 366:
        return {"freq": "y"}
    cycles = tuple(
        int(round(c / step)) for c in (_DAY, _WEEK) if c >= 2 * step and (c / step).is_integer()
    )
    cycles = tuple(p for p in cycles if p <= 2016)  # as long as 5-minute data's weekly cycle
    return {"candidate_periods": cycles} if cycles else {}


def future_timestamps(
    last_text: str,
    last_seconds: float,
    step: float,
    horizon: int,
    epoch: bool,
    integral: bool = True,
) -> list:
    """The ``horizon`` timestamps after the last one, in the input's format.

    Epoch input gives epoch seconds (integers when the input and step were whole).
    ISO input gives ISO 8601 in the style of ``last_text``: date only, ``T`` or space
    separator, minutes or seconds, ``Z`` or the same UTC offset. Monthly, quarterly and
    yearly steps follow the calendar (e.g. month ends) instead of a fixed interval.
    """
    k = np.arange(1, horizon + 1)
    if epoch:
        fut = last_seconds + k * step
        if integral and float(step).is_integer():
            return [int(v) for v in np.rint(fut)]
        return [float(v) for v in fut]
    last = pd.Timestamp(last_text)
    tz = last.tz
    base = last.tz_convert("UTC").tz_localize(None) if tz is not None else last
    months = _calendar_months(step)
    if months:  # follow the calendar: month ends stay month ends, the 1st stays the 1st
        month_end = base.normalize() == base and base.is_month_end
        fut = pd.DatetimeIndex(
            [
                base + pd.offsets.MonthEnd(months * i)
                if month_end
                else base + pd.DateOffset(months=months * i)
                for i in k
            ]
        )
    else:
        fut = base + pd.to_timedelta(k * step, unit="s")
    if tz is not None:
        fut = fut.tz_localize("UTC").tz_convert(tz)
    return [_format_like(last_text, t) for t in fut]


def _calendar_months(step: float) -> int:
    """1, 3 or 12 for monthly, quarterly or yearly sampling; 0 otherwise."""
    days = step / _DAY
    for months, lo, hi in ((1, 28, 31), (3, 89, 92), (12, 365, 366)):
        if lo <= days <= hi:
            return months
    return 0


def _format_like(template: str, t: pd.Timestamp) -> str:
    date_only = len(template) == 10 and template[4] == "-" and template[7] == "-"
    if date_only and t == t.normalize():
        return t.strftime("%Y-%m-%d")
    sep = "T" if "T" in template else " "
    clock = template[11:].split("+")[0].split("Z")[0].split("-")[0]
    spec = "minutes" if clock.count(":") == 1 and t.second == 0 and t.microsecond == 0 else "auto"
    text = t.isoformat(sep=sep, timespec=spec)
    if template.endswith("Z") and text.endswith("+00:00"):
        text = text[: -len("+00:00")] + "Z"
    return text


def _duration(seconds: float) -> str:
    for unit, size in (("d", _DAY), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size and (seconds / size).is_integer():
            return f"{int(seconds / size)}{unit}"
    return f"{seconds:g}s"


def describe_step(seconds: float | None) -> str:
    """``3600 -> "1h"``, ``300 -> "5min"``, ``90 -> "90s"``."""
    return "?" if seconds is None else _duration(seconds)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if not isinstance(exc, ValueError) else text
