"""Local linear autoregression on chosen lags, fitted per series by weighted ridge.

This is augury's own model for long, regularly sampled series with strong cycles
(hourly, half-hourly, ...), where it beats exponential smoothing, Theta and MSTL on
the M4 Hourly training data by a wide margin (see docs/benchmarks.md).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from .base import Forecaster, clean_series, level_key, normalize_levels

__all__ = ["LagRegression", "seasonal_lags"]


def seasonal_lags(periods: tuple[int, ...] | list[int], style: str = "dense") -> tuple[int, ...]:
    """Lags for a series with seasonal ``periods`` (shortest first).

    ``dense``: every lag up to the first period, then each longer period;
    ``dense2``: the same plus two of each longer period (two weeks back on hourly data);
    ``sparse``: 1, 2, 3, the first period and its neighbours, each longer period and
    twice it. Without periods the lags are 1..3 (``sparse``) or 1..8.
    """
    periods = sorted(int(p) for p in periods if int(p) > 1)
    if not periods:
        return (1, 2, 3) if style == "sparse" else tuple(range(1, 9))
    p1, longer = periods[0], periods[1:]
    if style == "sparse":
        lags = {1, 2, 3, p1 - 1, p1, p1 + 1}
        for p in longer:
            lags |= {p, 2 * p}
    else:
        lags = set(range(1, p1 + 1))
        for p in longer:
            lags.add(p)
            if style == "dense2":
                lags.add(2 * p)
    return tuple(sorted(lag for lag in lags if lag >= 1))


class LagRegression(Forecaster):
    """Autoregression ``x_t = c + sum_j b_j x_{t - lag_j}`` forecast recursively.

    ``x`` is the (log-transformed when ``transform="log"`` and the series is positive)
    series, standardised. Coefficients are estimated by ridge regression in which the
    observation ``k`` steps before the end weighs ``0.5 ** (k / half_life)``, so the
    model follows recent behaviour. Lags longer than the history allows are dropped.
    Intervals are Gaussian in the transformed space with the variance of the
    h-step error computed from the model's impulse response (psi weights), then mapped
    back through the inverse transform; they ignore parameter uncertainty, so the
    automatic forecaster calibrates its own intervals by backtest instead.

    Parameters
    ----------
    lags : tuple of int
        Lags used as regressors (e.g. ``seasonal_lags((24, 168))``).
    half_life : float or None
        Half-life of the observation weights, in steps; ``None`` weighs all equally.
    ridge : float
        Ridge penalty per unit of total weight (on standardised data).
    transform : {"auto", "log", "none"}
        ``auto`` and ``log`` model ``log(y)`` when every value is positive.
    robust : float or None
        Huber constant (in robust standard deviations of the residuals) for three
        iteratively reweighted passes, so that outliers in the history pull the
        coefficients less; ``None`` for plain least squares.

    References
    ----------
    Ben Taieb, S., Bontempi, G., Atiya, A. and Sorjamaa, A. (2012). A review and
    comparison of strategies for multi-step ahead time series forecasting based on the
    NN5 forecasting competition. Expert Systems with Applications 39(8), 7067-7083.

    Examples
    --------
    >>> t = np.arange(96)
    >>> y = 10 + np.sin(2 * np.pi * t / 12)
    >>> f = LagRegression(lags=(1, 12)).forecast(y, h=12, level=[80])
    >>> bool(np.abs(f["mean"] - y[-12:]).max() < 0.05)
    True
    >>> bool((f["lo-80"] <= f["mean"]).all() and (f["mean"] <= f["hi-80"]).all())
    True
    """

    def __init__(
        self,
        lags: tuple[int, ...] = (1, 2, 3),
        half_life: float | None = None,
        ridge: float = 1e-4,
        transform: str = "auto",
        robust: float | None = 1.345,
    ):
        self.lags = lags
        self.half_life = half_life
        self.ridge = ridge
        self.transform = transform
        self.robust = robust

    def fit(self, y) -> LagRegression:
        y = clean_series(y)
        use_log = self.transform in ("auto", "log") and bool(np.all(y > 0))
        x = np.log(y) if use_log else y.copy()
        n = len(x)
        lags = usable_lags(self.lags, n)
        mu = float(x[-min(n, max(lags, default=1)) :].mean())
        sd = float(x.std())
        if not sd > 0:
            sd = 1.0
        z = (x - mu) / sd
        if lags:
            X, t = lag_matrix(z, lags)
            beta, sigma = weighted_ridge(X, t, self.half_life, self.ridge, self.robust)
        else:  # too short for any lag: the mean of what we have
            beta, sigma = np.zeros(1), float(z.std())
        self.model_ = {
            "lags": lags,
            "beta": beta,
            "sigma": sigma,
            "mu": mu,
            "sd": sd,
            "log": use_log,
            "tail": z[-max(lags, default=1) :].copy(),
            "zmin": float(z.min()),
            "zmax": float(z.max()),
        }
        return self

    def predict(self, h: int, level=None) -> dict:
        st = self._check_fitted()
        lags, beta = st["lags"], st["beta"]
        z = recursive_forecast(st["tail"], lags, beta, h)
        # Safety rail: an explosive recursion may not leave a band around the history.
        span = st["zmax"] - st["zmin"]
        z = np.clip(z, st["zmin"] - span, st["zmax"] + span)
        levels = normalize_levels(level)
        se = st["sigma"] * np.sqrt(np.cumsum(psi_weights(lags, beta, h) ** 2)) if levels else 0
        back = (
            (lambda v: np.exp(v * st["sd"] + st["mu"]))
            if st["log"]
            else (lambda v: v * st["sd"] + st["mu"])
        )
        out = {"mean": back(z)}
        for v in levels:
            q = norm.ppf(0.5 + v / 200.0)
            out[f"lo-{level_key(v)}"] = back(z - q * se)
            out[f"hi-{level_key(v)}"] = back(z + q * se)
        return out

    @classmethod
    def _test_params(cls) -> dict:
        return {"lags": (1, 2, 4), "half_life": 24.0}


def usable_lags(lags, n: int) -> tuple[int, ...]:
    """Drop the longest lags until enough rows remain (two per coefficient, at least)."""
    lags = sorted({int(v) for v in lags if int(v) >= 1})
    while lags and (n - lags[-1]) < 2 * (len(lags) + 1) + 2:
        lags.pop()
    return tuple(lags)


def lag_matrix(z: np.ndarray, lags: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Design matrix (one column per lag, intercept last) and targets of an AR fit."""
    n, big = len(z), max(lags)
    X = np.empty((n - big, len(lags) + 1))
    for j, lag in enumerate(lags):
        X[:, j] = z[big - lag : n - lag]
    X[:, -1] = 1.0
    return X, z[big:]


