"""Feedback that tunes alerting: what "not interesting" silences and what it must not."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from augury.engines.detect.feedback import (
    MARGIN,
    MAX_EXAMPLES,
    BenignProfile,
    Deviation,
    add_feedback,
    displacement,
    explain,
    from_json,
    is_benign,
    judge,
    rule_texts,
    rules,
    to_json,
)

MIN = 60.0
MARCH_1 = datetime(2026, 3, 1, 14, 5, tzinfo=UTC).timestamp()

BLIP = Deviation(
    direction="up",
    delta=12.3,
    delta_pct=8.0,
    duration_s=14 * MIN,
    peak_score=72.0,
    hour_of_day=3,
    start=MARCH_1,
)


def dismissed(*examples: Deviation) -> BenignProfile:
    profile = BenignProfile()
    for e in examples:
        profile = add_feedback(profile, e, "not_interesting")
    return profile


def test_no_feedback_means_alert():
    assert not is_benign(BenignProfile(), BLIP)
    assert "no deviation of this metric was marked not interesting" in explain(
        BenignProfile(), BLIP
    )


def test_benign_repeat_is_suppressed():
    profile = dismissed(BLIP)
    repeat = replace(BLIP, delta=11.0, delta_pct=7.1, duration_s=15 * MIN, start=None)
    assert is_benign(profile, repeat)
    assert explain(profile, repeat) == (
        "held: it fits the rule learned from the deviation marked not interesting on "
        "2026-03-01 14:05 UTC (+12.3, 14 min) (upward deviations up to +18.5 (1.5x the "
        "largest marked, +12.3), lasting up to 22 min, around 03:00 UTC (within 2 h) daily: "
        "held (learned from 1 deviation marked not interesting, the newest on 2026-03-01 "
        "14:05 UTC))"
    )


def test_somewhat_larger_is_still_benign_up_to_the_margin():
    profile = dismissed(BLIP)
    assert is_benign(profile, replace(BLIP, delta=12.3 * (1 + MARGIN), delta_pct=8.0))
    assert not is_benign(profile, replace(BLIP, delta=12.3 * (1 + MARGIN) + 0.1))
    # Smaller deviations of the same kind are benign too: less than what was dismissed.
    assert is_benign(profile, replace(BLIP, delta=2.0, delta_pct=1.0, duration_s=MIN))


def test_three_times_larger_is_not_suppressed():
    profile = dismissed(BLIP)
    big = replace(BLIP, delta=3 * 12.3, delta_pct=24.0)
    assert not is_benign(profile, big)
    assert explain(profile, big).startswith(
        "alerting: it is +36.9, over the +18.5 allowed by the rule learned from the deviation"
    )


def test_relative_size_counts_when_both_know_it():
    profile = dismissed(BLIP)
    # Same absolute size but on a baseline that shrank: 3x the relative change.
    assert not is_benign(profile, replace(BLIP, delta_pct=24.0))
    assert "relative to the expected value" in explain(profile, replace(BLIP, delta_pct=24.0))
    assert is_benign(profile, replace(BLIP, delta_pct=None))


def test_relative_size_is_ignored_when_the_expected_value_is_near_zero():
    # Expected ~4, deviations of several hundred percent: the percentage swings with the
    # small expected value, so only the absolute size (1.18x here) decides.
    near_zero = replace(BLIP, delta=-60.0, delta_pct=-798.0, direction="down")
    repeat = replace(near_zero, delta=-71.0, delta_pct=-1493.0)
    assert is_benign(dismissed(near_zero), repeat)
    assert not is_benign(dismissed(near_zero), replace(repeat, delta=-120.0))


def test_opposite_direction_is_not_suppressed():
    profile = dismissed(BLIP)
    drop = replace(BLIP, direction="down", delta=-12.3, delta_pct=-8.0)
    assert not is_benign(profile, drop)
    assert explain(profile, drop) == (
        "alerting: no downward deviation of this metric was marked not interesting"
    )


def test_much_longer_is_not_suppressed():
    profile = dismissed(BLIP)
    assert not is_benign(profile, replace(BLIP, duration_s=3 * 14 * MIN))
    assert "it lasts 42 min, over the 22 min allowed by" in explain(
        profile, replace(BLIP, duration_s=42 * MIN)
    )


def test_one_interval_of_slack_on_duration():
    """A one-point anomaly on an hourly metric lasts an hour; one point more must not
    escape the envelope just because durations count whole points."""
    hourly = replace(BLIP, duration_s=3600.0)
    profile = dismissed(hourly)
    two_points = replace(hourly, duration_s=7200.0)
    assert is_benign(profile, two_points, interval_s=3600.0)
    assert not is_benign(profile, two_points, interval_s=60.0)
    assert not is_benign(profile, replace(hourly, duration_s=3 * 3600.0), interval_s=3600.0)


def test_hour_of_day_must_be_close_when_both_know_it():
    profile = dismissed(BLIP)  # 03h
    assert is_benign(profile, replace(BLIP, hour_of_day=5))
    assert is_benign(profile, replace(BLIP, hour_of_day=None))
    assert not is_benign(profile, replace(BLIP, hour_of_day=15))
    assert "peaked at 15h UTC, over 2 h from the hours (03h) of the rule" in explain(
        profile, replace(BLIP, hour_of_day=15)
    )
    # The hour wraps around midnight.
    late = dismissed(replace(BLIP, hour_of_day=23))
    assert is_benign(late, replace(BLIP, hour_of_day=1))


def test_examples_around_one_hour_make_one_rule_their_envelope():
    """Two marks the same way around the same hour teach one rule: up to 1.5x the
    largest and the longest of them (what the rule says in words)."""
    small_long = replace(
        BLIP, delta=5.0, delta_pct=3.0, duration_s=2 * 3600.0, hour_of_day=4, start=MARCH_1 + 86400
    )
    profile = dismissed(BLIP, small_long)
    (rule,) = rules(profile)
    assert rule.hours == (3, 4)
    assert rule.max_delta == pytest.approx(12.3 * 1.5)
    assert rule.max_lasts_s == pytest.approx(2 * 3600.0 * 1.5 + 60.0)
    assert is_benign(profile, replace(BLIP, delta=15.0, delta_pct=9.0, duration_s=7200.0))
    assert not is_benign(profile, replace(BLIP, delta=19.0, delta_pct=9.0))
    assert "around 03:00, 04:00 UTC (within 2 h of one) daily" in rule.text()
    assert "learned from 2 deviations marked not interesting" in rule.text()


def test_examples_at_other_hours_or_ways_make_separate_rules():
    """A long blip marked at 15h does not let a long blip at 03h through: each hour of
    day (and each direction) keeps its own rule."""
    long_at_15 = replace(BLIP, duration_s=2 * 3600.0, hour_of_day=15, start=MARCH_1 + 3600)
    dip = replace(BLIP, direction="down", delta=-4.0, delta_pct=-3.0, start=MARCH_1 + 7200)
    profile = dismissed(BLIP, long_at_15, dip)
    assert [(r.direction, r.hours) for r in rules(profile)] == [
        ("up", (3,)),
        ("up", (15,)),
        ("down", (3,)),
    ]
    assert is_benign(profile, replace(BLIP, duration_s=2 * 3600.0, hour_of_day=15))
    assert not is_benign(profile, replace(BLIP, duration_s=2 * 3600.0))
    assert rule_texts(profile)[2].startswith("downward deviations up to -6 (1.5x")


def test_examples_without_an_hour_make_an_any_time_rule():
    profile = dismissed(replace(BLIP, hour_of_day=None))
    (rule,) = rules(profile)
    assert rule.hours == ()
    assert "at any time of day" in rule.text()
    assert is_benign(profile, replace(BLIP, hour_of_day=17))


def test_the_values_time_away_counts_when_the_anomaly_closed_early():
    """Detection adapts to a hung job's new level and closes its anomaly after one
    point; the values stay away for two hours. The hang alerts; a blip whose values came
    back within the rule's duration is held."""
    blip = replace(BLIP, duration_s=5 * MIN, away_s=5 * MIN, level_delta=12.0)
    profile = dismissed(blip)
    hang = replace(blip, start=None, away_s=2 * 3600.0)
    verdict = judge(profile, hang)
    assert not verdict.benign
    assert "it lasts 2 h, over the 8 min allowed by the rule" in verdict.reason
    assert verdict.rule is not None and verdict.rule.examples == (blip,)
    assert is_benign(profile, replace(hang, away_s=7 * MIN))


