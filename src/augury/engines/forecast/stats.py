"""Adapters for statsforecast's automatic models (AutoETS, AutoTheta, MSTL).

statsforecast already follows the ``fit(y)`` / ``predict(h, level)`` contract; the
adapter adds gap filling, the ``model_`` attribute, and a lazy import so that importing
augury stays cheap.
"""

from __future__ import annotations

import numpy as np

from .base import Forecaster, clean_series, normalize_levels

__all__ = ["StatsForecastModel"]

_KINDS = ("auto_ets", "auto_theta", "mstl")


class StatsForecastModel(Forecaster):
    """One of statsforecast's automatic models, behind augury's forecaster contract.

    Parameters
    ----------
    kind : {"auto_ets", "auto_theta", "mstl"}
        ``auto_ets``: AutoETS (Hyndman et al. 2002); ``auto_theta``: AutoTheta
        (Fiorucci et al. 2016); ``mstl``: MSTL decomposition over all ``season_length``
        periods with an AutoETS trend (Bandara et al. 2021).
    season_length : int or tuple of int
        Seasonal period(s); the first one is used by ``auto_ets``/``auto_theta``.

    Examples
    --------
    >>> y = 10 + np.sin(np.arange(48) * np.pi / 6)
    >>> StatsForecastModel("auto_theta", 12).forecast(y, h=3)["mean"].shape
    (3,)
    """

    def __init__(self, kind: str = "auto_ets", season_length: int | tuple[int, ...] = 1):
        self.kind = kind
        self.season_length = season_length

    def _periods(self, n: int) -> list[int]:
        sl = self.season_length
        periods = [int(p) for p in (sl if isinstance(sl, tuple | list) else (sl,))]
        # statsforecast needs at least two full seasons to estimate a seasonal component
        return [p for p in periods if p > 1 and n >= 2 * p] or [1]

    def _make(self, n: int):
        from statsforecast.models import MSTL, AutoETS, AutoTheta

        periods = self._periods(n)
        if self.kind == "auto_ets":
            return AutoETS(season_length=periods[0])
        if self.kind == "auto_theta":
            return AutoTheta(season_length=periods[0])
        if self.kind == "mstl":
            if periods == [1]:
                return AutoETS(season_length=1)
            return MSTL(season_length=periods, trend_forecaster=AutoETS(model="ZZN"))
        raise ValueError(f"unknown statsforecast model {self.kind!r}; expected one of {_KINDS}")

    def fit(self, y) -> StatsForecastModel:
        x = clean_series(y)
        model = self._make(len(x))
        model.fit(y=x)
        self.model_ = {"model": model}
        return self

    def predict(self, h: int, level=None) -> dict:
        st = self._check_fitted()
        levels = normalize_levels(level)
        levels_arg = [int(v) if float(v).is_integer() else v for v in levels] or None
        raw = st["model"].predict(h=h, level=levels_arg)
        return {k: np.asarray(v, dtype=float) for k, v in raw.items()}

    @classmethod
    def _test_params(cls) -> dict:
        return {"kind": "auto_theta", "season_length": 4}
