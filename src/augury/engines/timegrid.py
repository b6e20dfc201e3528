"""Regular time grids: the sampling interval of timestamps, values laid on it, and its future.

A series sent as (timestamp, value) pairs becomes an array on a regular grid here,
before the forecasting engine sees it, and the engine's horizon becomes timestamps
again. The server's forecast tasks and the CSV file commands (`augury.offline`) share
these functions, so a metric and the same points in a file get the same grid, the same
engine options and the same future timestamps. Pure numpy/pandas, like every engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "describe_step",
    "forecast_options",
    "future_timestamps",
    "infer_step",
    "on_grid",
]

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


def infer_step(seconds: npt.ArrayLike) -> float:
    """Sampling interval in seconds: the median difference of the distinct timestamps.

    With an even number of differences the lower of the two middle ones is taken, so the
    interval is always one that occurs in the data.

    >>> infer_step([0, 60, 120, 240])  # one gap does not change the step
    60.0
    """
    u = np.unique(np.asarray(seconds, dtype=float))
    if len(u) < 2:
        raise ValueError("needs at least two distinct timestamps to infer the sampling interval")
    return float(np.quantile(np.diff(u), 0.5, method="lower"))


def on_grid(seconds: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, float]:
    """Values laid on a regular grid from the first timestamp (NaN where nothing fell).

    >>> on_grid(np.array([0.0, 60.0, 180.0]), np.array([1.0, 2.0, 4.0]))
    (array([ 1.,  2., nan,  4.]), 60.0)
    """
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


def forecast_options(step: float) -> dict[str, Any]:
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
) -> list[int | float | str]:
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
    """A step for people to read.

    >>> describe_step(3600), describe_step(300), describe_step(90), describe_step(None)
    ('1h', '5min', '90s', '?')
    """
    return "?" if seconds is None else _duration(seconds)
