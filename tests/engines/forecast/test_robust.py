"""What the automatic forecaster learns from: anomalous spans left out, combinations only
when they earn it."""

import numpy as np
import pytest

from augury.engines.forecast import auto_forecast
from augury.engines.forecast.base import fill_masked

DAY = 24


def _daily(n=DAY * 14, seed=0, noise=1.0):
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return 100 + 30 * np.sin(2 * np.pi * t / DAY) + rng.normal(0, noise, n)


def _with_incident(seed=0):
    """Two weeks of a daily cycle with a 4x incident of three hours, 21 hours ago."""
    y = _daily(seed=seed)
    mask = np.zeros(len(y), dtype=bool)
    start = len(y) - 21
    mask[start : start + 3] = True
    y[mask] *= 4.0
    return y, mask, start


def test_a_masked_incident_is_not_repeated():
    y, mask, start = _with_incident()
    truth = 100 + 30 * np.sin(2 * np.pi * np.arange(len(y), len(y) + DAY) / DAY)
    # the incident's hours of the day, one day on, are steps 3..5 of the forecast
    hours = np.arange(start + DAY - len(y), start + DAY - len(y) + 3)
    assert hours.tolist() == [3, 4, 5]

    res = auto_forecast(y, DAY, freq="h", exclude=mask)
    assert np.max(np.abs(res.mean - truth)) < 10.0, res.mean.round(1)
    assert np.max(np.abs(res.mean[hours] - truth[hours])) < 10.0
    # the intervals are not widened by the incident either
    assert np.max(res.upper[95] - res.lower[95]) < 60.0
    # without the mask the same history repeats (part of) the incident: the test has teeth
    plain = auto_forecast(y, DAY, freq="h")
    assert np.max(plain.mean[hours] - truth[hours]) > 30.0


def test_exclude_must_match_the_history():
    y, mask, _ = _with_incident()
    with pytest.raises(ValueError, match="exclude"):
        auto_forecast(y, DAY, freq="h", exclude=mask[:-1])


def test_fill_masked_uses_the_same_phase_of_the_cycle():
    y = _daily(noise=0.0)
    mask = np.zeros(len(y), dtype=bool)
    mask[100:110] = True
    dirty = y.copy()
    dirty[mask] = 1e6
    filled = fill_masked(dirty, mask, period=DAY)
    np.testing.assert_allclose(filled, y, atol=1e-9)
    assert dirty[100] == 1e6  # the input is not changed
    # no period (or no clean point a period away): linear interpolation
    lin = fill_masked(dirty, mask, period=None)
    assert np.all(np.isfinite(lin)) and lin[105] == pytest.approx((y[99] + y[110]) / 2, rel=0.2)
    # a masked end is filled too (the newest points of an open incident)
    tail = np.zeros(len(y), dtype=bool)
    tail[-3:] = True
    end = dirty.copy()
    end[tail] = 1e6
    np.testing.assert_allclose(fill_masked(end, tail, period=DAY)[-3:], y[-3:], atol=1e-9)


def test_a_combination_is_chosen_only_when_its_backtest_beats_the_best_single_one():
    # A clean daily cycle: the seasonal naive forecast is nearly exact, the naive one
    # is not, and their average is worse than the seasonal naive alone.
    y = _daily(noise=0.5)
    res = auto_forecast(y, DAY, season_length=DAY, candidates=("naive", "seasonal_naive"))
    combo = "combination(seasonal_naive+naive)"
    assert res.candidates[combo] > res.candidates["seasonal_naive"]
    assert res.model == "seasonal_naive"
    assert res.model in res.candidates
    assert "no better" in res.reason
    np.testing.assert_allclose(res.mean, y[-DAY:])
    best_single = min(v for k, v in res.candidates.items() if not k.startswith("combination"))
    assert res.candidates[res.model] == best_single


def test_a_combination_that_beats_every_single_candidate_is_chosen():
    # A daily cycle on a wandering level: no single model has it all, the average wins.
    t = np.arange(DAY * 21)
    rng = np.random.default_rng(0)
    y = 300 + 30 * np.sin(2 * np.pi * t / DAY) + np.cumsum(rng.normal(0, 2, t.size))
    y += rng.normal(0, 3, t.size)
    res = auto_forecast(y, DAY, season_length=DAY)
    singles = {k: v for k, v in res.candidates.items() if not k.startswith("combination")}
    assert res.model.startswith("combination(") and res.model in res.candidates
    assert res.candidates[res.model] < min(singles.values())
    assert "average of the 4 best" in res.reason
