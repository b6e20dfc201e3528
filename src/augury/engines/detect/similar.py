"""Similar episodes ("seen before", as Anomify's patterns and matches).

An **episode** is a metric's anomalous interval with ``CONTEXT`` points before it,
extended over the points after it that stay at least half as far from what was
expected as its peak (up to ``AFTER`` of them): detection ends an anomaly by its score,
which falls faster than the values once the band has widened, so the same two-point
spike was a two-point anomaly one day and a one-point one the next. Its
*shape* is what is left once the metric's own scale is taken away: each value's
residual from what was expected, in units of the band's half-width (the metric's noise
where the detector has learned one, else a robust spread of the context), the context
kept point by point and the anomaly itself resampled to ``SPAN`` samples. Its
*summary* is how many points the anomaly lasted and which way it went.

The similarity of two episodes, in [0, 1], is three factors multiplied:

* **direction**: 0 when one went up and the other down (a dip never matches a spike);
* **shape**: the Pearson correlation of the two shapes (the z-normalised Euclidean
  distance ``d`` of two length-``m`` sequences is ``sqrt(2 m (1 - r))``, so this *is*
  the z-normalised distance, on a 0-1 scale), the best over shifts of up to ``SHIFT``
  samples (a detector that flagged a point early or late), negative correlation as 0.
  It ignores offset and amplitude: the same spike at 10 or at 10,000 matches;
* **duration**: ``1 / (1 + (ln(n1 / n2) / ln 3) ** 2)`` of the two lengths in points
  (1 for equal lengths, 0.5 for three times as long, 0.09 for thirty times).

Why not dynamic time warping: DTW's point is to forgive a different pace, so one
spike point warps onto every point of a 30-point plateau and they match. The
resampled shape is warping-free, and duration is compared on its own, where it is
visible and tunable. A correlation is O(m) per shift and needs no parameters.

>>> import numpy as np
>>> base = np.r_[np.zeros(20), 5.0, np.zeros(3)]
>>> a = episode(10 + base, expected=np.full(24, 10.0), start=20, end=20)
>>> b = episode(1000 + 100 * base, expected=np.full(24, 1000.0), start=20, end=20)
>>> round(similarity(a, b), 3)
1.0
>>> dip = episode(10 - base, expected=np.full(24, 10.0), start=20, end=20)
>>> similarity(a, dip)
0.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CONTEXT = 12
"""Points before the anomaly that belong to its episode."""
AFTER = 12
"""Points after the anomaly's last that its episode may extend over (see above)."""
SPAN = 16
"""Samples the anomaly itself is resampled to."""
SHIFT = 1
"""Samples either way the shapes may be shifted against each other."""
CLIP = 50.0
"""Residuals are clipped to +-CLIP band widths (one absurd point must not own the shape)."""
_LN3 = math.log(3.0)


