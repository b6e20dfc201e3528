"""The default streaming detector: contract checks and bad input."""

import base64
import doctest
import json

import numpy as np
import pytest

from augury.engines.detect import (
    DEFAULT_DECISION_LEVEL,
    StreamingDetector,
    kernel,
    score_matrix,
    score_series,
    streaming,
)

MIN = 60.0
DAY = 86400.0


def _finite(res):
    assert np.all(np.isfinite(res.scores))
    assert np.all((res.scores >= 0) & (res.scores <= 1))


def _auc(scores, labels):
    ranks = np.argsort(np.argsort(scores, kind="stable"), kind="stable") + 1.0
    pos = labels.astype(bool)
    n1, n0 = pos.sum(), (~pos).sum()
    return (ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)


def _toy(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) * 300.0
    y = 50 + 10 * np.sin(2 * np.pi * t / DAY) + rng.normal(0, 1, n)
    labels = np.zeros(n, dtype=bool)
    for i in (n // 2, 2 * n // 3, 5 * n // 6):
        y[i] += 20
        labels[i] = True
    return y, t, labels


def test_docstring_examples_run():
    assert doctest.testmod(streaming).failed == 0


def test_params_stored_verbatim_and_repr():
    det = StreamingDetector(decision_level=0.6, seed=3)
    assert det.decision_level == 0.6 and det.seed == 3
    assert "decision_level=0.6" in repr(det)
    assert StreamingDetector._test_params()


def test_constant_series_is_calm():
    res = score_series(np.full(500, 7.0), np.arange(500) * MIN)
    _finite(res)
    assert res.scores.max() == 0.0
    assert not res.is_anomaly.any()
    assert np.allclose(res.expected, 7.0)


def test_constant_series_then_change_is_flagged():
    y = np.r_[np.full(300, 7.0), np.full(50, 9.0)]
    res = score_series(y, np.arange(350) * MIN)
    _finite(res)
    assert res.is_anomaly[300]


def test_nan_gaps():
    y, t, _ = _toy(800)
    y[100:150] = np.nan
    y[400] = np.nan
    res = score_series(y, t)
    _finite(res)
    assert np.all(res.scores[100:150] == 0)
    assert np.isnan(res.expected[400])
    assert np.isfinite(res.expected[401])


def test_single_point_and_empty():
    res = score_series([5.0], [0.0])
    assert res.scores.tolist() == [0.0] and res.is_anomaly.tolist() == [False]
    assert score_series([], []).scores.shape == (0,)


def test_huge_jumps_of_scale():
    y = np.r_[np.ones(50), 1e12, np.ones(20), -1e15, 1e-12 * np.ones(30), np.full(20, 1e300)]
    res = score_series(y, np.arange(len(y)) * MIN)
    _finite(res)
    assert res.scores[50] > 0.9


def test_infinite_values_are_gaps():
    y = np.r_[np.ones(30), np.inf, -np.inf, np.ones(5)]
    _finite(score_series(y, np.arange(len(y)) * MIN))


def test_out_of_order_timestamps():
    y, t, _ = _toy(600)
    t = t.copy()
    rng = np.random.default_rng(2)
    for start in (200, 350, 500):  # bursts of shuffled arrivals
        rng.shuffle(t[start : start + 20])
    res = score_series(y, t)
    _finite(res)
    assert res.is_anomaly.sum() <= 3


def test_stop_and_restart_days_later():
    y, t, _ = _toy(1200)
    t = t.copy()
    t[600:] += 3 * DAY  # the metric stops and comes back three days later
    res = score_series(y, t)
    _finite(res)
    assert res.is_anomaly[600:].sum() <= 2


def test_timestamps_as_strings_and_datetimes():
    ts = np.datetime64("2024-01-01T00:00") + np.arange(100) * np.timedelta64(1, "m")
    a = score_series(np.sin(np.arange(100.0)), ts)
    b = score_series(np.sin(np.arange(100.0)), [str(x) for x in ts])
    c = score_series(np.sin(np.arange(100.0)), ts.astype("datetime64[ns]").astype(np.int64) / 1e9)
    assert np.array_equal(a.scores, b.scores) and np.array_equal(a.scores, c.scores)


def test_state_round_trip_gives_identical_scores():
    y, t, _ = _toy(1500)
    det = StreamingDetector()
    for x, ts in zip(y[:1000], t[:1000], strict=True):
        det.learn_one(x, ts)
    state = json.loads(json.dumps(det.to_state()))
    assert len(json.dumps(state)) <= 4096
    clone = StreamingDetector.from_state(state)
    for x, ts in zip(y[1000:], t[1000:], strict=True):
        assert clone.score_one(x, ts) == det.score_one(x, ts)
        assert clone.process_one(x, ts) == det.process_one(x, ts)


def test_from_state_rejects_other_versions():
    state = StreamingDetector().to_state()
    state["version"] = 999
    with pytest.raises(ValueError):
        StreamingDetector.from_state(state)


def test_score_one_does_not_learn():
    det = StreamingDetector()
    for i in range(50):
        det.learn_one(float(i % 3), i * MIN)
    before = det.to_state()
    det.score_one(100.0, 50 * MIN)
    assert det.to_state() == before


def test_point_api_matches_series_api():
    y, t, _ = _toy(700)
    res = score_series(y, t)
    det = StreamingDetector()
    got = [det.process_one(x, ts) for x, ts in zip(y, t, strict=True)]
    assert np.allclose([g[0] for g in got], res.scores)
    assert [g[1] for g in got] == res.is_anomaly.tolist()


def test_continue_from_a_restored_detector():
    y, t, _ = _toy(900)
    whole = score_series(y, t)
    det = StreamingDetector()
    score_series(y[:500], t[:500], detector=det)
    restored = StreamingDetector.from_state(json.loads(json.dumps(det.to_state())))
    rest = score_series(y[500:], t[500:], detector=restored)
    assert np.array_equal(rest.scores, whole.scores[500:])


def test_matrix_path_equals_series_path():
    ys = [_toy(800, seed)[0] for seed in range(3)]
    t = _toy(800)[1]
    mat = score_matrix(np.stack(ys), t)
    for i, y in enumerate(ys):
        one = score_series(y, t)
        assert np.allclose(mat.scores[i], one.scores, rtol=0, atol=1e-12)
        assert np.array_equal(mat.is_anomaly[i], one.is_anomaly)


def test_deterministic():
    y, t, _ = _toy(800)
    a, b = score_series(y, t), score_series(y, t)
    assert np.array_equal(a.scores, b.scores)
    assert np.array_equal(a.is_anomaly, b.is_anomaly)


def test_auc_on_labelled_toy_stream():
    y, t, labels = _toy()
    res = score_series(y, t)
    assert _auc(res.scores, labels) > 0.95
    assert res.is_anomaly[labels].all()
    assert res.is_anomaly.sum() <= labels.sum() + 3


def test_band_contains_normal_points():
    y, t, labels = _toy()
    res = score_series(y, t)
    inside = (y >= res.lower) & (y <= res.upper)
    assert inside[500:][~labels[500:]].mean() > 0.99
    assert not inside[1500]  # the first injected spike


def test_daily_seasonality_is_detected_not_configured():
    y, t, _ = _toy(3000)
    s = kernel.new_state(1)
    score_matrix(y[None, :], t, state=s)
    assert s[kernel.F["on1"], 0] == 1.0  # daily profile in use
    noise = np.random.default_rng(5).normal(size=3000)
    s = kernel.new_state(1)
    score_matrix(noise[None, :], t, state=s)
    assert s[kernel.F["on1"], 0] == 0.0


def test_adapts_to_a_level_shift():
    rng = np.random.default_rng(3)
    y = np.r_[rng.normal(0, 1, 500), rng.normal(30, 1, 500)]
    res = score_series(y, np.arange(1000) * MIN)
    assert res.is_anomaly[500:510].any()
    assert res.is_anomaly[550:].sum() == 0
    assert abs(res.expected[-1] - 30) < 2


@pytest.mark.parametrize("gap_points", [72, 288, 576])  # 6 hours, 1 day, 2 days later
def test_one_incident_neither_widens_the_band_nor_hides_its_repeat(gap_points):
    # Latency-like: a daily cycle, 5% noise, 5-minute points; a 4x spike of three
    # points on day 4, and the same spike again later.
    rng = np.random.default_rng(11)
    t = np.arange(288 * 7) * 300.0
    daily = 1 + 0.6 * np.sin(2 * np.pi * t / DAY)
    y = (95 + 30 * daily) * (1 + 0.05 * rng.standard_normal(len(t)))
    first = 288 * 4
    again = first + gap_points
    y[first : first + 3] *= 4
    y[again : again + 3] *= 4
    res = score_series(y, t)
    half = res.upper - res.expected
    before = np.median(half[first - 100 : first])
    assert res.is_anomaly[first] and res.is_anomaly[again]
    # Before the tails capped what they learn from an outlier, the repeat scored
    # 0.48-0.54 (not an anomaly a day later) and the band was 10-14 times wider.
    assert res.scores[again] >= 0.6
    assert half[again - 1] < 5 * before


def test_default_decision_level():
    assert DEFAULT_DECISION_LEVEL == 0.5


def test_score_half_means_one_false_alarm_per_week():
    # 0.5 <=> p = dt / week: 10^-4 at 1 minute, 1/2016 at 5 minutes
    assert kernel._decades(np.array([60.0]))[0] == pytest.approx(np.log10(10080))
    assert kernel._decades(np.array([300.0]))[0] == pytest.approx(np.log10(2016))
    rng = np.random.default_rng(7)
    y = rng.normal(size=(40, 2016))  # 40 metrics of pure noise, a week at 5 minutes
    res = score_matrix(y, np.arange(2016) * 300.0)
    assert res.is_anomaly.sum() <= 40  # budget: at most one false alarm a metric-week


def test_a_state_of_version_1_is_upgraded_and_goes_on_scoring():
    rng = np.random.default_rng(5)
    t = np.arange(3000) * 300.0
    y = 50 + 5 * np.sin(2 * np.pi * t / DAY) + rng.normal(size=len(t))
    det = StreamingDetector()
    for x, ts in zip(y[:2000], t[:2000], strict=True):
        det.learn_one(x, ts)
    state = det.to_state()
    vector = np.frombuffer(base64.b64decode(state["state"]), dtype="<f8")
    old = {**state, "version": 1}
    old["state"] = base64.b64encode(vector[: kernel.V1_SIZE].tobytes()).decode("ascii")
    upgraded = StreamingDetector.from_state(old)
    # what was learned is kept; the range starts afresh at the level, so records are
    # judged as those of a new metric
    scores = [upgraded.process_one(x, ts)[0] for x, ts in zip(y[2000:], t[2000:], strict=True)]
    assert max(scores) < 0.5
    with pytest.raises(ValueError):
        kernel.upgrade(vector[:100])


def test_a_record_beyond_a_long_calm_history_counts_though_the_recent_noise_hides_it(
    monkeypatch,
):
    # A week of calm data, a noisy spell that widens the short-memory noise scale, then
    # a value beyond anything seen by 30% of the range: the record is the evidence the
    # residual alone lacks.
    rng = np.random.default_rng(2)
    t = np.arange(2100) * 300.0
    y = 100 + rng.normal(size=len(t))
    y[2040:2070] += rng.normal(scale=3.0, size=30)
    y[2072] = y[:2072].max() + 0.3 * (y[:2072].max() - y[:2072].min())
    with_records = score_series(y, t)
    monkeypatch.setattr(kernel, "RECORD_MIN", 10**9)
    without = score_series(y, t)
    assert with_records.is_anomaly[2072] and not without.is_anomaly[2072]
    assert without.scores[2072] < 0.3 < 0.5 <= with_records.scores[2072]


def test_the_band_of_a_metric_that_was_never_negative_stays_non_negative():
    # Requests per 5 minutes: a daily cycle that falls to almost nothing at night, so a
    # band of the noise's width around the expected value reaches below zero.
    rng = np.random.default_rng(4)
    t = np.arange(288 * 5) * 300.0
    rate = 40 * np.maximum(np.sin(2 * np.pi * t / DAY), 0.0) ** 2 + 0.2
    y = rng.poisson(rate).astype(float)
    res = score_series(y, t)
    assert (res.lower >= 0).all() and (res.expected >= 0).all()
    assert (res.lower == 0).sum() > 288  # the band does reach the floor, every night
    # the same shape below zero keeps its band: nothing is clamped for such a metric
    shifted = score_series(y - 100.0, t)
    assert (shifted.lower < -100).any()


@pytest.mark.parametrize("step", [300.0, 3600.0])
def test_no_burst_of_false_alarms_when_detection_starts(step):
    # The first points a detector may raise on (after WARMUP) are as quiet as later ones:
    # its tails calibrate during the warm-up. When they only began learning at the end
    # of it, the next 12 points raised 7 (5 minutes) to 28 (1 hour) alarms per 1,000
    # points on clean daily cycles, 10-100 times the steady rate.
    rng = np.random.default_rng(1)
    m = 200
    t = np.arange(400) * step
    phase = rng.uniform(0, 2 * np.pi, (m, 1))
    y = 100 * (1 + 0.6 * np.sin(2 * np.pi * t / DAY + phase))
    y *= 1 + 0.05 * rng.standard_normal((m, len(t)))
    alarms = score_matrix(y, t).is_anomaly
    assert not alarms[:, : kernel.WARMUP].any()
    budget = step / kernel.ALARM_BUDGET  # false alarms per point that scoring 0.5 allows
    first = alarms[:, kernel.WARMUP : kernel.WARMUP + 24].mean()
    assert first <= budget
