"""Any finite input gets a finite score and band: extreme values are scored, not crashed on.

A gauge alternating +-1e308 once made the kernel produce NaN scores (inf - inf), which
SQLite cannot store in a NOT NULL column, and that stopped the stream processor for
every organization. These tests feed the detector arbitrary finite floats.
"""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from augury.engines.detect import StreamingDetector, kernel, score_matrix, score_series

T0 = 1.7e9

finite = st.floats(allow_nan=False, allow_infinity=False)
extreme = st.sampled_from([1e308, -1e308, 1.7976931348623157e308, 5e-324, -5e-324, 0.0, 1e-310])
values = st.lists(st.one_of(finite, extreme), min_size=1, max_size=80)


def _all_finite(res):
    for name in ("scores", "expected", "lower", "upper"):
        arr = getattr(res, name)
        assert np.all(np.isfinite(arr)), f"{name}: {arr}"
    assert np.all((res.scores >= 0) & (res.scores <= 1))


def test_alternating_extremes_from_the_first_point():
    x = np.tile([1e308, -1e308], 20)
    _all_finite(score_series(x, T0 + 60.0 * np.arange(x.size)))


def test_extremes_after_a_normal_history_are_anomalies_and_the_model_recovers():
    rng = np.random.default_rng(1)
    normal = 100 + rng.normal(0, 1, 300)
    x = np.r_[normal, np.tile([1e308, -1e308], 10), 100 + rng.normal(0, 1, 2000)]
    res = score_series(x, T0 + 60.0 * np.arange(x.size))
    _all_finite(res)
    assert res.is_anomaly[300:320].any()
    # The state is still usable: a normal stream afterwards is calm again.
    assert res.scores[-500:].max() < 0.5


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=values, steps=st.lists(st.floats(1e-3, 1e6), min_size=1, max_size=80))
def test_any_finite_values_give_finite_scores_and_bands(values, steps):
    x = np.array(values)
    dt = np.resize(np.array(steps), x.size)
    _all_finite(score_series(x, T0 + np.cumsum(dt)))


@settings(max_examples=200, deadline=None)
@given(values=values, times=st.lists(finite, min_size=1, max_size=80))
def test_any_finite_timestamps_give_finite_scores(values, times):
    x = np.array(values)
    t = np.resize(np.array(times), x.size)
    _all_finite(score_series(x, t))


@settings(max_examples=100, deadline=None)
@given(values=values)
def test_state_stays_finite_and_restores(values):
    det = StreamingDetector()
    for i, v in enumerate(values):
        score, _alarm, expected, lower, upper = det.process_one(v, T0 + 60.0 * i)
        assert np.isfinite([score, expected, lower, upper]).all()
    restored = StreamingDetector.from_state(det.to_state())
    assert np.isfinite(restored.score_one(1.0, T0 + 60.0 * len(values)))


def test_many_metrics_one_poisoned():
    rng = np.random.default_rng(2)
    x = 50 + rng.normal(0, 1, (4, 200))
    x[2, 100:120] = np.tile([1e308, -1e308], 10)
    t = np.broadcast_to(T0 + 60.0 * np.arange(200), x.shape)
    res = score_matrix(x, t)
    _all_finite(res)
    # The other metrics are scored exactly as they are alone.
    alone = score_series(x[0], t[0])
    np.testing.assert_array_equal(res.scores[0], alone.scores)


def test_kernel_state_never_holds_non_finite_numbers():
    s = kernel.new_state(1)
    for i, v in enumerate(np.tile([1e308, -1e308, 5e-324], 30)):
        kernel.step(s, np.array([v]), np.array([T0 + 60.0 * i]))
        assert np.all(np.isfinite(s))
