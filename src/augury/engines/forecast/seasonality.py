"""Seasonality: autocorrelation, the M4 seasonality test, classical decomposition, period detection.

Kernels are module-level functions on 1-D float arrays with no missing values.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FREQ_PERIODS",
    "acf",
    "classical_seasonal_indices",
    "detect_periods",
    "is_seasonal",
    "periods_for_freq",
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
    w = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
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


#: Cycles worth testing per sampling frequency (pandas-style aliases, lower case).
FREQ_PERIODS: dict[str, tuple[int, ...]] = {
    "min": (60, 1440),
    "5min": (288, 2016),
    "10min": (144, 1008),
    "15min": (96, 672),
    "30min": (48, 336),
    "h": (24, 168),
    "d": (7, 365),
    "b": (5,),
    "w": (52,),
    "m": (12,),
    "ms": (12,),
    "me": (12,),
    "q": (4,),
    "qs": (4,),
    "qe": (4,),
    "y": (),
    "ys": (),
    "ye": (),
}


def periods_for_freq(freq: str | None) -> tuple[int, ...]:
    """Seasonal periods worth testing for a sampling frequency.

    ``None`` gives a broad default; an unknown alias raises ``ValueError``.

    Examples
    --------
    >>> periods_for_freq("h")
    (24, 168)
    """
    if freq is None:
        return (4, 7, 12, 24, 52, 168)
    key = freq.strip().lower()
    if key not in FREQ_PERIODS:
        raise ValueError(f"unknown frequency {freq!r}; expected one of {sorted(FREQ_PERIODS)}")
    return FREQ_PERIODS[key]


def detect_periods(
    y: np.ndarray,
    candidates: tuple[int, ...] = (4, 7, 12, 24, 52, 168, 365),
    tcrit: float = 1.645,
    max_periods: int = 2,
) -> list[int]:
    """Seasonal periods among ``candidates`` that pass :func:`is_seasonal`.

    A period must also be a local peak of the autocorrelation function; a trending
    series that fails the test is tested again after first differencing. A longer
    period that is a multiple of a kept shorter one must also pass the test on the
    series seasonally differenced at the shorter period (so 168 survives on hourly
    data with a weekly cycle, but not on data with only a daily one). At most
    ``max_periods``
    periods are returned, shortest first.
    """
    y = np.asarray(y, dtype=float)
    y = y[np.isfinite(y)]
    found: list[int] = []
    usable = sorted(p for p in candidates if p >= 2 and 3 * p <= len(y))
    if not usable:
        return found
    r = acf(y, max(usable) + 1)
    for p in usable:
        # a seasonal lag is a local peak of the autocorrelation (lag 6 of a daily
        # cycle in hourly data correlates too, but is not a period)
        peak = r[p - 1] >= r[p - 2] and (p >= len(r) or r[p - 1] >= r[p])
        if not (peak and is_seasonal(y, p, tcrit)):
            dy = np.diff(y)
            rd = acf(dy, p + 1)
            peak_d = len(rd) >= p and rd[p - 1] >= rd[p - 2]
            peak_d = peak_d and (p >= len(rd) or rd[p - 1] >= rd[p])
            if not (peak_d and is_seasonal(dy, p, tcrit)):
                continue
        divisors = [q for q in found if p % q == 0]
        if divisors:
            # Does the longer cycle add anything? Remove the shorter one by seasonal
            # differencing and test the longer period again on what is left.
            q = max(divisors)
            d = y[q:] - y[:-q]
            if not is_seasonal(d, p, tcrit):
                continue
        found.append(p)
    if len(found) > 1:
        # Drop harmonics: 12 passes on many hourly series only because it is half of the
        # daily cycle. Compared on the differenced series so that a trend does not decide.
        rd = acf(np.diff(y), max(found) + 1)
        found = [
            q
            for q in found
            if not any(p in (2 * q, 3 * q) and rd[p - 1] >= rd[q - 1] for p in found)
        ]
    if len(found) > max_periods:
        # keep the strongest ones
        found = sorted(sorted(found, key=lambda p: -r[p - 1])[:max_periods])
    return found
