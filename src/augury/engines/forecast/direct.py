"""Direct multi-step regression: one linear model per horizon step.

The recursive :class:`~.lagreg.LagRegression` feeds its own forecasts back in, so its
errors compound over the horizon; this model instead regresses ``x[t + k]`` directly on
what is known at the origin ``t``, separately for each step ``k``. The two strategies
make different errors, which is why averaging them helps (Ben Taieb et al. 2012).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from .base import Forecaster, clean_series, level_key, normalize_levels

__all__ = ["DirectRegression"]


class DirectRegression(Forecaster):
    """``x[t+k] = c_k + sum_j a_kj x[t-j] + sum_s b_ks x[t+k-s]``, fitted for each ``k``.

    ``x`` is ``log(y)`` for positive series (``transform="auto"``), standardised.
    ``recent`` are offsets back from the origin (``0`` = the last observation);
    ``seasonal`` are lags counted from the *target*, used for step ``k`` only when
    ``s >= k`` (the value one week before the target hour, for example). Each step's
    coefficients come from a robust, recency-weighted ridge regression like
    :class:`~.lagreg.LagRegression`'s. Intervals are Gaussian in the transformed space
    with each step's own residual spread. Fitting needs the horizon, so ``fit`` stores
    the data and ``predict(h)`` estimates the ``h`` models.

    Parameters
    ----------
    recent : tuple of int
        Offsets back from the origin used at every step.
    seasonal : tuple of int
        Target-relative lags (e.g. 168 and 336 for hourly data).
    half_life, ridge, transform, robust
        As in :class:`~.lagreg.LagRegression`.

    References
    ----------
    Ben Taieb, S., Bontempi, G., Atiya, A. and Sorjamaa, A. (2012). A review and
    comparison of strategies for multi-step ahead time series forecasting based on the
    NN5 forecasting competition. Expert Systems with Applications 39(8), 7067-7083.

    Examples
    --------
    >>> t = np.arange(96)
    >>> y = 10 + np.sin(2 * np.pi * t / 12)
    >>> f = DirectRegression(recent=tuple(range(12)), seasonal=(12,)).forecast(y, 6)["mean"]
    >>> bool(np.abs(f - (10 + np.sin(2 * np.pi * np.arange(96, 102) / 12))).max() < 0.05)
    True
    """

    def __init__(
        self,
        recent: tuple[int, ...] = (0, 1, 2),
        seasonal: tuple[int, ...] = (),
        half_life: float | None = None,
        ridge: float = 1e-4,
        transform: str = "auto",
        robust: float | None = 1.345,
    ):
        self.recent = recent
        self.seasonal = seasonal
        self.half_life = half_life
        self.ridge = ridge
        self.transform = transform
        self.robust = robust

    def fit(self, y) -> DirectRegression:
        y = clean_series(y)
        use_log = self.transform in ("auto", "log") and bool(np.all(y > 0))
        x = np.log(y) if use_log else y.copy()
        sd = float(x.std())
        sd = sd if sd > 0 else 1.0
        mu = float(x[-min(len(x), 168) :].mean())
        self.model_ = {"z": (x - mu) / sd, "mu": mu, "sd": sd, "log": use_log}
        return self

    def predict(self, h: int, level=None) -> dict:
        st = self._check_fitted()
        z = st["z"]
        n = len(z)
        levels = normalize_levels(level)
        mean = np.full(h, float(z[-1]))
        se = np.full(h, float(z.std()))
        # Steps with the same regressors are fitted together as one batch of problems.
        plans: dict[tuple, list[int]] = {}
        for k in range(1, h + 1):
            plans.setdefault(self._regressors(n, k), []).append(k)
        for (recent, seasonal), ks in plans.items():
            if recent is None:  # too short for any regression: last value
                continue
            steps = np.asarray(ks)
            m, s = _batched_direct(
                z, recent, seasonal, steps, self.half_life, self.ridge, self.robust
            )
            mean[steps - 1], se[steps - 1] = m, s
        back = (
            (lambda v: np.exp(v * st["sd"] + st["mu"]))
            if st["log"]
            else (lambda v: v * st["sd"] + st["mu"])
        )
        out = {"mean": back(mean)}
        for v in levels:
            q = norm.ppf(0.5 + v / 200.0)
            out[f"lo-{level_key(v)}"] = back(mean - q * se)
            out[f"hi-{level_key(v)}"] = back(mean + q * se)
        return out

    def _regressors(self, n: int, k: int) -> tuple:
        """``(recent, seasonal)`` usable for step ``k`` with ``n`` points of history."""
        recent = sorted({int(j) for j in self.recent if int(j) >= 0})
        seasonal = sorted({int(s) for s in self.seasonal if int(s) >= k})

        def n_rows():
            first = max([max(recent, default=0)] + [s - k for s in seasonal])
            return n - k - first

        while n_rows() < 2 * (len(recent) + len(seasonal) + 1) + 2 and (recent or seasonal):
            # short history: drop the farthest-reaching regressors first
            if seasonal:
                seasonal.pop()
            else:
                recent.pop()
        if n_rows() < 2:
            return (None, None)
        return (tuple(recent), tuple(seasonal))

    @classmethod
    def _test_params(cls) -> dict:
        return {"recent": (0, 1, 2, 3), "seasonal": (4, 8), "half_life": 24.0}


def _batched_direct(
    z: np.ndarray,
    recent: tuple[int, ...],
    seasonal: tuple[int, ...],
    steps: np.ndarray,
    half_life: float | None,
    ridge: float,
    robust: float | None,
    iterations: int = 3,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit the direct models of ``steps`` at once; returns (forecasts, residual sd).

    Same estimator as :func:`~.lagreg.weighted_ridge` applied step by step, written as
    batched matrix products: step ``k`` uses origins ``first_k .. n-1-k``, aligned on
    their last origin and padded with zero-weight rows to a common length.
    """
    n = len(z)
    last = n - 1 - steps
    first = np.full(len(steps), max(recent, default=0))
    if seasonal:
        first = np.maximum(first, max(seasonal) - steps)
    rows = int((last - first + 1).max())
    # Rows older than ~20 half-lives weigh < 1e-6: dropping them bounds memory and time
    # on very long histories (the batch holds steps x rows x regressors floats).
    rows = min(rows, int(20 * half_life) if half_life else 5000)
    first = np.maximum(first, last - rows + 1)
    age = np.arange(rows)[::-1]  # rows counted back from each step's last origin
    origins = last[:, None] - age[None, :]
    valid = origins >= first[:, None]
    o = np.where(valid, origins, last[:, None])
    cols = [z[o - j] for j in recent] + [z[o + steps[:, None] - s] for s in seasonal]
    X = np.stack([*cols, np.ones_like(o, dtype=float)], axis=-1)
    t = z[o + steps[:, None]]
    decay = (0.5 ** (age / float(half_life)) if half_life else np.ones(rows))[None, :] * valid
    p = X.shape[-1]
    pen = np.eye(p)
    pen[-1, -1] = 0.0  # the intercept is not shrunk
    pen = ridge * decay.sum(axis=1)[:, None, None] * pen[None]
    w = decay
    for _ in range(iterations if robust else 1):
        Xw = X * w[..., None]
        A = np.swapaxes(Xw, 1, 2) @ X + pen
        b = np.einsum("krp,kr->kp", Xw, t)
        try:
            beta = np.linalg.solve(A, b[..., None])[..., 0]
        except np.linalg.LinAlgError:
            beta = (np.linalg.pinv(A) @ b[..., None])[..., 0]
        if not robust:
            break
        r = t - np.einsum("krp,kp->kr", X, beta)
        med = _row_medians(r, valid)
        scale = 1.4826 * _row_medians(np.abs(r - med[:, None]), valid)
        ok = scale > 0
        u = np.abs(r) / (robust * np.where(ok, scale, 1.0))[:, None]
        w = np.where(ok[:, None], decay * np.minimum(1.0, 1.0 / np.maximum(u, 1e-12)), decay)
    resid = t - np.einsum("krp,kp->kr", X, beta)
    sigma = np.sqrt((decay * resid**2).sum(axis=1) / decay.sum(axis=1))
    end = n - 1
    row = np.column_stack(
        [np.full(len(steps), z[end - j]) for j in recent]
        + [z[end + steps - s] for s in seasonal]
        + [np.ones(len(steps))]
    )
    return (row * beta).sum(axis=1), sigma


def _row_medians(a: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Median of each row over its valid entries (np.nanmedian is slow on many rows)."""
    srt = np.sort(np.where(valid, a, np.nan), axis=1)  # NaN sorts last
    cnt = np.maximum(valid.sum(axis=1), 1)
    idx = np.arange(len(a))
    return 0.5 * (srt[idx, (cnt - 1) // 2] + srt[idx, cnt // 2])