def test_a_deviation_still_going_on_is_held_only_for_now():
    blip = replace(BLIP, duration_s=5 * MIN, away_s=5 * MIN, level_delta=12.0)
    profile = dismissed(blip)
    early = replace(blip, start=None, away_s=5 * MIN, ongoing=True)
    verdict = judge(profile, early)
    assert verdict.benign and verdict.provisional
    assert verdict.reason.startswith("held for now (still going on): it fits the rule")
    later = replace(early, away_s=30 * MIN)
    assert not is_benign(profile, later)
    assert "it lasts at least 30 min, over the 8 min allowed" in explain(profile, later)
    done = replace(early, ongoing=False)
    assert judge(profile, done).benign and not judge(profile, done).provisional


def test_size_is_read_from_the_level_before_when_known():
    """The anomaly's delta depends on what detection expected; the distance from the
    level before is the job's own size. A first blip measured small against a high
    expectation teaches the size the chart shows."""
    first = replace(BLIP, delta=6.0, level_delta=12.0)
    profile = dismissed(first)
    assert rules(profile)[0].max_delta == pytest.approx(18.0)
    assert is_benign(profile, replace(BLIP, delta=16.0, level_delta=16.0, delta_pct=None))
    runaway = replace(BLIP, delta=17.0, level_delta=40.0, delta_pct=None)
    assert not is_benign(profile, runaway)
    assert "it is +40, over the +18 allowed" in explain(profile, runaway)
    # A level_delta on the wrong side says nothing of the size: delta is used.
    assert replace(BLIP, level_delta=-1.0).size == 12.3


