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

__all__ = ["Forecaster", "clean_series", "gaussian_bands", "normalize_levels"]


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


def gaussian_bands(mean: np.ndarray, sd: np.ndarray, levels: list[float]) -> dict:
    """``{"mean", "lo-L", "hi-L"}`` from normal quantiles around ``mean``."""
    out = {"mean": np.asarray(mean, dtype=float)}
    for v in levels:
        z = norm.ppf(0.5 + v / 200.0)
        out[f"lo-{level_key(v)}"] = out["mean"] - z * sd
        out[f"hi-{level_key(v)}"] = out["mean"] + z * sd
    return out