def weighted_ridge(
    X: np.ndarray,
    t: np.ndarray,
    half_life: float | None,
    ridge: float,
    robust: float | None = None,
    iterations: int = 3,
) -> tuple[np.ndarray, float]:
    """Ridge regression with exponentially decaying row weights (last row weighs 1).

    The intercept (last column) is not shrunk. With ``robust``, Huber weights
    ``min(1, c / |r / s|)`` (``s``: MAD of the residuals) multiply the decay weights over
    ``iterations`` passes. Returns ``(beta, sigma)``, sigma being the weighted RMS of
    the residuals under the decay weights alone.
    """
    rows = len(t)
    decay = 0.5 ** ((rows - 1 - np.arange(rows)) / float(half_life)) if half_life else np.ones(rows)
    pen = ridge * decay.sum() * np.eye(X.shape[1])
    pen[-1, -1] = 0.0  # the intercept is not shrunk
    w = decay
    for _ in range(iterations if robust else 1):
        Xw = X * w[:, None]
        try:
            beta = np.linalg.solve(Xw.T @ X + pen, Xw.T @ t)
        except np.linalg.LinAlgError:
            beta = np.linalg.lstsq(Xw.T @ X + pen, Xw.T @ t, rcond=None)[0]
        if robust:
            r = t - X @ beta
            s = 1.4826 * _median(np.abs(r - _median(r)))
            if not s > 0:
                break
            u = np.abs(r) / (robust * s)
            w = decay * np.minimum(1.0, 1.0 / np.maximum(u, 1e-12))
    resid = t - X @ beta
    sigma = float(np.sqrt(np.sum(decay * resid**2) / decay.sum()))
    return beta, sigma


def _median(v: np.ndarray) -> float:
    """Median by partial sort (np.median's generic path costs more than the fit here)."""
    k = len(v) // 2
    part = np.partition(v, (k - 1, k) if len(v) % 2 == 0 and k > 0 else k)
    return float(0.5 * (part[k - 1] + part[k])) if len(v) % 2 == 0 and k > 0 else float(part[k])


def recursive_forecast(tail: np.ndarray, lags, beta: np.ndarray, h: int) -> np.ndarray:
    """Iterate the fitted recursion ``h`` steps past ``tail`` (standardised values)."""
    if not lags:
        return np.full(h, beta[-1])
    k = len(tail)
    buf = np.empty(k + h)
    buf[:k] = tail
    lg = np.asarray(lags)
    coef, c = beta[:-1], beta[-1]
    for i in range(h):
        buf[k + i] = buf[k + i - lg] @ coef + c
    return buf[k:]


def psi_weights(lags, beta: np.ndarray, h: int) -> np.ndarray:
    """Impulse response ``psi_0..psi_{h-1}`` of the recursion (``psi_0 = 1``)."""
    psi = np.zeros(h)
    psi[0] = 1.0
    for i in range(1, h):
        psi[i] = sum(b * psi[i - lag] for b, lag in zip(beta[:-1], lags, strict=True) if lag <= i)
    return psi