@dataclass(frozen=True)
class Episode:
    shape: np.ndarray
    """``CONTEXT + SPAN`` residuals in band units: the context, then the anomaly."""
    points: int
    """How many points the anomaly lasted (at least 1)."""
    direction: int
    """+1 (up) or -1 (down): the sign of its largest residual."""
    peak: float
    """Its largest residual in band units (signed): how strong, for people."""

    def to_dict(self) -> dict:
        return {
            "shape": [round(float(x), 4) for x in self.shape],
            "points": self.points,
            "direction": "up" if self.direction > 0 else "down",
            "peak": round(self.peak, 4),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Episode:
        return cls(
            shape=np.asarray(d["shape"], dtype=float),
            points=int(d["points"]),
            direction=1 if d["direction"] == "up" else -1,
            peak=float(d["peak"]),
        )


def _fill(a: Sequence[float | None] | np.ndarray | None, n: int) -> np.ndarray:
    if a is None:
        return np.full(n, np.nan)
    return np.array([np.nan if x is None else x for x in a], dtype=float)


def episode(
    values: Sequence[float] | np.ndarray,
    *,
    start: int,
    end: int,
    expected: Sequence[float | None] | np.ndarray | None = None,
    lower: Sequence[float | None] | np.ndarray | None = None,
    upper: Sequence[float | None] | np.ndarray | None = None,
) -> Episode:
    """The episode of ``values[start:end + 1]`` (indexes of its first and last anomalous
    points) with the ``CONTEXT`` points before ``start``, extended over the points after
    ``end`` (when ``values`` has them) that stay at least half as far from what was
    expected as the peak, in the same direction.

    ``expected``/``lower``/``upper`` are the detector's band aligned to ``values``
    (None where a point was not scored). Where ``expected`` is missing the median of
    the context stands in; where the band is missing, 1.4826 x the context's median
    absolute deviation (floored, so a flat context does not divide by zero).
    """
    y = np.asarray(values, dtype=float)
    n = len(y)
    if not 0 <= start <= end < n:
        raise ValueError(f"need 0 <= start <= end < len(values), got {start}, {end}, {n}")
    exp, lo, hi = _fill(expected, n), _fill(lower, n), _fill(upper, n)
    first = max(0, start - CONTEXT)
    context = y[first:start]
    ref = context if len(context) else y[start : end + 1]
    centre = float(np.median(ref))
    mad = 1.4826 * float(np.median(np.abs(ref - centre))) if len(context) else 0.0
    floor = 1e-6 * max(1.0, abs(centre)) + 1e-12
    if len(context) > 1:
        floor = max(floor, 0.5 * float(np.std(context)), 0.01 * abs(centre))
    fallback = max(mad, floor)
    window = slice(first, min(n, end + 1 + AFTER))
    e = np.where(np.isfinite(exp[window]), exp[window], centre)
    half = (hi[window] - lo[window]) / 2.0
    scale = np.where(np.isfinite(half) & (half > 0), half, fallback)
    resid = np.clip((y[window] - e) / scale, -CLIP, CLIP)
    resid = np.where(np.isfinite(resid), resid, 0.0)
    k = start - first
    last = end - first
    top = resid[k : last + 1]
    peak = float(top[np.argmax(np.abs(top))])
    while last + 1 < len(resid) and np.sign(peak) * resid[last + 1] >= 0.5 * abs(peak) > 0:
        last += 1
    before = np.r_[np.zeros(CONTEXT - k), resid[:k]]
    during = resid[k : last + 1]
    if len(during) == 1:
        body = np.full(SPAN, during[0])
    else:
        body = np.interp(np.linspace(0, len(during) - 1, SPAN), np.arange(len(during)), during)
    return Episode(
        shape=np.r_[before, body],
        points=len(during),
        direction=1 if peak >= 0 else -1,
        peak=peak,
    )


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    na, nb = float(np.sqrt(a @ a)), float(np.sqrt(b @ b))
    if na < 1e-12 or nb < 1e-12:
        return 1.0 if na < 1e-12 and nb < 1e-12 else 0.0
    return float(a @ b) / (na * nb)


def shape_similarity(a: np.ndarray, b: np.ndarray, shift: int = SHIFT) -> float:
    """The best correlation of two equal-length shapes over shifts of up to ``shift``
    samples, negative as 0."""
    if len(a) != len(b):
        raise ValueError("shapes of different lengths")
    best = _correlation(a, b)
    for k in range(1, shift + 1):
        best = max(best, _correlation(a[k:], b[:-k]), _correlation(a[:-k], b[k:]))
    return max(0.0, min(1.0, best))


def duration_similarity(n1: int, n2: int) -> float:
    r = math.log(max(n1, 1) / max(n2, 1)) / _LN3
    return 1.0 / (1.0 + r * r)


def similarity(a: Episode, b: Episode) -> float:
    """How alike two episodes are, 0-1 (see the module's docstring)."""
    if a.direction != b.direction:
        return 0.0
    return shape_similarity(a.shape, b.shape) * duration_similarity(a.points, b.points)


def rank(
    target: Episode,
    candidates: Sequence[Episode],
    *,
    limit: int = 10,
    min_similarity: float = 0.0,
) -> list[tuple[int, float]]:
    """``(index into candidates, similarity)`` of the ``limit`` most similar, best first
    (ties: the later candidate, the more recent one when they come oldest first), each
    at least ``min_similarity``."""
    scored = [(i, similarity(target, c)) for i, c in enumerate(candidates)]
    kept = [(i, s) for i, s in scored if s >= min_similarity and s > 0.0]
    kept.sort(key=lambda t: (-t[1], -t[0]))
    return kept[:limit]
