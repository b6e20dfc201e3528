"""The label-free false-alarm benchmark: its series hold what their names say, and its
rates are alarms per metric-week, the first week apart from the others."""

import numpy as np
from benchmarks.detect import quiet


def _series(kind, m=20, weeks=2):
    return quiet.series(kind, np.random.default_rng(0), m, int(weeks * quiet.WEEK / quiet.STEP))


def test_the_kinds_are_what_they_say():
    gauss, heavy = _series("gaussian"), _series("student_t3")
    assert abs(gauss.std() - 5) < 0.1 and abs(heavy.std() - 5) < 0.5
    excess = [((x - x.mean()) ** 4).mean() / x.var() ** 2 - 3 for x in (gauss, heavy)]
    assert abs(excess[0]) < 0.1 and excess[1] > 3  # Student-t's tails are heavy
    counts = _series("poisson")
    assert counts.min() >= 0 and np.array_equal(counts, np.round(counts))
    assert abs(counts.mean() - 3) < 0.05
    weekly = _series("daily_weekly", m=1)[0].reshape(14, -1).mean(axis=1)
    assert weekly[5:7].max() < weekly[:5].min() - 40  # Saturday and Sunday are lower
    assert np.allclose(weekly[:7], weekly[7:], atol=2.0)  # the same every week
    daily = _series("daily", m=1)[0].reshape(14, -1)
    assert daily.argmax(axis=1).std() < 20  # the peak comes at the same time each day


def test_rates_count_alarms_per_metric_week(monkeypatch):
    """A stand-in detector that raises an alarm at every metric's first point of each
    day: 7 per metric-week, whatever the week."""

    class Result:
        def __init__(self, values):
            self.is_anomaly = np.zeros(values.shape, dtype=bool)
            self.is_anomaly[:, :: int(86400 / quiet.STEP)] = True

    monkeypatch.setattr(quiet, "score_matrix", lambda values, t: Result(values))
    out = quiet.run(("gaussian", "poisson"), metrics=3, weeks=3, seeds=(0, 1))
    for r in out.values():
        assert r["first_week"] == r["later_weeks"] == 7.0
        assert r["metric_weeks"] == 3 * 2 * 3 and r["alarms"] == 7 * 18


def test_no_alarm_counts_zero_and_the_real_detector_runs():
    out = quiet.run(("gaussian",), metrics=2, weeks=2, seeds=(0,))["gaussian"]
    assert out["metric_weeks"] == 4
    assert out["alarms"] == round(out["first_week"] * 2 + out["later_weeks"] * 2)
