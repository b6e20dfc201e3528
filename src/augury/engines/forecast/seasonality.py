"""Seasonality: autocorrelation, the M4 seasonality test, classical decomposition, period detection.

Kernels are module-level functions on 1-D float arrays with no missing values.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "acf",
    "candidate_periods",
    "classical_seasonal_indices",
    "detect_periods",
    "is_seasonal",
]


def acf(y: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelations ``r_1 .. r_max_lag`` (biased estimator, as R's ``acf``).

    Returns zeros for a constant series.
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    max_lag = min(int(max_lag), n - 1)
    if max_lag < 1:
        return np.zeros(0)
    d = y - y.mean()
    denom = float(d @ d)
    if denom <= 0.0:
        return np.zeros(max_lag)
    if n > 256:
        # FFT: O(n log n) instead of O(n * max_lag); zero-padded so it is not circular.
        size = 1 << int(np.ceil(np.log2(2 * n)))
        f = np.fft.rfft(d, size)
        full = np.fft.irfft(f * np.conj(f), size)[: max_lag + 1]
        return full[1:] / denom
    return np.array([float(d[k:] @ d[:-k]) / denom for k in range(1, max_lag + 1)])


def is_seasonal(y: np.ndarray, period: int, tcrit: float = 1.645) -> bool:
    """The M4 competition's seasonality test (90 % one-sided by default).

    The series is seasonal with ``period`` when ``|r_m| > tcrit * sqrt((1 + 2 sum_{i<m}
    r_i^2) / n)`` (Bartlett's standard error of ``r_m``), as in the competition's R
    benchmark code. It needs at least three full periods; shorter series are not seasonal.
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    if period < 2 or n < 3 * period:
        return False
    r = acf(y, period)
    if len(r) < period:
        return False
    limit = tcrit * np.sqrt((1.0 + 2.0 * float(np.sum(r[: period - 1] ** 2))) / n)
    return bool(abs(r[period - 1]) > limit)


def classical_seasonal_indices(y: np.ndarray, period: int, multiplicative: bool = True):
    """Seasonal indices of the classical decomposition (R's ``decompose``).

    A centred moving average of order ``period`` (2 x m for even m) estimates the trend;
    the ratios (or differences) to it are averaged per position in the cycle and
    normalised to mean 1 (or 0). Returns an array of length ``period`` whose element ``k``
    applies to observations ``t`` with ``t % period == k`` (t counted from the start).
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    m = int(period)
    if m % 2 == 0:
        w = np.r_[0.5, np.ones(m - 1), 0.5] / m
    else:
        w = np.ones(m) / m
    half = len(w) // 2
    trend = np.full(n, np.nan)
    trend[half : n - half] = np.convolve(y, w, mode="valid")
    with np.errstate(divide="ignore", invalid="ignore"):
        detr = y / trend if multiplicative else y - trend
    figure = np.empty(m)
    for k in range(m):
        vals = detr[k::m]
        vals = vals[np.isfinite(vals)]
        figure[k] = vals.mean() if len(vals) else (1.0 if multiplicative else 0.0)
    if multiplicative:
        mean = figure.mean()
        figure = figure / mean if mean != 0 else np.ones(m)
    else:
        figure = figure - figure.mean()
    return figure


def candidate_periods(freq: str | None = None) -> tuple[int, ...]:
    """Seasonal periods worth testing for a sampling frequency (pandas-style alias)."""
    table = {
        "min": (60, 1440),
        "t": (60, 1440),
        "5min": (12, 288),
        "15min": (4, 96, 672),
        "30min": (48, 336),
        "h": (24, 168),
        "d": (7, 365),
        "b": (5,),
        "w": (52,),
        "m": (12,),
        "q": (4,),
        "y": (),
    }
    if freq is None:
        return (4, 5, 7, 12, 24, 52, 168, 365)
    return table.get(freq.lower(), ())


def detect_periods(
    y: np.ndarray,
    candidates: tuple[int, ...] = (4, 7, 12, 24, 52, 168, 365),
    tcrit: float = 1.645,
    max_periods: int = 2,
) -> list[int]:
    """Seasonal periods among ``candidates`` that pass :func:`is_seasonal`.

    A period must also be a local peak of the autocorrelation function. A longer period is kept only when its autocorrelation exceeds the one at the
    already-kept shorter period that divides it (so 168 survives on hourly data with a
    weekly cycle, but not on data with only a daily one). At most ``max_periods``
    periods are returned, shortest first.
    """
    y = np.asarray(y, dtype=float)
    y = y[np.isfinite(y)]
    found: list[int] = []
    usable = sorted(p for p in candidates if 2 <= p and 3 * p <= len(y))
    if not usable:
        return found
    r = acf(y, max(usable) + 1)
    for p in usable:
        # a seasonal lag is a local peak of the autocorrelation (lag 6 of a daily
        # cycle in hourly data correlates too, but is not a period)
        peak = r[p - 1] >= r[p - 2] and (p >= len(r) or r[p - 1] >= r[p])
        if not peak or not is_seasonal(y, p, tcrit):
            continue
        divisors = [q for q in found if p % q == 0]
        if divisors and r[p - 1] <= max(r[q - 1] for q in divisors) + 0.02:
            continue
        found.append(p)
    if len(found) > max_periods:
        # keep the strongest ones
        found = sorted(sorted(found, key=lambda p: -r[p - 1])[:max_periods])
    return found
