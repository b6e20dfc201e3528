"""Naive benchmarks: last value, and last season repeated."""

from __future__ import annotations

import numpy as np

from .base import Forecaster, clean_series, gaussian_bands, normalize_levels

__all__ = ["Naive", "SeasonalNaive"]


class SeasonalNaive(Forecaster):
    """Repeat the last full season: ``f(T+k) = y(T+k-m*ceil(k/m))``.

    Intervals are Gaussian with the in-sample seasonal-difference standard deviation,
    growing with the number of seasons ahead (Hyndman & Athanasopoulos, FPP3 5.5).
    With fewer than ``season_length`` points it degrades to the naive forecast.

    Parameters
    ----------
    season_length : int
        Period ``m`` (1 gives the naive forecast).

    Examples
    --------
    >>> SeasonalNaive(season_length=2).forecast([1.0, 2.0, 3.0, 4.0], h=3)["mean"]
    array([3., 4., 3.])
    """

    def __init__(self, season_length: int = 1):
        self.season_length = season_length

    def fit(self, y) -> SeasonalNaive:
        x = clean_series(y)
        m = self._period()
        m = m if len(x) >= m else 1
        diffs = x[m:] - x[:-m]
        sd = float(np.sqrt(np.mean(diffs**2))) if len(diffs) else 0.0
        self.model_ = {"last": x[-m:].copy(), "m": m, "sd": sd}
        return self

    def _period(self) -> int:
        return max(1, int(self.season_length))

    def predict(self, h: int, level=None) -> dict:
        st = self._check_fitted()
        m = st["m"]
        k = np.arange(h)
        mean = st["last"][k % m]
        sd = st["sd"] * np.sqrt(k // m + 1)
        return gaussian_bands(mean, sd, normalize_levels(level))

    @classmethod
    def _test_params(cls) -> dict:
        return {"season_length": 4}


class Naive(SeasonalNaive):
    """Repeat the last value (random walk); ``SeasonalNaive`` with ``season_length=1``.

    Examples
    --------
    >>> Naive().forecast([1.0, 5.0], h=2)["mean"]
    array([5., 5.])
    """

    def __init__(self):
        pass

    def _period(self) -> int:
        return 1

    @classmethod
    def _test_params(cls) -> dict:
        return {}
