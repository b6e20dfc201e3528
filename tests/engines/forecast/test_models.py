"""Forecaster contract: shapes, intervals, determinism, forecast == fit + predict."""

import numpy as np
import pytest

from augury.engines.forecast import (
    AutoForecaster,
    DirectRegression,
    LagRegression,
    Naive,
    SeasonalNaive,
    StatsForecastModel,
    detect_periods,
    seasonal_lags,
)

ENGINES = [
    Naive,
    SeasonalNaive,
    LagRegression,
    DirectRegression,
    AutoForecaster,
    StatsForecastModel,
]


def _series(n=96, period=12, seed=0):
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return 20 + 5 * np.sin(2 * np.pi * t / period) + 0.05 * t + rng.normal(0, 0.5, n)


@pytest.mark.parametrize("cls", ENGINES)
def test_contract(cls):
    y = _series()
    model = cls(**cls._test_params())
    assert repr(model).startswith(cls.__name__)
    out = model.fit(y).predict(7, level=[80, 95])
    assert model.model_ is not None
    assert set(out) == {"mean", "lo-80", "hi-80", "lo-95", "hi-95"}
    for v in out.values():
        assert v.shape == (7,) and np.isfinite(v).all()
    assert (out["lo-95"] <= out["lo-80"] + 1e-9).all()
    assert (out["lo-80"] <= out["mean"] + 1e-9).all()
    assert (out["mean"] <= out["hi-80"] + 1e-9).all()
    assert (out["hi-80"] <= out["hi-95"] + 1e-9).all()
    again = cls(**cls._test_params()).forecast(y, 7, level=[80, 95])
    for k in out:
        np.testing.assert_allclose(again[k], out[k])  # forecast == fit + predict, deterministic
    assert set(model.predict(3)) == {"mean"}


def test_predict_before_fit_is_a_clear_error():
    with pytest.raises(RuntimeError, match="not fitted"):
        Naive().predict(3)


def test_bad_level_is_rejected():
    with pytest.raises(ValueError, match="between 0 and 100"):
        Naive().forecast([1.0, 2.0], 2, level=[120])


def test_seasonal_naive_repeats_last_season():
    out = SeasonalNaive(season_length=3).forecast([1, 2, 3, 4, 5, 6], 5)
    np.testing.assert_allclose(out["mean"], [4, 5, 6, 4, 5])


def test_lag_regression_recovers_a_pure_cycle():
    t = np.arange(120)
    y = 50 + 10 * np.sin(2 * np.pi * t / 24)
    f = LagRegression(lags=seasonal_lags((24,)), ridge=1e-8).forecast(y, 24)["mean"]
    np.testing.assert_allclose(f, y[-24:], atol=0.05)


def test_direct_regression_short_history_does_not_crash():
    out = DirectRegression(recent=tuple(range(24)), seasonal=(168, 336)).forecast(
        np.arange(1.0, 30.0), 10, level=[95]
    )
    assert np.isfinite(out["mean"]).all() and (out["lo-95"] <= out["hi-95"]).all()


def test_lag_regression_robust_to_an_outlier():
    t = np.arange(24 * 10)
    y = 50 + 10 * np.sin(2 * np.pi * t / 24)
    spiked = y.copy()
    spiked[100] = 500.0
    lags = seasonal_lags((24,))
    plain = LagRegression(lags=lags, robust=None, ridge=1e-8).forecast(spiked, 24)["mean"]
    robust = LagRegression(lags=lags, robust=1.345, ridge=1e-8).forecast(spiked, 24)["mean"]
    truth = 50 + 10 * np.sin(2 * np.pi * np.arange(240, 264) / 24)
    assert np.abs(robust - truth).mean() < np.abs(plain - truth).mean()


def test_seasonal_lags():
    assert seasonal_lags((24, 168), "sparse") == (1, 2, 3, 23, 24, 25, 168, 336)
    assert seasonal_lags((4, 8), "dense2") == (1, 2, 3, 4, 8, 16)
    assert seasonal_lags((), "dense") == tuple(range(1, 9))


def test_detect_periods_hourly_daily_and_weekly():
    t = np.arange(24 * 7 * 4)
    rng = np.random.default_rng(0)
    daily = np.sin(2 * np.pi * t / 24)
    weekend = np.where((t // 24) % 7 >= 5, -2.0, 0.0)
    assert detect_periods(10 + daily + rng.normal(0, 0.2, t.size), (24, 168)) == [24]
    both = 10 + daily + weekend + rng.normal(0, 0.2, t.size)
    assert detect_periods(both, (24, 168)) == [24, 168]
    assert detect_periods(rng.normal(0, 1, t.size), (24, 168)) == []
