"""M4 metrics against values computed by hand."""

import numpy as np
import pytest

from augury.engines.forecast import coverage, mase, naive2, owa, smape
from augury.engines.forecast.seasonality import acf, classical_seasonal_indices, is_seasonal


def test_smape_by_hand():
    # 200/2 * (10/210 + 20/380)
    assert smape([100, 200], [110, 180]) == pytest.approx(100 * (10 / 210 + 20 / 380))
    assert smape([5, 5], [5, 5]) == 0.0
    assert smape([0, 0], [0, 0]) == 0.0  # 0/0 counts as no error
    assert smape([1], [-1]) == pytest.approx(200.0)


def test_mase_by_hand():
    insample = [1.0, 3.0, 2.0, 4.0, 3.0, 5.0]
    # seasonal naive (m=2) in-sample errors: |2-1|,|4-3|,|3-2|,|5-4| -> scale 1
    assert mase([6.0, 4.0], [5.0, 5.0], insample, m=2) == pytest.approx(1.0)
    # m=1: |2|,|1|,|2|,|1|,|2| -> scale 1.6
    assert mase([6.0, 4.0], [5.0, 5.0], insample, m=1) == pytest.approx(1.0 / 1.6)


def test_mase_constant_insample():
    assert mase([1.0], [1.0], [2.0, 2.0, 2.0]) == 0.0
    assert mase([1.0], [2.0], [2.0, 2.0, 2.0]) == float("inf")


def test_acf_by_hand():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    # mean 2.5, deviations -1.5 -0.5 0.5 1.5, denominator 5
    assert acf(y, 2) == pytest.approx([(0.75 - 0.25 + 0.75) / 5, (-0.75 - 0.75) / 5])


def test_seasonality_test_and_indices():
    t = np.arange(48)
    y = 10 + np.tile([1.0, -1.0, 2.0, -2.0], 12) + 0.01 * t
    assert is_seasonal(y, 4)
    assert not is_seasonal(np.random.default_rng(0).normal(size=48), 4)  # white noise
    assert not is_seasonal(y[:10], 4)  # fewer than three cycles
    si = classical_seasonal_indices(np.tile([2.0, 4.0], 6), 2)
    assert si == pytest.approx([2 / 3, 4 / 3])  # ratios to the 2x2 moving average of 3


def test_naive2_seasonal_and_not():
    y = np.tile([2.0, 4.0], 6)
    # seasonal: last value 4 / index 4/3 = 3 (deseasonalised), re-seasonalised
    assert naive2(y, 3, m=2) == pytest.approx([2.0, 4.0, 2.0])
    assert naive2([1.0, 2.0, 5.0], 2, m=1) == pytest.approx([5.0, 5.0])


def test_owa_of_naive2_is_one_and_average_of_ratios():
    rng = np.random.default_rng(1)
    train = [rng.uniform(10, 20, 30) for _ in range(3)]
    test = [rng.uniform(10, 20, 4) for _ in range(3)]
    bench = [naive2(x, 4) for x in train]
    assert owa(test, bench, train, m=1)["owa"] == pytest.approx(1.0)
    fc = [np.full(4, 15.0) for _ in range(3)]
    r = owa(test, fc, train, m=1)
    expected_s = np.mean([smape(y, f) for y, f in zip(test, fc, strict=True)])
    assert r["smape"] == pytest.approx(expected_s)
    assert r["owa"] == pytest.approx(
        0.5 * (r["smape"] / r["naive2_smape"] + r["mase"] / r["naive2_mase"])
    )


def test_coverage():
    assert coverage([1, 2, 3, 4], [0, 0, 0, 5], [2, 2, 2, 6]) == 0.5
