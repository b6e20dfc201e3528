"""Negative feedback that tunes alerting: "not interesting" teaches a benign envelope.

When a user marks an anomaly *not interesting*, later anomalies of the same metric that
look like it (same direction, about as large, about as long, around the same hour)
stop alerting. Detection is untouched: the anomaly is still recorded and shown; only
the alert is held. A clearly larger one, one going the other way or one lasting much
longer is news and still alerts. A *good catch* says the opposite: a deviation at least
as large and as long as that one must alert, whatever was dismissed.

The model is deliberately a list of examples with a tolerance, not a fitted boundary:
every decision can be explained by pointing at one example ("similar to the deviation
marked not interesting on 2026-03-01 14:05 UTC (+12.3, 14 min)"), and a user who
disagrees can see which feedback to take back.

``peak_score`` is stored but not compared: it depends on how volatile the metric was
lately and saturates at 100, whereas the user judged the deviation's size in the
metric's own units.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal

Kind = Literal["not_interesting", "good_catch"]
KINDS: tuple[Kind, ...] = ("not_interesting", "good_catch")

MARGIN = 0.5
"""How much larger (and longer) than a dismissed deviation a new one may be and still be
benign: up to 1.5x. The same benign cause (a nightly batch, a backup, a cache flush)
varies by tens of percent from one run to the next, while an incident worth a message
is typically several times the usual blip; 1.5x sits between, and is easy to state."""

DEFAULT_INTERVAL_S = 60.0
"""Sampling interval assumed when the caller gives none (the detector's own fallback).
A duration counts whole points, so a repeat one point longer than the example must not
escape: the duration limit gets one interval of slack. Pass the metric's interval."""

HOUR_TOLERANCE_H = 2
"""When both deviations know their local hour of day, they must be this close (on the
24-hour circle): a scheduled job drifts by minutes, not hours, and the same spike at an
unusual time of day is a different story."""

PCT_MEANINGFUL = 100.0
"""The relative sizes are compared only while both deviations are at most this many
percent of their expected value. Beyond, the expected value is small next to the
deviation (a metric near zero at that hour), and the percentage swings with it: a
repeat 1.2x the dismissed size measured 1.9x in percent on a series whose expected
value was about 4. The absolute comparison still applies."""

MAX_EXAMPLES = 20
"""Examples kept per kind and metric, oldest dropped first: enough to cover a metric's
few kinds of benign blips, few enough to stay explainable. Per kind, so a burst of good
catches cannot wipe out the not-interesting feedback, or the reverse."""

PROFILE_VERSION = 1
"""Version of the :func:`to_json` layout, for migrations of stored profiles."""


@dataclass(frozen=True)
class Deviation:
    """The features of one anomaly that feedback is judged on."""

    direction: str
    """``up`` or ``down``."""
    delta: float
    """Peak value minus expected value, signed, in the metric's units."""
    delta_pct: float | None
    """``delta`` as a percentage of the expected value; None when that was ~0."""
    duration_s: float
    """From the anomaly's start to one interval after its last point."""
    peak_score: float
    """Anomaly score at the peak, 0-100 (kept for display, not compared)."""
    hour_of_day: int | None = None
    """Local hour (0-23) of the peak, when the caller knows the metric's time zone."""
    start: float | None = None
    """Epoch seconds the anomaly started: only to name the example in explanations."""

    def __post_init__(self) -> None:
        if self.direction not in ("up", "down"):
            raise ValueError(f"direction must be 'up' or 'down', got {self.direction!r}")
        for name in ("delta", "duration_s", "peak_score"):
            _check_finite(name, getattr(self, name))
        for name in ("delta_pct", "start"):
            if getattr(self, name) is not None:
                _check_finite(name, getattr(self, name))
        if self.duration_s < 0:
            raise ValueError(f"duration_s must not be negative, got {self.duration_s}")
        if self.hour_of_day is not None and self.hour_of_day not in range(24):
            raise ValueError(f"hour_of_day must be 0-23, got {self.hour_of_day!r}")


@dataclass
class BenignProfile:
    """What feedback taught about one metric; both lists run oldest to newest."""

    benign: list[Deviation] = field(default_factory=list)
    """Deviations marked not interesting."""
    good_catches: list[Deviation] = field(default_factory=list)
    """Deviations marked a good catch."""


# -- decisions ----------------------------------------------------------------------------


def is_benign(
    profile: BenignProfile,
    d: Deviation,
    *,
    margin: float = MARGIN,
    interval_s: float = DEFAULT_INTERVAL_S,
) -> bool:
    """True when ``d`` should not alert: it resembles a deviation marked not interesting
    and is not at least as large and as long as one marked a good catch.

    ``d`` resembles example ``e`` when it goes the same way and
    ``|d.delta| <= |e.delta| * (1 + margin)``, the same for ``delta_pct`` when both have
    one, ``d.duration_s <= e.duration_s * (1 + margin) + interval_s`` and, when both know
    it, the hour of day is within :data:`HOUR_TOLERANCE_H`.
    """
    return _judge(profile, d, margin, interval_s)[0]


def explain(
    profile: BenignProfile,
    d: Deviation,
    *,
    margin: float = MARGIN,
    interval_s: float = DEFAULT_INTERVAL_S,
) -> str:
    """Why :func:`is_benign` decides as it does, in a sentence for the API and UI."""
    return _judge(profile, d, margin, interval_s)[1]


def _judge(
    profile: BenignProfile, d: Deviation, margin: float, interval_s: float
) -> tuple[bool, str]:
    """``(benign, reason)``, one code path for the decision and its explanation."""
    if not (math.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin must be a non-negative number, got {margin!r}")
    if not (math.isfinite(interval_s) and interval_s >= 0):
        raise ValueError(f"interval_s must be a non-negative number, got {interval_s!r}")
    match = next(
        (e for e in reversed(profile.benign) if _mismatch(e, d, margin, interval_s) is None),
        None,
    )
    if match is None:
        return False, _no_match(profile, d, margin, interval_s)
    catch = next((g for g in reversed(profile.good_catches) if _outweighs(d, g, interval_s)), None)
    if catch is not None:
        return False, (
            f"alerting: it resembles {_describe(match, 'not interesting')}, but is at least "
            f"as large and as long as {_describe(catch, 'a good catch')}"
        )
    return True, f"similar to {_describe(match, 'not interesting')}"


def _mismatch(e: Deviation, d: Deviation, margin: float, interval_s: float) -> str | None:
    """Why ``d`` does not resemble example ``e`` (a phrase to put before the example's
    description), or None when it does."""
    if d.direction != e.direction:
        return "it goes the other way from"
    if abs(d.delta) > abs(e.delta) * (1 + margin):
        return f"it is {_ratio(d.delta, e.delta)} the size of"
    if (
        d.delta_pct is not None
        and e.delta_pct is not None
        and max(abs(d.delta_pct), abs(e.delta_pct)) <= PCT_MEANINGFUL
        and abs(d.delta_pct) > abs(e.delta_pct) * (1 + margin)
    ):
        return f"relative to the expected value, it is {_ratio(d.delta_pct, e.delta_pct)} that of"
    limit = e.duration_s * (1 + margin) + interval_s
    if d.duration_s > limit:
        return f"it lasts {_duration(d.duration_s)}, over the {_duration(limit)} allowed by"
    if (
        d.hour_of_day is not None
        and e.hour_of_day is not None
        and _hour_distance(d.hour_of_day, e.hour_of_day) > HOUR_TOLERANCE_H
    ):
        return (
            f"it peaked at {d.hour_of_day:02d}h, over {HOUR_TOLERANCE_H} h from "
            f"{e.hour_of_day:02d}h, the hour of"
        )
    return None


def _outweighs(d: Deviation, g: Deviation, interval_s: float) -> bool:
    """``d`` is at least as large and as long as good catch ``g``, the same way: the
    user said a deviation that big matters, so no dismissal may hold it."""
    return (
        d.direction == g.direction
        and abs(d.delta) >= abs(g.delta)
        and d.duration_s + interval_s >= g.duration_s
    )


def _no_match(profile: BenignProfile, d: Deviation, margin: float, interval_s: float) -> str:
    same_way = [e for e in profile.benign if e.direction == d.direction]
    if not profile.benign:
        return "alerting: no deviation of this metric was marked not interesting"
    if not same_way:
        return f"alerting: no {d.direction}ward deviation of this metric was marked not interesting"
    # The most permissive example (largest) is the one it came closest to passing.
    closest = max(reversed(same_way), key=lambda e: abs(e.delta))
    reason = _mismatch(closest, d, margin, interval_s)
    return f"alerting: {reason} {_describe(closest, 'not interesting')}"


# -- feedback and storage -----------------------------------------------------------------


def add_feedback(profile: BenignProfile, d: Deviation, kind: Kind) -> BenignProfile:
    """A new profile with ``d`` as the newest example of ``kind``.

    The same deviation marked again moves to the newest place, and marked the other way
    leaves the other list (the user's latest word wins). Each list keeps its
    :data:`MAX_EXAMPLES` newest examples."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    benign = [e for e in profile.benign if e != d]
    catches = [e for e in profile.good_catches if e != d]
    (benign if kind == "not_interesting" else catches).append(d)
    return BenignProfile(benign=benign[-MAX_EXAMPLES:], good_catches=catches[-MAX_EXAMPLES:])


def to_json(profile: BenignProfile) -> dict[str, Any]:
    """A JSON-ready dict (stored in ``feedback_profile.profile``)."""
    return {
        "version": PROFILE_VERSION,
        "benign": [asdict(e) for e in profile.benign],
        "good_catches": [asdict(e) for e in profile.good_catches],
    }


def from_json(data: dict[str, Any] | None) -> BenignProfile:
    """The profile back from :func:`to_json`; ``{}`` or None is an empty profile.

    Unknown keys in an example are ignored (a newer writer may add features); a bad value
    raises ValueError rather than silently loosening alerting."""
    data = data or {}
    version = data.get("version", PROFILE_VERSION)
    if version != PROFILE_VERSION:
        raise ValueError(f"unsupported feedback profile version {version!r}")
    return BenignProfile(
        benign=[_deviation(x) for x in data.get("benign", [])][-MAX_EXAMPLES:],
        good_catches=[_deviation(x) for x in data.get("good_catches", [])][-MAX_EXAMPLES:],
    )


_FIELDS = tuple(f.name for f in fields(Deviation))


def _deviation(data: dict[str, Any]) -> Deviation:
    if not isinstance(data, dict):
        raise ValueError(f"a feedback example must be an object, got {data!r}")
    try:
        return Deviation(**{k: v for k, v in data.items() if k in _FIELDS})
    except TypeError as e:  # a required feature is missing
        raise ValueError(f"bad feedback example {data!r}: {e}") from None


# -- wording ------------------------------------------------------------------------------


def _describe(e: Deviation, marked: str) -> str:
    """``the deviation marked <marked> on <date> (+12.3, 14 min)``."""
    when = (
        f"the deviation marked {marked} on "
        f"{datetime.fromtimestamp(e.start, UTC):%Y-%m-%d %H:%M} UTC"
        if e.start is not None
        else f"a deviation marked {marked}"
    )
    return f"{when} ({_number(e.delta)}, {_duration(e.duration_s)})"


def _number(x: float) -> str:
    return f"{x:+,.0f}" if abs(x) >= 1000 else f"{x:+.3g}"


def _ratio(a: float, b: float) -> str:
    return f"{abs(a) / abs(b):.1f}x" if b else "many times"


def _duration(seconds: float) -> str:
    """``45 s``, ``14 min``, ``2 h 5 min``, ``3 d 4 h``: what a person reads at a glance."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{round(s / 60)} min"
    if s < 86400:
        h, m = divmod(round(s / 60), 60)
        return f"{h} h {m} min" if m else f"{h} h"
    d, h = divmod(round(s / 3600), 24)
    return f"{d} d {h} h" if h else f"{d} d"


def _hour_distance(a: int, b: int) -> int:
    return min((a - b) % 24, (b - a) % 24)


def _check_finite(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