def test_the_jobs_shadow_is_held_but_a_real_dip_at_its_time_alerts():
    """After a learned job detection expects it: a value back at the level of the hour
    before is *below expected* at the job's time without the metric having moved."""
    profile = dismissed(replace(BLIP, level_delta=12.0))
    shadow = replace(
        BLIP, direction="down", delta=-6.0, delta_pct=-4.0, level_delta=-0.5, start=None
    )
    verdict = judge(profile, shadow)
    assert verdict.benign
    assert "but its value is back at the level before (-0.5 from it)" in verdict.reason
    assert not is_benign(profile, replace(shadow, level_delta=-10.0))  # a real dip
    assert not is_benign(profile, replace(shadow, hour_of_day=12))  # another time
    assert not is_benign(profile, replace(shadow, level_delta=None))  # values unknown


def test_good_catch_wins():
    """The user dismissed a +12.3 blip, but called a +10 one a good catch: size matters,
    so a deviation at least that large and long alerts even though it resembles the
    dismissed one."""
    catch = replace(BLIP, delta=10.0, delta_pct=6.0, duration_s=10 * MIN, start=MARCH_1 + 86400)
    profile = add_feedback(dismissed(BLIP), catch, "good_catch")
    repeat = replace(BLIP, delta=11.0, delta_pct=7.0, start=None)
    assert not is_benign(profile, repeat)
    assert explain(profile, repeat) == (
        "alerting: it fits the rule learned from the deviation marked not interesting on "
        "2026-03-01 14:05 UTC "
        "(+12.3, 14 min), but is at least as large and as long as the deviation marked "
        "a good catch on 2026-03-02 14:05 UTC (+10, 10 min)"
    )
    # Smaller than the good catch, or much shorter, or the other way: still benign.
    assert is_benign(profile, replace(repeat, delta=9.0))
    assert is_benign(profile, replace(repeat, duration_s=5 * MIN))
    down = add_feedback(
        dismissed(BLIP), replace(catch, direction="down", delta=-10.0, delta_pct=-6.0), "good_catch"
    )
    assert is_benign(down, repeat)


def test_marking_the_same_deviation_again_changes_its_kind():
    profile = add_feedback(dismissed(BLIP), BLIP, "good_catch")
    assert profile.benign == [] and profile.good_catches == [BLIP]
    profile = add_feedback(profile, BLIP, "not_interesting")
    assert profile.benign == [BLIP] and profile.good_catches == []
    assert dismissed(BLIP, BLIP).benign == [BLIP]


