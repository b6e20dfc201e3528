"""Similar episodes: shapes that are the same up to scale match, a dip never matches a
spike, and a long plateau never matches a short spike."""

from __future__ import annotations

import numpy as np
import pytest

from augury.engines.detect.similar import (
    CONTEXT,
    SPAN,
    Episode,
    duration_similarity,
    episode,
    rank,
    shape_similarity,
    similarity,
)

N = 60
AT = 40


def series(bump, *, level=10.0, noise=0.2, seed=0, at=AT):
    """``level`` plus noise, with ``bump`` (in multiples of ``noise``) added from ``at``;
    the learned band: expected = level, half-width 3 noise."""
    rng = np.random.default_rng(seed)
    y = level + noise * rng.standard_normal(N)
    bump = np.asarray(bump, dtype=float)
    y[at : at + len(bump)] += noise * bump
    expected = np.full(N, level)
    return y, expected, expected - 3 * noise, expected + 3 * noise


def ep(bump, **kw):
    y, e, lo, hi = series(bump, **kw)
    return episode(y, start=AT, end=AT + len(bump) - 1, expected=e, lower=lo, upper=hi)


SPIKE = [12.0]
SHARP = [6.0, 12.0, 5.0]


def test_the_same_spike_at_another_scale_matches():
    small = ep(SHARP, level=10.0, noise=0.2, seed=1)
    large = ep(SHARP, level=50_000.0, noise=900.0, seed=2)
    assert similarity(small, large) > 0.9
    assert small.points == large.points == 3 and small.direction == large.direction == 1


def test_without_a_band_the_context_gives_the_scale():
    y1, *_ = series(SHARP, level=10.0, noise=0.2, seed=1)
    y2, *_ = series(SHARP, level=7_000.0, noise=150.0, seed=2)
    a = episode(y1, start=AT, end=AT + 2)
    b = episode(y2, start=AT, end=AT + 2)
    assert similarity(a, b) > 0.9
    assert a.peak == pytest.approx(b.peak, rel=0.5) and a.peak > 5


def test_a_dip_does_not_match_a_spike():
    spike = ep(SHARP, seed=3)
    dip = ep([-x for x in SHARP], seed=3)
    assert dip.direction == -1 and spike.direction == 1
    assert similarity(spike, dip) == 0.0
    assert similarity(dip, ep([-x for x in SHARP], seed=4)) > 0.9


def test_a_long_plateau_does_not_match_a_short_spike():
    spike = ep(SPIKE, seed=5)
    plateau = ep([12.0] * 15, seed=6)
    # the resampled shapes alike (a flat top), the lengths are not
    assert similarity(spike, plateau) < 0.2
    assert similarity(plateau, ep([12.0] * 14, seed=7)) > 0.9


def test_a_ramp_is_less_like_a_step_than_another_step():
    step = ep([10.0] * 8, seed=8)
    ramp = ep(list(np.linspace(1, 14, 8)), seed=9)
    assert similarity(step, ep([10.0] * 8, seed=10)) > similarity(step, ramp) + 0.1


def test_a_spike_after_a_calm_context_is_not_one_after_a_climb():
    calm = ep(SPIKE, seed=11)
    y, e, lo, hi = series(SPIKE, seed=12)
    y[AT - CONTEXT : AT] += np.linspace(0, 3.0, CONTEXT)  # climbing towards the spike
    climb = episode(y, start=AT, end=AT, expected=e, lower=lo, upper=hi)
    assert similarity(calm, ep(SPIKE, seed=13)) > similarity(calm, climb)


def test_a_shift_of_one_sample_is_forgiven():
    # 16 points: one point is one sample of the resampled shape
    a, b = [10.0] * SPAN, [10.0] * SPAN
    a[7] = b[8] = 30.0
    ea, eb = ep(a, seed=14), ep(b, seed=15)
    assert shape_similarity(ea.shape, eb.shape, shift=0) < 0.8
    assert similarity(ea, eb) == shape_similarity(ea.shape, eb.shape) > 0.9


def test_similarity_is_symmetric_and_bounded():
    eps = [ep(SPIKE, seed=1), ep(SHARP, seed=2), ep([5.0] * 9, seed=3), ep([-8.0], seed=4)]
    for a in eps:
        assert similarity(a, a) == pytest.approx(1.0)
        for b in eps:
            s = similarity(a, b)
            assert 0.0 <= s <= 1.0 and s == pytest.approx(similarity(b, a))


def test_duration_similarity():
    assert duration_similarity(5, 5) == 1.0
    assert duration_similarity(1, 3) == pytest.approx(0.5)
    assert duration_similarity(30, 1) < 0.1


def test_an_anomaly_at_the_start_of_a_metric_has_a_zero_context():
    y = np.r_[10.0, 10.0, 40.0, 10.0]
    e = episode(y, start=2, end=2)
    assert len(e.shape) == CONTEXT + SPAN
    assert np.all(e.shape[: CONTEXT - 2] == 0.0)
    with pytest.raises(ValueError):
        episode(y, start=3, end=2)


def test_rank_orders_by_similarity_and_drops_the_dissimilar():
    target = ep(SHARP, seed=20)
    candidates = [
        ep([-x for x in SHARP], seed=21),  # a dip: out
        ep([12.0] * 20, seed=22),  # a plateau: low
        ep(SHARP, seed=23),  # the same
        ep([6.0, 12.0, 9.0, 5.0], seed=24),  # close
    ]
    ranked = rank(target, candidates, limit=3, min_similarity=0.3)
    assert [i for i, _ in ranked] == [2, 3]
    assert ranked[0][1] > ranked[1][1] >= 0.3
    assert rank(target, candidates, limit=1) == ranked[:1]


def test_an_episode_round_trips_through_json():
    e = ep(SHARP, seed=30)
    back = Episode.from_dict(e.to_dict())
    assert back.points == e.points and back.direction == e.direction
    assert similarity(e, back) == pytest.approx(1.0, abs=1e-6)


def test_an_episode_runs_on_while_the_values_stay_away():
    # The same two-point spike; detection ended one anomaly after its first point (its
    # second scored below the close level once the band had widened): both are
    # episodes of two points, and alike.
    y = np.r_[np.zeros(20), 6.0, 5.5, np.zeros(12)] + 10
    expected = np.full(len(y), 10.0)
    whole = episode(y, expected=expected, start=20, end=21)
    cut = episode(y, expected=expected, start=20, end=20)
    assert whole.points == cut.points == 2
    assert similarity(whole, cut) == pytest.approx(1.0)
    # values that came back stop it: a lone point stays one point
    lone = episode(np.r_[np.zeros(20), 6.0, 1.0, 5.0] + 10, start=20, end=20)
    assert lone.points == 1
