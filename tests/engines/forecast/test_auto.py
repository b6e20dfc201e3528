"""The shared entry point auto_forecast: API, fallbacks and interval sanity."""

import json

import numpy as np
import pytest

from augury.engines.forecast import AutoForecaster, ForecastResult, auto_forecast


def _hourly(n=24 * 14, seed=0):
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return 100 + 20 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 2, n)


def _check(res: ForecastResult, h: int, levels=(80, 95)):
    assert isinstance(res, ForecastResult)
    assert res.mean.shape == (h,) and np.isfinite(res.mean).all()
    assert sorted(res.lower) == sorted(levels) == sorted(res.upper)
    for v in levels:
        assert res.lower[v].shape == (h,) and res.upper[v].shape == (h,)
        assert np.isfinite(res.lower[v]).all() and np.isfinite(res.upper[v]).all()
        assert (res.lower[v] <= res.mean + 1e-9).all() and (res.mean <= res.upper[v] + 1e-9).all()
    if len(levels) == 2:
        lo, hi = sorted(levels)
        assert (res.lower[hi] <= res.lower[lo] + 1e-9).all()
        assert (res.upper[lo] <= res.upper[hi] + 1e-9).all()
    assert isinstance(res.reason, str) and res.reason
    d = res.to_dict()
    assert len(d["mean"]) == h and set(d["lower"]) == {f"{v:g}" for v in levels}


def test_seasonal_series_backtested_choice():
    y = _hourly()
    res = auto_forecast(y, 24, season_length=24)
    _check(res, 24)
    assert res.interval_method == "conformal"
    assert res.model in res.candidates  # the choice is among the scored candidates
    assert all(isinstance(v, float) for v in res.candidates.values())
    assert min(v for k, v in res.candidates.items() if not k.startswith("combination")) >= 0
    # 95 % band strictly wider than 80 % somewhere, and the forecast follows the cycle
    assert (res.upper[95] - res.lower[95] > res.upper[80] - res.lower[80]).any()
    assert np.corrcoef(res.mean, y[-24:])[0, 1] > 0.9


def test_period_detection_in_entry_point():
    res = auto_forecast(_hourly(), 12, candidate_periods=(24, 168))
    assert res.periods == (24,)


def test_forecast_equals_fit_predict_and_is_deterministic():
    y = _hourly(24 * 11)
    params = {"season_length": 24, "backtest_horizon": 12, "n_windows": 2}
    a = AutoForecaster(**params).forecast(y, 12, level=[80])
    b = AutoForecaster(**params).fit(y).predict(12, level=[80])
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    r1, r2 = auto_forecast(y, 12, 24), auto_forecast(y, 12, 24)
    np.testing.assert_array_equal(r1.mean, r2.mean)
    assert r1.candidates == r2.candidates


def test_constant_series():
    res = auto_forecast(np.full(50, 7.0), 5)
    _check(res, 5)
    np.testing.assert_array_equal(res.mean, 7.0)
    assert "constant" in res.reason


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_very_short_series(n):
    y = np.arange(1.0, n + 1)
    res = auto_forecast(y, 4)
    _check(res, 4)
    assert res.model == "naive"
    assert "too short" in res.reason or "single observation" in res.reason


def test_short_series_falls_back_without_backtest():
    res = auto_forecast(np.array([3.0, 5, 4, 6, 5, 7, 6, 8, 7, 9]), 12, season_length=24)
    _check(res, 12)
    assert res.interval_method == "model"


def test_nan_gaps_are_filled():
    y = _hourly(24 * 8)
    y[[5, 6, 7, 100, 150]] = np.nan
    y[:3] = np.nan
    res = auto_forecast(y, 12, season_length=24)
    _check(res, 12)


def test_zeros_and_negatives():
    t = np.arange(24 * 8)
    y = 5 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(3).normal(0, 1, t.size)
    y[::7] = 0.0
    res = auto_forecast(y, 24, season_length=24)
    _check(res, 24)
    assert res.metric == "mase"
    assert (res.mean < 0).any()  # no positivity assumption on such data


def test_intermittent_zeros_positive_levels():
    y = np.tile([0.0, 0.0, 3.0, 0.0, 5.0, 0.0], 10)
    _check(auto_forecast(y, 6), 6)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="horizon"):
        auto_forecast([1.0, 2.0], 0)
    with pytest.raises(ValueError, match="no finite values"):
        auto_forecast([np.nan, np.nan], 3)
    with pytest.raises(ValueError, match="between 0 and 100"):
        auto_forecast([1.0, 2.0, 3.0], 3, levels=(0,))


def test_failing_candidate_is_skipped(monkeypatch):
    from augury.engines.forecast import auto as auto_mod

    original = auto_mod.candidate_models

    def with_broken(periods, n, lag_periods=None):
        pool = original(periods, n, lag_periods)

        class Broken:
            def forecast(self, y, h, level=None):
                raise RuntimeError("boom")

        pool["broken"] = Broken
        return pool

    monkeypatch.setattr(auto_mod, "candidate_models", with_broken)
    res = auto_forecast(_hourly(24 * 8), 12, season_length=24)
    _check(res, 12)
    assert res.candidates["broken"] == float("inf")
    assert "failed: broken" in res.reason
    text = json.dumps(res.to_dict(), allow_nan=False)  # strict JSON for the API
    assert '"broken": null' in text


def test_freq_selects_candidate_periods():
    res = auto_forecast(_hourly(), 12, freq="h")
    assert res.periods == (24,)
    with pytest.raises(ValueError, match="unknown frequency"):
        auto_forecast(_hourly(), 12, freq="fortnightly")


def test_horizon_longer_than_backtest_widens():
    model = AutoForecaster(season_length=24, backtest_horizon=12, n_windows=3).fit(_hourly())
    out = model.predict(36, level=[95])
    width = out["hi-95"] - out["lo-95"]
    assert width.shape == (36,) and width[-1] >= width[11]