def test_add_feedback_does_not_mutate():
    profile = dismissed(BLIP)
    add_feedback(profile, replace(BLIP, delta=1.0), "not_interesting")
    assert profile.benign == [BLIP]


def test_json_round_trip():
    profile = add_feedback(
        dismissed(BLIP, replace(BLIP, direction="down", delta=-3.0, delta_pct=None)),
        replace(BLIP, delta=40.0, hour_of_day=None, start=None),
        "good_catch",
    )
    data = json.loads(json.dumps(to_json(profile)))
    assert from_json(data) == profile
    assert data["version"] == 1


def test_from_json_empty_and_tolerant():
    assert from_json({}) == BenignProfile()
    assert from_json(None) == BenignProfile()
    data = to_json(dismissed(BLIP))
    data["benign"][0]["new_feature"] = 1  # written by a newer version
    assert from_json(data).benign == [BLIP]


@pytest.mark.parametrize(
    "data",
    [
        {"version": 2},
        {"benign": ["nope"]},
        {"benign": [{"direction": "up"}]},
        {"benign": [{**to_json(dismissed(BLIP))["benign"][0], "direction": "sideways"}]},
        {"benign": [{**to_json(dismissed(BLIP))["benign"][0], "delta": float("nan")}]},
    ],
)
def test_from_json_rejects_bad_data(data: dict):
    with pytest.raises(ValueError):
        from_json(data)


def test_examples_are_capped_dropping_the_oldest():
    examples = [
        replace(BLIP, delta=float(i + 1), start=MARCH_1 + i) for i in range(MAX_EXAMPLES + 5)
    ]
    profile = dismissed(*examples)
    assert profile.benign == examples[-MAX_EXAMPLES:]
    catches = BenignProfile()
    for e in examples:
        catches = add_feedback(catches, e, "good_catch")
    assert catches.good_catches == examples[-MAX_EXAMPLES:]
    # One kind filling up does not push out the other.
    both = add_feedback(profile, replace(BLIP, delta=99.0), "good_catch")
    assert len(both.benign) == MAX_EXAMPLES and len(both.good_catches) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"direction": "sideways"}, "direction"),
        ({"delta": float("inf")}, "delta"),
        ({"duration_s": -1.0}, "duration_s"),
        ({"hour_of_day": 24}, "hour_of_day"),
        ({"delta_pct": float("nan")}, "delta_pct"),
    ],
)
def test_deviation_validation(changes: dict, message: str):
    with pytest.raises(ValueError, match=message):
        replace(BLIP, **changes)


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        add_feedback(BenignProfile(), BLIP, "meh")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="margin"):
        is_benign(BenignProfile(), BLIP, margin=-0.1)


def test_displacement_measures_the_time_away_from_the_level_before():
    ts = [float(300 * i) for i in range(30)]
    values = [10.0 + (i % 2) * 0.2 for i in range(30)]
    for i in range(15, 19):  # four points away, +8
        values[i] += 8.0
    away, level_delta, ongoing = displacement(
        ts, values, start=ts[15], peak_ts=ts[16], direction="up", interval_s=300.0
    )
    assert away == 4 * 300.0
    assert level_delta == pytest.approx(8.0 - 0.1)  # the level is the median, 10.1
    assert not ongoing
    # Still away at the newest value: ongoing, and the time so far.
    away, _, ongoing = displacement(
        ts[:18], values[:18], start=ts[15], peak_ts=ts[16], direction="up", interval_s=300.0
    )
    assert (away, ongoing) == (3 * 300.0, True)
    # A dip measured as "down" but the value is above the level: no time away.
    away, level_delta, _ = displacement(
        ts, values, start=ts[15], peak_ts=ts[16], direction="down", interval_s=300.0
    )
    assert away is None and level_delta > 0
    # Too few values before: nothing known.
    assert displacement(
        ts[14:], values[14:], start=ts[15], peak_ts=ts[16], direction="up", interval_s=300.0
    ) == (None, None, False)
    with pytest.raises(ValueError, match="direction"):
        displacement(ts, values, start=0.0, peak_ts=0.0, direction="sideways", interval_s=1.0)
