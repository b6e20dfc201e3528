"""augury's forecasting engine: pure functions and forecasters on 1-D arrays.

The entry point is :func:`auto_forecast`; the server, the CLI and the M4 benchmark all
call it. Every forecaster follows one contract (see :mod:`.base`): ``fit(y) -> self``,
``predict(h, level=None) -> {"mean", "lo-80", "hi-80", ...}`` and ``forecast(y, h)``.
"""

from .auto import AutoForecaster, ForecastResult, auto_forecast, candidate_models
from .direct import DirectRegression
from .lagreg import LagRegression, seasonal_lags
from .metrics import coverage, mase, naive2, owa, smape
from .naive import Naive, SeasonalNaive
from .seasonality import detect_periods, is_seasonal, periods_for_freq
from .stats import StatsForecastModel

__all__ = [
    "AutoForecaster",
    "DirectRegression",
    "ForecastResult",
    "LagRegression",
    "Naive",
    "SeasonalNaive",
    "StatsForecastModel",
    "auto_forecast",
    "candidate_models",
    "coverage",
    "detect_periods",
    "is_seasonal",
    "mase",
    "naive2",
    "owa",
    "periods_for_freq",
    "seasonal_lags",
    "smape",
]
