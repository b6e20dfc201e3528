"""The forecaster contract shared by every model in this package.

A forecaster is configured by its constructor (arguments stored verbatim, no work
done), learns from a 1-D history with ``fit(y) -> self`` (fitted state in ``model_``)
and answers ``predict(h, level=None) -> {"mean": ..., "lo-80": ..., "hi-80": ...}``.
``forecast(y, h, level=None)`` is the stateless shortcut and equals ``fit`` then
``predict``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy.stats import norm

__all__ = ["Forecaster", "clean_series", "fill_masked", "gaussian_bands", "normalize_levels"]


class Forecaster:
    """Base class: subclasses implement ``fit`` and ``predict``."""

    model_: dict | None = None

    def fit(self, y) -> Forecaster:  # pragma: no cover - interface
        raise NotImplementedError

    def predict(self, h: int, level: Iterable[float] | None = None) -> dict:  # pragma: no cover
        raise NotImplementedError

    def forecast(self, y, h: int, level: Iterable[float] | None = None) -> dict:
        """Fit on ``y`` and forecast ``h`` steps (same result as ``fit(y).predict(h)``)."""
        return self.fit(y).predict(h, level=level)

    def _check_fitted(self) -> dict:
        if self.model_ is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit(y) first")
        return self.model_

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({params})"


def normalize_levels(level: Iterable[float] | float | None) -> list[float]:
    """Validate confidence levels (percent, strictly between 0 and 100); sorted, unique."""
    if level is None:
        return []
    if isinstance(level, int | float):
        level = [level]
    out = sorted({float(v) for v in level})
    for v in out:
        if not 0.0 < v < 100.0:
            raise ValueError(f"confidence level must be between 0 and 100 (exclusive), got {v}")
    return out


def level_key(v: float) -> str:
    """``80.0 -> "80"``, ``97.5 -> "97.5"`` (the suffix of ``lo-``/``hi-`` keys)."""
    return f"{v:g}"


def clean_series(y) -> np.ndarray:
    """A float copy of ``y`` with gaps filled, ready for the models.

    Leading and trailing missing values are dropped and interior gaps (NaN, ±inf) are
    filled by linear interpolation. Raises ``ValueError`` when nothing is left.
    """
    x = np.asarray(y, dtype=float).ravel()
    ok = np.isfinite(x)
    if not ok.any():
        raise ValueError("the series has no finite values to forecast from")
    first, last = np.argmax(ok), len(ok) - 1 - np.argmax(ok[::-1])
    x = x[first : last + 1].copy()
    ok = ok[first : last + 1]
    if not ok.all():
        idx = np.arange(len(x))
        x[~ok] = np.interp(idx[~ok], idx[ok], x[ok])
    return x


def fill_masked(y, mask, period: int | None = None, reach: int = 3) -> np.ndarray:
    """A float copy of ``y`` with the points flagged in ``mask`` replaced.

    A flagged point (an incident, an outage) takes the mean of the nearest unflagged
    points at the same phase of the cycle before and after it (``period`` steps away,
    up to ``reach`` cycles each way), or of the one side that has one; without a
    ``period``, or with no such point, it is interpolated linearly between the nearest
    unflagged points. Unflagged NaN stay NaN (:func:`clean_series` fills them). When
    every finite point is flagged the mask is ignored (there is nothing to learn from).

    >>> fill_masked([1.0, 2.0, 9.0, 4.0], [False, False, True, False])
    array([1., 2., 3., 4.])
    >>> fill_masked([1.0, 5.0, 1.0, 50.0, 1.0, 5.0], [0, 0, 0, 1, 0, 0], period=2)
    array([1., 5., 1., 5., 1., 5.])
    """
    x = np.asarray(y, dtype=float).ravel().copy()
    m = np.asarray(mask, dtype=bool).ravel()
    if m.shape != x.shape:
        raise ValueError(f"the mask flags {m.size} points but the series has {x.size}")
    good = np.isfinite(x) & ~m
    todo = np.flatnonzero(m)
    if todo.size == 0 or not good.any():
        return x
    n = len(x)
    p = int(period) if period and period > 1 else 0
    linear = np.interp(todo, np.flatnonzero(good), x[good])
    for j, i in enumerate(todo):
        same_phase = []
        if p:
            for sign in (-1, 1):
                for k in range(1, reach + 1):
                    t = i + sign * k * p
                    if 0 <= t < n and good[t]:
                        same_phase.append(x[t])
                        break
        x[i] = float(np.mean(same_phase)) if same_phase else linear[j]
    return x


def gaussian_bands(mean: np.ndarray, sd: np.ndarray, levels: list[float]) -> dict:
    """``{"mean", "lo-L", "hi-L"}`` from normal quantiles around ``mean``."""
    out = {"mean": np.asarray(mean, dtype=float)}
    for v in levels:
        z = norm.ppf(0.5 + v / 200.0)
        out[f"lo-{level_key(v)}"] = out["mean"] - z * sd
        out[f"hi-{level_key(v)}"] = out["mean"] + z * sd
    return out
