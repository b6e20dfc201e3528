"""Automatic forecasting: detect cycles, backtest candidate models, combine the best.

This is the one entry point that the API, the CLI and the M4 benchmark call
(:func:`auto_forecast`). It is pure: arrays in, a :class:`ForecastResult` out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from .base import Forecaster, clean_series, fill_masked, level_key, normalize_levels
from .direct import DirectRegression
from .intervals import conformal_bands, residuals
from .lagreg import LagRegression, seasonal_lags
from .metrics import seasonal_naive_scale, smape
from .naive import Naive, SeasonalNaive
from .seasonality import detect_periods, periods_for_freq
from .stats import StatsForecastModel

__all__ = ["AutoForecaster", "ForecastResult", "auto_forecast", "candidate_models"]

#: Widening of the conformal error quantiles. Backtest errors come from models fitted on
#: shorter histories, and the extreme quantiles of a few hundred errors per series are
#: noisy. Chosen on the M4 Hourly *training* series (last 48 points held out): 1.0
#: (pure conformal) covered 79.5 % / 92.8 % at 80 / 95 %, 1.1 covers 82.5 % / 94.3 %.
INTERVAL_SCALE = 1.1


@dataclass(frozen=True)
class ForecastResult:
    """What :func:`auto_forecast` returns.

    Attributes
    ----------
    mean : point forecast, shape ``(h,)``.
    lower, upper : ``{level: array}`` interval bounds per confidence level (percent).
    model : name of the chosen candidate, or ``"combination(a+b+c)"``.
    candidates : backtest error of every candidate tried (``metric``; lower is better;
        ``inf`` when the candidate failed, ``None`` in :meth:`to_dict`).
    reason : one sentence on why this model was chosen (or which fallback applied).
    periods : seasonal periods used.
    metric : ``"smape"`` (positive series) or ``"mase"`` (series with zeros/negatives).
    interval_method : ``"conformal"`` (backtest errors), ``"model"`` (the fallback
        model's own intervals) or ``"none"`` (constant series).
    details : ``n`` (points used after cleaning), ``excluded`` (points replaced because
        ``exclude`` flagged them) and the backtest ``windows`` as ``(origin, length)``
        pairs.
    """

    mean: np.ndarray
    lower: dict[float, np.ndarray]
    upper: dict[float, np.ndarray]
    model: str
    candidates: dict[str, float]
    reason: str
    periods: tuple[int, ...] = ()
    metric: str = "smape"
    interval_method: str = "conformal"
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready dictionary (arrays become lists, levels become strings)."""
        return {
            "mean": self.mean.tolist(),
            "lower": {level_key(k): v.tolist() for k, v in self.lower.items()},
            "upper": {level_key(k): v.tolist() for k, v in self.upper.items()},
            "model": self.model,
            "candidates": {k: (v if np.isfinite(v) else None) for k, v in self.candidates.items()},
            "reason": self.reason,
            "periods": list(self.periods),
            "metric": self.metric,
            "interval_method": self.interval_method,
        }


def candidate_models(
    periods: tuple[int, ...], n: int, lag_periods: tuple[int, ...] | None = None
) -> dict[str, Callable[[], Forecaster]]:
    """The default candidate pool for a series of length ``n`` with seasonal ``periods``.

    ``lag_periods`` (default: ``periods``) are the cycles the lag regressions look back
    over; :class:`AutoForecaster` passes every candidate period with three cycles of
    history, detected or not: an unneeded lag costs little (its coefficient is
    estimated near zero), while a missed one costs a lot (on the M4 Hourly training
    series, smooth and trending series that fail the seasonality test were still
    forecast best with the 24- and 168-hour lags).

    * ``naive`` and ``seasonal_naive`` always (cheap references);
    * three lag regressions (dense, dense with two long cycles, sparse), weighted to the
      recent past (half-life = the longest period) when the history holds at least
      three of the longest cycles, unweighted otherwise;
    * statsforecast's AutoETS and AutoTheta where they are strong and affordable: a
      first period of at most 12 (daily, weekly, monthly, quarterly data) or short
      series (fewer than ten first periods). On long high-frequency series they lost
      to the lag regressions on the M4 Hourly training data and cost far more.
    """
    pool: dict[str, Callable[[], Forecaster]] = {"naive": Naive}
    m = periods[0] if periods else 1
    if m > 1:
        pool["seasonal_naive"] = lambda: SeasonalNaive(season_length=m)
    lag_periods = tuple(periods if lag_periods is None else lag_periods)
    longest = max(lag_periods, default=1)
    half = float(longest) if longest > 1 and n >= 3 * longest else None
    if n >= 8:
        for style in ("dense", "dense2", "sparse"):
            lags = seasonal_lags(lag_periods, style)
            if style == "dense2" and len(lag_periods) < 2:
                continue
            pool[f"lagreg_{style}"] = partial(LagRegression, lags=lags, half_life=half)
    if n >= 8 and lag_periods:
        first = lag_periods[0]
        longer = tuple(p for p in lag_periods[1:]) or (first,)
        seasonal = tuple(sorted({*longer, *(2 * p for p in longer)}))
        pool["direct"] = lambda: DirectRegression(
            recent=tuple(range(first)), seasonal=seasonal, half_life=half
        )
    if n >= 8 and (m <= 12 or n < 10 * m):
        pool["auto_ets"] = lambda: StatsForecastModel("auto_ets", m)
        pool["auto_theta"] = lambda: StatsForecastModel("auto_theta", m)
    return pool


class AutoForecaster(Forecaster):
    """Backtest a pool of models on the series' own history; forecast with the best.

    ``fit`` fills gaps, detects seasonal periods (unless given), and scores every
    candidate by rolling-origin backtest: ``n_windows`` forecasts of
    ``backtest_horizon`` steps from origins at the end of the history, each model
    refitted on the data before its origin. The error is sMAPE for positive series and
    MASE otherwise. The average of the ``n_combine`` best candidates (geometric for
    positive series) is backtested too, and chosen only when its error is lower than
    the best single candidate's (``combine="if_better"``, the default), so that the
    model shown is always the one with the lowest backtest error among those scored.
    ``combine="always"`` averages the best ones regardless (on the M4 Hourly training
    series that beat pure selection, validation OWA 0.406 vs 0.426; see
    docs/benchmarks.md for what the rule costs there). Prediction intervals are
    split-conformal: empirical
    quantiles of the chosen forecast's backtest errors (see :mod:`.intervals`), log
    ratios for positive series.

    Fallbacks, so that one odd series never fails a batch: a series too short to
    backtest (fewer than ``backtest_horizon + min_train`` points, after shrinking the
    windows) uses one default model with its own intervals (AutoETS, or the naive
    forecast for a handful of points); a constant series gets a flat forecast with
    zero-width intervals; candidates that raise are scored ``inf`` and skipped.

    Parameters
    ----------
    season_length : int, tuple of int or None
        Seasonal period(s). ``None`` detects them with the M4 seasonality test among
        ``candidate_periods``.
    candidate_periods : tuple of int
        Periods tested when ``season_length`` is None (hourly data: 24 and 168).
    backtest_horizon : int or None
        Steps per backtest window; :func:`auto_forecast` passes its ``h``. ``None``
        uses twice the first period (or 12).
    n_windows : int
        Number of rolling backtest origins.
    n_combine : int
        How many of the best candidates to average (1 = pure selection).
    candidates : tuple of str or None
        Names from :func:`candidate_models` to restrict the pool to.
    interval_scale : float
        Widening factor of the conformal quantiles (see ``INTERVAL_SCALE``).
    combine : {"if_better", "always"}
        ``if_better`` (default) averages the ``n_combine`` best only when the average's
        own backtest error is strictly lower than the best single candidate's;
        ``always`` averages them regardless.

    Examples
    --------
    >>> t = np.arange(24 * 14)
    >>> y = 100 + 10 * np.sin(2 * np.pi * t / 24) + 0.1 * t
    >>> model = AutoForecaster(season_length=24, backtest_horizon=24).fit(y)
    >>> out = model.predict(24, level=[80, 95])
    >>> sorted(out)
    ['hi-80', 'hi-95', 'lo-80', 'lo-95', 'mean']
    """

    def __init__(
        self,
        season_length: int | tuple[int, ...] | None = None,
        candidate_periods: tuple[int, ...] = (4, 7, 12, 24, 52, 168),
        backtest_horizon: int | None = None,
        n_windows: int = 6,
        n_combine: int = 4,
        candidates: tuple[str, ...] | None = None,
        interval_scale: float = INTERVAL_SCALE,
        combine: str = "if_better",
    ):
        self.season_length = season_length
        self.candidate_periods = candidate_periods
        self.backtest_horizon = backtest_horizon
        self.n_windows = n_windows
        self.n_combine = n_combine
        self.candidates = candidates
        self.interval_scale = interval_scale
        self.combine = combine

    # -- fitting -----------------------------------------------------------------------
    def fit(self, y, exclude=None) -> AutoForecaster:
        """Learn from ``y``; points flagged in ``exclude`` (a boolean array as long as
        ``y``: anomalies, outages) are replaced by :func:`~.base.fill_masked` with the
        values at the same phase of the cycle before they are learned from, so that
        the forecast does not repeat them and their errors do not widen the intervals.
        """
        x, periods, excluded = self._prepare(y, exclude)
        n = len(x)
        positive = bool(np.all(x > 0))
        metric = "smape" if positive else "mase"
        base = {
            "periods": periods,
            "metric": metric,
            "positive": positive,
            "n": n,
            "excluded": excluded,
        }

        if n < 2:
            return self._fit_fallback(x, base, "a single observation cannot be backtested")
        if np.ptp(x) == 0:
            self.model_ = {
                **base,
                "kind": "constant",
                "value": float(x[-1]),
                "name": "constant",
                "scores": {},
                "reason": "constant series: flat forecast, zero-width intervals",
            }
            return self

        lag_periods = sorted(set(periods) | {c for c in self.candidate_periods if n >= 3 * c})
        pool = candidate_models(periods, n, tuple(lag_periods))
        if self.candidates is not None:
            pool = {k: v for k, v in pool.items() if k in self.candidates} or {"naive": Naive}

        hb = int(self.backtest_horizon or 2 * (periods[0] if periods else 6))
        hb = max(1, hb)
        windows = self._windows(n, hb, periods)
        if not windows:
            return self._fit_fallback(x, base, f"series too short to backtest (n={n})")

        m = periods[0] if periods else 1
        scores: dict[str, float] = {}
        bt: dict[str, list[np.ndarray]] = {}
        failures: dict[str, str] = {}
        for name, make in pool.items():
            fcs, errs = [], []
            try:
                for origin, w in windows:
                    f = make().forecast(x[:origin], w)["mean"]
                    if not np.all(np.isfinite(f)):
                        raise FloatingPointError("non-finite forecast")
                    fcs.append(f)
                    errs.append(_error(x[origin : origin + w], f, x[:origin], m, metric))
            except Exception as exc:  # one failing candidate must not fail the series
                failures[name] = f"{type(exc).__name__}: {exc}"
                scores[name] = float("inf")
                continue
            scores[name] = float(np.mean(errs))
            bt[name] = fcs
        ranked = [k for k in sorted(bt, key=lambda k: scores[k]) if np.isfinite(scores[k])]
        if not ranked:
            return self._fit_fallback(x, base, "every candidate failed in backtest")

        chosen = ranked[:1]
        reason = f"lowest backtest {metric} ({scores[ranked[0]]:.3g}) of {len(pool)} candidates"
        k = min(self.n_combine, len(ranked))
        if k >= 2:
            members = ranked[:k]
            combo_fcs = [
                _combine([bt[c][i] for c in members], positive) for i in range(len(windows))
            ]
            combo_err = float(
                np.mean(
                    [
                        _error(x[o : o + w], f, x[:o], m, metric)
                        for (o, w), f in zip(windows, combo_fcs, strict=True)
                    ]
                )
            )
            scores[f"combination({'+'.join(members)})"] = combo_err
            if self.combine == "always" or combo_err < scores[ranked[0]]:
                chosen = members
                reason = (
                    f"average of the {k} best candidates: backtest {metric} "
                    f"{combo_err:.3g} vs {scores[ranked[0]]:.3g} for the best single one "
                    f"({ranked[0]})"
                )
            else:
                reason += f"; the average of the {k} best ({combo_err:.3g}) is no better"
        # errors of the chosen forecast, one row per window, for conformal intervals:
        # log ratios when series and forecasts are positive, differences otherwise
        errs_log, errs_abs = [], []
        for i, (origin, w) in enumerate(windows):
            f = _combine([bt[c][i] for c in chosen], positive)
            actual = x[origin : origin + w]
            e_abs = np.full(hb, np.nan)
            e_abs[:w] = residuals(actual, f, log=False)
            errs_abs.append(e_abs)
            e_log = np.full(hb, np.nan)
            if positive and np.all(f > 0):
                e_log[:w] = residuals(actual, f, log=True)
            errs_log.append(e_log)
        errs_log_arr = np.array(errs_log)
        log_errors = positive and bool(np.isfinite(errs_log_arr).any())
        fitted = [pool[c]().fit(x) for c in chosen]
        name = chosen[0] if len(chosen) == 1 else f"combination({'+'.join(chosen)})"
        if failures:
            reason += "; failed: " + ", ".join(sorted(failures))
        if excluded:
            reason += f"; {excluded} excluded point{'s' if excluded > 1 else ''} replaced"
        self.model_ = {
            **base,
            "kind": "backtested",
            "name": name,
            "members": chosen,
            "fitted": fitted,
            "scores": scores,
            "errors": errs_log_arr if log_errors else np.array(errs_abs),
            "errors_abs": np.array(errs_abs),
            "log_errors": log_errors,
            "reason": reason,
            "failures": failures,
            "windows": windows,
        }
        return self

    def _prepare(self, y, exclude) -> tuple[np.ndarray, tuple[int, ...], int]:
        """The cleaned series, its seasonal periods and how many points were replaced.

        With ``exclude``, the periods are detected with the flagged points left out
        (interpolated), then those points take the values of the same phase of the
        first cycle (or are interpolated when there is none)."""
        if exclude is None:
            x = clean_series(y)
            return x, self._periods(x), 0
        raw = np.asarray(y, dtype=float).ravel()
        mask = np.asarray(exclude, dtype=bool).ravel()
        if mask.shape != raw.shape:
            raise ValueError(
                f"exclude must flag each point of y: {mask.size} flags for {raw.size} points"
            )
        ok = np.isfinite(raw)
        if not ok.any():
            clean_series(raw)  # raises the usual error
        first, last = int(np.argmax(ok)), len(ok) - 1 - int(np.argmax(ok[::-1]))
        raw, mask = raw[first : last + 1], mask[first : last + 1]
        if not mask.any() or not (ok[first : last + 1] & ~mask).any():
            x = clean_series(raw)
            return x, self._periods(x), 0
        periods = self._periods(clean_series(np.where(mask, np.nan, raw)))
        x = clean_series(fill_masked(raw, mask, periods[0] if periods else None))
        return x, periods, int(mask.sum())

    def _periods(self, x: np.ndarray) -> tuple[int, ...]:
        sl = self.season_length
        if sl is None:
            return tuple(detect_periods(x, tuple(self.candidate_periods)))
        raw = sl if isinstance(sl, tuple | list) else (sl,)
        return tuple(sorted({int(p) for p in raw if int(p) > 1}))

    def _windows(self, n: int, hb: int, periods) -> list[tuple[int, int]]:
        """Backtest (origin, length) pairs, most recent last; shrunk for short series."""
        min_train = max(2 * (periods[0] if periods else 1), 8)
        nw = max(1, int(self.n_windows))
        while nw >= 1:
            if n - nw * hb >= min_train:
                return [(n - j * hb, hb) for j in range(nw, 0, -1)]
            nw -= 1
        # one shorter window when a full horizon does not fit
        w = (n - min_train) if n > min_train else 0
        if w >= max(2, hb // 4):
            return [(n - w, w)]
        return []

    def _fit_fallback(self, x: np.ndarray, base: dict, why: str) -> AutoForecaster:
        n = len(x)
        m = base["periods"][0] if base["periods"] else 1
        if n >= 8:
            model: Forecaster = StatsForecastModel("auto_ets", m if n >= 2 * m else 1)
            name = "auto_ets"
        elif n >= 2 * m > 2:
            model, name = SeasonalNaive(season_length=m), "seasonal_naive"
        else:
            model, name = Naive(), "naive"
        try:
            model.fit(x)
        except Exception:  # AutoETS can refuse odd inputs; the naive forecast cannot
            model, name = Naive().fit(x), "naive"
        self.model_ = {
            **base,
            "kind": "fallback",
            "name": name,
            "fitted": [model],
            "scores": {},
            "reason": f"{why}: fallback to {name}",
        }
        return self

    # -- forecasting -------------------------------------------------------------------
    def predict(self, h: int, level=None) -> dict:
        st = self._check_fitted()
        h = int(h)
        if h < 1:
            raise ValueError(f"horizon must be a positive integer, got {h}")
        levels = normalize_levels(level)
        if st["kind"] == "constant":
            flat = np.full(h, st["value"])
            out = {"mean": flat}
            for v in levels:
                out[f"lo-{level_key(v)}"] = flat.copy()
                out[f"hi-{level_key(v)}"] = flat.copy()
            return out
        if st["kind"] == "fallback":
            raw = st["fitted"][0].predict(h, level=levels or None)
            if st["positive"]:  # e.g. AutoETS with a falling trend
                raw = {k: np.maximum(v, 0.0) for k, v in raw.items()}
            return _ordered(raw, levels)
        mean = _combine([mdl.predict(h)["mean"] for mdl in st["fitted"]], st["positive"])
        if st["positive"]:
            mean = np.maximum(mean, 0.0)  # a positive series is not forecast below zero
        out = {"mean": mean}
        use_log = st["log_errors"] and bool(np.all(mean > 0))
        errors = st["errors"] if use_log else st["errors_abs"]
        out.update(conformal_bands(mean, errors, levels, use_log, scale=self.interval_scale))
        return _ordered(out, levels)

    def result(self, h: int, levels: Iterable[float] = (80, 95)) -> ForecastResult:
        """Forecast ``h`` steps and package it with the model choice and its reasons."""
        levels = normalize_levels(levels)
        out = self.predict(h, level=levels)
        st = self._check_fitted()
        return ForecastResult(
            mean=out["mean"],
            lower={v: out[f"lo-{level_key(v)}"] for v in levels},
            upper={v: out[f"hi-{level_key(v)}"] for v in levels},
            model=st["name"],
            candidates=dict(st["scores"]),
            reason=st["reason"],
            periods=tuple(st["periods"]),
            metric=st["metric"],
            interval_method={"backtested": "conformal", "constant": "none"}.get(
                st["kind"], "model"
            ),
            details={
                "n": st["n"],
                "excluded": st.get("excluded", 0),
                "windows": st.get("windows", []),
            },
        )

    @classmethod
    def _test_params(cls) -> dict:
        return {"season_length": 4, "backtest_horizon": 4, "n_windows": 2}


def auto_forecast(
    y,
    h: int,
    season_length: int | tuple[int, ...] | None = None,
    levels: Iterable[float] = (80, 95),
    freq: str | None = None,
    exclude=None,
    **options,
) -> ForecastResult:
    """Forecast ``h`` steps of one series with automatic model choice and intervals.

    The shared entry point of the server, the CLI and the M4 benchmark. It detects the
    seasonal periods (unless given), backtests every candidate model on the series' own
    history (rolling origin, horizon ``h``), takes the best one (or the average of the
    best ones when that backtests better), and calibrates the intervals on the backtest
    errors. It never raises on awkward data: gaps are
    interpolated, constant and very short series get a documented fallback.

    Parameters
    ----------
    y : array-like of float
        History, oldest first, regularly spaced; NaN marks a missing point.
    h : int
        Number of steps to forecast (positive).
    season_length : int, tuple of int or None
        Seasonal period(s) in steps (e.g. ``(24, 168)`` for hourly data); detected when
        None.
    levels : iterable of float
        Confidence levels in percent for the prediction intervals.
    freq : str or None
        Sampling frequency (``"h"``, ``"d"``, ``"15min"``...): the cycles worth testing
        come from :func:`~.seasonality.periods_for_freq` (hourly: 24 and 168). Ignored
        when ``candidate_periods`` is passed.
    exclude : array-like of bool or None
        One flag per point of ``y``: flagged points (anomalies, incidents) are not
        learned from; they are replaced by the values at the same phase of the cycle
        (see :func:`~.base.fill_masked`), so the forecast does not repeat them.
    **options
        Passed to :class:`AutoForecaster` (``n_windows``, ``n_combine``,
        ``candidates``, ``candidate_periods``, ``interval_scale``, ``combine``).

    Returns
    -------
    ForecastResult
        ``mean``, ``lower``/``upper`` per level, the chosen ``model``, every
        candidate's backtest error in ``candidates`` and the ``reason``.

    Raises
    ------
    ValueError
        If ``h`` is not positive, a level is outside (0, 100), ``y`` holds no
        finite value, or ``exclude`` is not as long as ``y``.

    Examples
    --------
    >>> t = np.arange(24 * 21)
    >>> y = 50 + 10 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(0).normal(0, 1, t.size)
    >>> res = auto_forecast(y, h=48, levels=(80, 95), freq="h")
    >>> res.periods
    (24,)
    >>> res.mean.shape
    (48,)
    >>> bool(np.all(res.lower[95] <= res.lower[80]) and np.all(res.upper[80] <= res.upper[95]))
    True
    >>> res.model in res.candidates
    True
    """
    h = int(h)
    if h < 1:
        raise ValueError(f"horizon must be a positive integer, got {h}")
    levels = normalize_levels(levels)
    options.setdefault("backtest_horizon", h)
    if freq is not None:
        options.setdefault("candidate_periods", periods_for_freq(freq))
    model = AutoForecaster(season_length=season_length, **options).fit(y, exclude=exclude)
    return model.result(h, levels)


def _error(actual, forecast, insample, m: int, metric: str) -> float:
    if metric == "smape":
        return smape(actual, forecast)
    scale = seasonal_naive_scale(insample, m)
    if not scale > 0:
        scale = seasonal_naive_scale(insample, 1)
    mae = float(np.mean(np.abs(np.asarray(actual) - np.asarray(forecast))))
    if not scale > 0:
        return mae
    return mae / scale


def _combine(forecasts: list[np.ndarray], positive: bool) -> np.ndarray:
    """Geometric mean of positive forecasts (equal weights); arithmetic mean otherwise."""
    if len(forecasts) == 1:
        return np.asarray(forecasts[0], dtype=float)
    stack = np.vstack(forecasts)
    if positive and np.all(stack > 0):
        return np.exp(np.log(stack).mean(axis=0))
    return stack.mean(axis=0)


def _ordered(out: dict, levels: list[float]) -> dict:
    """Enforce lo-95 <= lo-80 <= mean <= hi-80 <= hi-95 (a model may cross slightly)."""
    mean = out["mean"]
    lo_prev, hi_prev = mean, mean
    for v in sorted(levels):
        lo = np.minimum(out[f"lo-{level_key(v)}"], lo_prev)
        hi = np.maximum(out[f"hi-{level_key(v)}"], hi_prev)
        out[f"lo-{level_key(v)}"], out[f"hi-{level_key(v)}"] = lo, hi
        lo_prev, hi_prev = lo, hi
    return out
