"""The NAB scorer against values the published method predicts, on a tiny corpus."""

import math

import numpy as np
import pytest
from benchmarks.nab import scorer
from benchmarks.nab.scorer import LabeledFile, Profile

STANDARD = Profile("standard", tp=1.0, fp=0.11, fn=1.0)
LOW_FN = Profile("reward_low_FN_rate", tp=1.0, fp=0.11, fn=2.0)
LOW_FP = Profile("reward_low_FP_rate", tp=1.0, fp=0.22, fn=1.0)

FILES = [
    LabeledFile("a/one.csv", 1000, [(400, 499)]),
    LabeledFile("b/two.csv", 2000, [(600, 649), (1500, 1599)]),
]
N_WINDOWS = 3


def _sigma(p: float) -> float:
    """The scaled sigmoid, written out independently of the scorer."""
    return -1.0 if p >= 3 else 2.0 / (1.0 + math.exp(5.0 * p)) - 1.0


def _zeros():
    return {f.name: np.zeros(f.n) for f in FILES}


def _flag(rows_by_file, value=1.0):
    s = _zeros()
    for name, rows in rows_by_file.items():
        s[name][rows] = value
    return s


@pytest.mark.parametrize("profile", [STANDARD, LOW_FN, LOW_FP])
def test_null_detector_scores_zero(profile):
    res = scorer.score_corpus(FILES, _zeros(), profile)
    assert res.normalized == pytest.approx(0.0)
    assert res.raw == pytest.approx(-profile.fn * N_WINDOWS)


@pytest.mark.parametrize("profile", [STANDARD, LOW_FN, LOW_FP])
def test_perfect_detector_scores_100(profile):
    # NAB's perfect detector: one detection on the first row of every window.
    s = _flag({"a/one.csv": [400], "b/two.csv": [600, 1500]})
    res = scorer.score_corpus(FILES, s, profile)
    assert res.normalized == pytest.approx(100.0)
    assert res.raw == pytest.approx(res.perfect)


def test_first_point_plus_false_positives_matches_the_method():
    # Flag each window's first row (worth tpWeight each: sigma(-1)/sigma(-1)), plus
    # one false positive 25 rows after the first window (relative position
    # 25 / (w - 1) = 25/99) and one before any window (worth -fpWeight).
    s = _flag({"a/one.csv": [400, 524, 300], "b/two.csv": [600, 1500]})
    expected_raw = 3 * 1.0 + 0.11 * _sigma(25 / 99) + 0.11 * -1.0
    expected = 100 * (expected_raw + 3) / (3 + 3)
    res = scorer.score_corpus(FILES, s, STANDARD, threshold=0.5)
    assert res.raw == pytest.approx(expected_raw)
    assert res.normalized == pytest.approx(expected)


def test_late_detection_and_missed_window_match_the_method():
    # Middle of window one (row 449: position -(499-449+1)/100 = -0.51), last row of
    # window two (position -1/50), nothing in window three (a false negative).
    s = _flag({"a/one.csv": [449], "b/two.csv": [649]})
    tp = _sigma(-0.51) / _sigma(-1.0) + _sigma(-1 / 50) / _sigma(-1.0)
    for profile in (STANDARD, LOW_FN):
        raw = tp - profile.fn
        res = scorer.score_corpus(FILES, s, profile, threshold=0.5)
        assert res.raw == pytest.approx(raw)
        null = -profile.fn * 3
        assert res.normalized == pytest.approx(100 * (raw - null) / (3 - null))


def test_only_the_earliest_detection_of_a_window_counts():
    once = scorer.score_corpus(FILES, _flag({"a/one.csv": [420]}), STANDARD, threshold=0.5)
    many = scorer.score_corpus(
        FILES, _flag({"a/one.csv": [420, 430, 499]}), STANDARD, threshold=0.5
    )
    assert once.raw == pytest.approx(many.raw)


def test_probationary_period_is_ignored():
    assert scorer.probation_length(1000) == 150
    assert scorer.probation_length(10_000) == 750  # NAB caps it at 15% of 5,000 rows
    s = _flag({"a/one.csv": [10, 149]})
    res = scorer.score_corpus(FILES, s, STANDARD, threshold=0.5)
    assert res.normalized == pytest.approx(0.0)


def test_threshold_is_optimised_over_the_whole_corpus():
    # TPs score 0.9, a false positive scores 0.5: the best threshold keeps the TPs only.
    s = _flag({"a/one.csv": [400], "b/two.csv": [600, 1500]}, 0.9)
    s["a/one.csv"][700] = 0.5
    res = scorer.score_corpus(FILES, s, STANDARD)
    assert res.threshold == pytest.approx(0.9)
    assert res.normalized == pytest.approx(100.0)


def test_threshold_curve_matches_brute_force():
    rng = np.random.default_rng(1)
    s = {f.name: np.round(rng.random(f.n), 2) for f in FILES}
    thr, raw = scorer.threshold_curve(FILES, s, LOW_FP)
    for t, r in zip(thr[1:], raw[1:], strict=True):
        brute = sum(scorer.score_file(f, s[f.name], t, LOW_FP) for f in FILES)
        assert r == pytest.approx(brute)
    assert raw[0] == pytest.approx(-3.0)


def test_window_indices_from_timestamps():
    ts = [f"2014-01-01 00:{m:02d}:00" for m in range(60)]
    got = scorer.window_indices(ts, [["2014-01-01 00:10:00.000000", "2014-01-01 00:19:00"]])
    assert got == [(10, 19)]


def test_leave_one_category_out_scores_each_category_at_the_others_threshold():
    from benchmarks.nab.run import category_cv

    # a's window scores 0.6 with a false positive at 0.3; b's windows score only 0.3.
    # Over both, 0.3 is best; a alone wants 0.6 (no false positive), b alone 0.3.
    s = _flag({"a/one.csv": [400], "b/two.csv": [600, 1500]}, 0.3)
    s["a/one.csv"][400] = 0.6
    s["a/one.csv"][800] = 0.3
    profiles = {"standard": STANDARD, "reward_low_FP_rate": LOW_FP, "reward_low_FN_rate": LOW_FN}
    assert scorer.score_corpus(FILES, s, STANDARD).threshold == pytest.approx(0.3)
    cv = category_cv(FILES, profiles, s)
    assert cv["standard_thresholds"] == {"a": pytest.approx(0.3), "b": pytest.approx(0.6)}
    a, b = FILES
    raw = scorer.score_file(a, s[a.name], 0.3, STANDARD) + scorer.score_file(
        b, s[b.name], 0.6, STANDARD
    )
    assert scorer.score_file(b, s[b.name], 0.6, STANDARD) == pytest.approx(-2.0)  # missed
    assert cv["standard"] == pytest.approx(100.0 * (raw + N_WINDOWS) / (2 * N_WINDOWS), abs=0.01)
    # below what the corpus-tuned threshold gets on the same scores
    assert cv["standard"] < scorer.score_corpus(FILES, s, STANDARD).normalized
