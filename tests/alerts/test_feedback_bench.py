"""The feedback benchmark's replay on a short synthetic series: "not interesting"
feedback holds back the repeats of a benign blip, and incidents still alert.

Runs the same code as ``make bench-feedback`` (real writer, detection, evaluator and
feedback service on a fresh SQLite file), on 6 days instead of NAB's 14 so it stays
quick; needs no NAB data.
"""

from __future__ import annotations

import numpy as np
import pytest
from benchmarks.feedback import replay
from benchmarks.feedback.series import STEP_S, Case, Window

DAYS = 6
BLIP_AT = 3 * 12  # 03:00 UTC, in 5-minute points
BLIP_POINTS = 2


def synthetic_case() -> Case:
    """A daily cycle with noise 0.3; a blip at 03:00 every day, 20% larger each day
    (the detector raises the first three); a 40-unit spike at 15:00 on day 4, and a
    runaway blip of 100 at 03:00 on day 5 (the detector's noise level for 03:00 has
    learned the blips by then: it did not raise a runaway of 60 there)."""
    n = DAYS * 86400 // STEP_S
    rng = np.random.default_rng(3)
    ts = 1_699_920_000.0 + STEP_S * np.arange(n)  # a midnight
    values = 10 + 2 * np.sin(2 * np.pi * np.arange(n) / 288) + 0.3 * rng.standard_normal(n)
    case = Case(
        name="synthetic",
        timestamps=ts,
        values=values,
        base=values.copy(),
        unit=1.0,
        size=8.0,
        ladder_step=None,
        blip_points=BLIP_POINTS,
        blip_time_s=BLIP_AT * STEP_S,
    )

    def inject(kind: str, first: int, points: int, delta: float) -> None:
        case.values[first : first + points] += delta
        case.windows.append(Window(kind, float(ts[first]), float(ts[first + points - 1])))

    for day in range(DAYS - 1):
        inject("benign", day * 288 + BLIP_AT, BLIP_POINTS, 8.0 * (1 + 0.2 * day))
    inject("spike", 4 * 288 + 15 * 12, 1, 40.0)
    inject("runaway", 5 * 288 + BLIP_AT, BLIP_POINTS, 100.0)
    return case


@pytest.fixture(scope="module")
def replays(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("feedback-bench")
    template = replay.make_template(workdir / "template.db")
    case = synthetic_case()
    alone = replay.replay(case, template, workdir, user=False)
    with replay.margin(0.5):
        helped = replay.replay(case, template, workdir, user=True)
    return case, alone, helped


def test_feedback_holds_back_the_repeats_and_incidents_still_alert(replays):
    case, alone, helped = replays
    assert alone.false_alerts >= 2  # the detector raised the blip more than once
    assert helped.clicks["not_interesting"] >= 1
    assert helped.false_alerts < alone.false_alerts
    incidents = {w.kind for w in case.incidents}
    assert {w.kind for w in alone.caught(case.windows)} == incidents
    assert {w.kind for w in helped.caught(case.windows)} == incidents
    assert helped.clicks["good_catch"] >= len(incidents)


def test_detection_is_the_same_with_and_without_feedback(replays):
    _, alone, helped = replays
    assert alone.anomalies and helped.anomalies == alone.anomalies
