"""Forecast accuracy as the M4 competition defines it: sMAPE, MASE, Naive2 and OWA.

References
----------
Makridakis, S., Spiliotis, E. and Assimakopoulos, V. (2020). The M4 Competition:
100,000 time series and 61 forecasting methods. International Journal of
Forecasting 36(1), 54-74.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .seasonality import classical_seasonal_indices, is_seasonal

__all__ = ["coverage", "mase", "naive2", "owa", "smape", "seasonal_naive_scale"]


def smape(y_true, y_pred) -> float:
    """Symmetric MAPE in percent: ``200/h * sum |y - f| / (|y| + |f|)``.

    Terms where both the actual and the forecast are zero count as zero error (the
    M4 data has no zeros; this keeps the metric finite on data that does).

    Examples
    --------
    >>> smape([100.0, 200.0], [110.0, 180.0])
    10.025062656641603
    """
    y = np.asarray(y_true, dtype=float)
    f = np.asarray(y_pred, dtype=float)
    num = np.abs(y - f)
    den = np.abs(y) + np.abs(f)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(den > 0, num / den, 0.0)
    return float(200.0 * np.mean(ratio))


def seasonal_naive_scale(insample, m: int = 1) -> float:
    """MASE denominator: mean absolute in-sample error of the seasonal naive (lag ``m``).

    Falls back to lag 1 when the history is not longer than ``m``.
    """
    x = np.asarray(insample, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) <= m:
        m = 1
    if len(x) <= m:
        return float("nan")
    return float(np.mean(np.abs(x[m:] - x[:-m])))


def mase(y_true, y_pred, insample, m: int = 1) -> float:
    """Mean absolute scaled error: MAE of the forecast / in-sample seasonal-naive MAE.

    Examples
    --------
    >>> mase([3.0, 5.0], [4.0, 4.0], insample=[1.0, 2.0, 3.0, 4.0], m=1)
    1.0
    """
    y = np.asarray(y_true, dtype=float)
    f = np.asarray(y_pred, dtype=float)
    scale = seasonal_naive_scale(insample, m)
    mae = float(np.mean(np.abs(y - f)))
    if not scale > 0:
        return 0.0 if mae == 0 else float("inf")
    return mae / scale


def naive2(insample, h: int, m: int = 1) -> np.ndarray:
    """The M4 Naive2 benchmark: naive forecast of the seasonally adjusted series.

    When the series passes the 90 % seasonality test for period ``m`` (and has at least
    three periods), it is divided by the indices of the classical multiplicative
    decomposition; the last adjusted value is repeated and re-seasonalised.

    Examples
    --------
    >>> naive2([1.0, 2.0, 3.0], h=2)
    array([3., 3.])
    """
    x = np.asarray(insample, dtype=float)
    n = len(x)
    if m > 1 and is_seasonal(x, m):
        si = classical_seasonal_indices(x, m, multiplicative=True)
        last_si = si[(n - 1) % m]
        future_si = si[(n + np.arange(h)) % m]
        return x[-1] / last_si * future_si
    return np.repeat(x[-1], h).astype(float)


def coverage(y_true, lower, upper) -> float:
    """Share of actuals inside ``[lower, upper]`` (in 0..1)."""
    y = np.asarray(y_true, dtype=float)
    return float(np.mean((y >= np.asarray(lower)) & (y <= np.asarray(upper))))


def owa(
    y_true: Sequence,
    y_pred: Sequence,
    insample: Sequence,
    m: int,
    benchmark: Sequence | None = None,
) -> dict:
    """Overall weighted average of a method over many series, relative to Naive2.

    As in M4, sMAPE and MASE are first averaged over all series, then each average is
    divided by Naive2's, and OWA is the mean of the two ratios.

    Parameters
    ----------
    y_true, y_pred, insample : sequences of 1-D arrays, one per series.
    m : seasonal period used by the MASE scale and by Naive2.
    benchmark : Naive2 forecasts, computed when omitted.

    Returns
    -------
    dict with ``smape``, ``mase``, ``owa``, ``naive2_smape`` and ``naive2_mase``.
    """
    if benchmark is None:
        benchmark = [naive2(x, len(y), m) for x, y in zip(insample, y_true, strict=True)]
    s = np.mean([smape(y, f) for y, f in zip(y_true, y_pred, strict=True)])
    ms = np.mean([mase(y, f, x, m) for y, f, x in zip(y_true, y_pred, insample, strict=True)])
    s2 = np.mean([smape(y, f) for y, f in zip(y_true, benchmark, strict=True)])
    ms2 = np.mean([mase(y, f, x, m) for y, f, x in zip(y_true, benchmark, insample, strict=True)])
    return {
        "smape": float(s),
        "mase": float(ms),
        "owa": float(0.5 * (s / s2 + ms / ms2)),
        "naive2_smape": float(s2),
        "naive2_mase": float(ms2),
    }
