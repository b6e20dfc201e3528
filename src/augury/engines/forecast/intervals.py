"""Prediction intervals calibrated on backtest errors (split conformal prediction).

The automatic forecaster collects the errors its chosen forecast made in rolling-origin
backtests on the series' own history. The interval for level L at horizon step k is the
forecast shifted by empirical quantiles of those errors, taken over the steps near k
(a window of horizon steps) so that intervals widen as errors grow with the horizon.
Positive series use log ratios ``log(actual / forecast)``, so intervals are
multiplicative and never cross zero; other series use differences.

References
----------
Vovk, V., Gammerman, A. and Shafer, G. (2005). Algorithmic Learning in a Random
World. Springer. Stankeviciute, K., Alaa, A. and van der Schaar, M. (2021).
Conformal time-series forecasting. NeurIPS 34.
"""

from __future__ import annotations

import numpy as np

from .base import level_key

__all__ = ["conformal_bands", "conformal_quantile", "residuals"]


def residuals(actual: np.ndarray, forecast: np.ndarray, log: bool) -> np.ndarray:
    """Backtest errors on the scale the intervals use (log ratio or difference)."""
    if log:
        return np.log(actual) - np.log(forecast)
    return actual - forecast


def conformal_quantile(errors: np.ndarray, q: float) -> float:
    """Quantile with the split-conformal finite-sample correction (``ceil((n+1) q) / n``).

    Examples
    --------
    >>> conformal_quantile(np.arange(1.0, 11.0), 0.9)  # not 9.1: rounded up, conservative
    10.0
    >>> conformal_quantile(np.array([np.nan]), 0.5)  # no finite error: no widening
    0.0
    """
    e = np.sort(errors[np.isfinite(errors)])
    n = len(e)
    if n == 0:
        return 0.0
    k = int(np.ceil((n + 1) * q)) - 1
    return float(e[min(max(k, 0), n - 1)])


def conformal_bands(
    mean: np.ndarray,
    errors: np.ndarray,
    levels: list[float],
    log: bool,
    width: int = 6,
    scale: float = 1.0,
) -> dict:
    """``{"lo-L": ..., "hi-L": ...}`` around ``mean`` from backtest ``errors``.

    Parameters
    ----------
    mean : forecast, shape ``(h,)``.
    errors : backtest errors, shape ``(n_windows, hb)`` (window x horizon step).
    levels : confidence levels in percent.
    log : whether errors are log ratios (multiplicative bands).
    width : errors of the steps within ``width`` of step k are pooled for step k.
    scale : widening factor applied to the error quantiles (1 = pure conformal).

    Examples
    --------
    >>> errors = np.array([[-5.0, -8.0], [4.0, 6.0], [-1.0, 2.0]])  # 3 windows, 2 steps
    >>> bands = conformal_bands(np.array([100.0, 100.0]), errors, [80], log=False, width=0)
    >>> bands["lo-80"], bands["hi-80"]  # wider at the step whose errors were larger
    (array([95., 92.]), array([104., 106.]))
    """
    h = len(mean)
    errors = np.atleast_2d(errors)
    hb = errors.shape[1]
    out = {}
    for v in levels:
        alpha = 1.0 - v / 100.0
        lo = np.empty(h)
        hi = np.empty(h)
        for k in range(h):
            # beyond the backtest horizon: the last block, widened like a random walk
            kk = min(k, hb - 1)
            block = errors[:, max(0, kk - width) : kk + width + 1].ravel()
            grow = np.sqrt((k + 1) / hb) if k >= hb else 1.0
            lo[k] = conformal_quantile(block, alpha / 2) * scale * grow
            hi[k] = conformal_quantile(block, 1 - alpha / 2) * scale * grow
        lo = np.minimum(lo, 0.0)
        hi = np.maximum(hi, 0.0)
        if log:
            out[f"lo-{level_key(v)}"] = mean * np.exp(lo)
            out[f"hi-{level_key(v)}"] = mean * np.exp(hi)
        else:
            out[f"lo-{level_key(v)}"] = mean + lo
            out[f"hi-{level_key(v)}"] = mean + hi
    return out
