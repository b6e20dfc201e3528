"""Negative feedback that tunes alerting: "not interesting" teaches a benign *rule*.

When a user marks an anomaly *not interesting*, augury learns a rule for that metric
from it (and from every other deviation marked not interesting there that goes the
same way around the same hour of day): "up to +35 (1.5x the largest marked), lasting
up to 20 min, around 02h UTC (within 2 h): held". Later anomalies of the metric that
fit a rule stop alerting. Detection is untouched: the anomaly is still recorded and
shown; only the alert is held. A clearly larger one, one going the other way, one at
another time of day or one lasting longer is news and still alerts. A *good catch*
says the opposite: a deviation at least as large and as long as that one must alert,
whatever was dismissed.

**How long a deviation lasts** is read from the values themselves when the caller
gives them (:func:`displacement`), not only from the anomaly: detection adapts to a
new level within a few points and may close the anomaly of a job that hangs for two
hours after one point, so the anomaly alone cannot tell a hang from the usual
five-minute blip. The values can: a benign blip comes back to the level before it, a
hung job stays away. While a deviation that fits a rule is still away from that level
and within the rule's duration the hold is *provisional* (:attr:`Verdict.provisional`):
the caller looks again, and it alerts once it outlasts the rule.

**The job's shadow.** A detector that has learned a recurring job expects it: when
the job comes a little late or ends early, the metric is below (above) what
detection expected, at the job's time, while its value is back at (or still at) the
level of the hour before. Such a deviation goes the other way from the rule but is
not a deviation of the metric at all, and is held when it is at the rule's hour and
its value is within :data:`SHADOW_FRACTION` of the rule's size of that level. A real
dip at the job's time moves the value away from that level, and alerts.

The model stays a short list of examples, and every decision points at the rule and at
the example that made it ("held by the rule learned from the deviation marked not
interesting on 2026-03-01 14:05 UTC (+12.3, 14 min)"), so a user who disagrees can
see which feedback to take back.

``peak_score`` is stored but not compared: it depends on how volatile the metric was
lately and saturates at 100, whereas the user judged the deviation's size in the
metric's own units.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
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
"""Version of the :func:`to_json` layout, for migrations of stored profiles (the
displacement features were added without one: an older example simply lacks them)."""

LEVEL_LOOKBACK_S = 3600.0
"""The level a deviation is measured from: the median of the values in this much time
before the anomaly started (a median, so a deviation that began a few points before
detection raised it barely moves it)."""

AWAY_FRACTION = 0.5
"""A value is still *away* while it is at least this fraction of the peak's distance
from that level, on the peak's side."""

MIN_LEVEL_POINTS = 3
"""Fewer values than this before the anomaly: no level, the anomaly's own duration is
used."""

SHADOW_FRACTION = 0.25
"""A deviation the other way from a rule, at its hour, is the job's shadow (held)
while its value is within this fraction of the rule's smallest marked size from the
level of the hour before."""


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
    away_s: float | None = None
    """How long the values stayed away from the level before (:func:`displacement`),
    around the peak; None when the caller did not read them."""
    level_delta: float | None = None
    """Peak value minus the level before, signed (:func:`displacement`)."""
    ongoing: bool = False
    """The newest value is still away: ``away_s`` is only a lower bound."""

    def __post_init__(self) -> None:
        if self.direction not in ("up", "down"):
            raise ValueError(f"direction must be 'up' or 'down', got {self.direction!r}")
        for name in ("delta", "duration_s", "peak_score"):
            _check_finite(name, getattr(self, name))
        for name in ("delta_pct", "start", "away_s", "level_delta"):
            if getattr(self, name) is not None:
                _check_finite(name, getattr(self, name))
        if self.duration_s < 0:
            raise ValueError(f"duration_s must not be negative, got {self.duration_s}")
        if self.away_s is not None and self.away_s < 0:
            raise ValueError(f"away_s must not be negative, got {self.away_s}")
        if self.hour_of_day is not None and self.hour_of_day not in range(24):
            raise ValueError(f"hour_of_day must be 0-23, got {self.hour_of_day!r}")
        if not isinstance(self.ongoing, bool):
            raise ValueError(f"ongoing must be true or false, got {self.ongoing!r}")

    @property
    def size(self) -> float:
        """How large it is: the peak's distance from the level before when the values
        were read (what a person sees on the chart, and steadier than ``delta``, which
        depends on what detection had learned to expect), else ``|delta|``."""
        if self.level_delta is not None and (self.level_delta > 0) == (self.direction == "up"):
            return abs(self.level_delta)
        return abs(self.delta)

    @property
    def lasts_s(self) -> float:
        """How long it lasted: the anomaly, or the values' time away when longer."""
        return max(self.duration_s, self.away_s or 0.0)


@dataclass
class BenignProfile:
    """What feedback taught about one metric; both lists run oldest to newest."""

    benign: list[Deviation] = field(default_factory=list)
    """Deviations marked not interesting."""
    good_catches: list[Deviation] = field(default_factory=list)
    """Deviations marked a good catch."""


@dataclass(frozen=True)
class Rule:
    """What the deviations marked not interesting that go one way around one hour of
    day (or, without an hour, at any time) teach together: deviations up to
    ``1 + margin`` times the largest and longest of them, the same way, around the same
    hours, are held."""

    direction: str
    examples: tuple[Deviation, ...]
    """Oldest to newest."""
    max_delta: float
    """Largest held size (:attr:`Deviation.size`: the largest marked times ``1 + margin``)."""
    max_pct: float | None
    """Largest held ``|delta_pct|``; None when not every example has a meaningful one."""
    max_lasts_s: float
    """Longest held duration (the longest marked times ``1 + margin``, plus one interval)."""
    hours: tuple[int, ...]
    """Hours of day (UTC) the examples peaked at; empty: any time."""
    margin: float

    @property
    def newest(self) -> Deviation:
        return self.examples[-1]

    def at_hour(self, hour: int | None) -> bool:
        """``hour`` is within :data:`HOUR_TOLERANCE_H` of an example's (any hour fits a
        rule without hours, and an unknown hour fits every rule)."""
        if hour is None or not self.hours:
            return True
        return any(_hour_distance(hour, h) <= HOUR_TOLERANCE_H for h in self.hours)

    def text(self) -> str:
        """The rule in words, for the API and the UI."""
        sign = "+" if self.direction == "up" else "-"
        largest = max(e.size for e in self.examples)
        n = len(self.examples)
        when = "at any time of day" if not self.hours else _hours_text(self.hours)
        return (
            f"{self.direction}ward deviations up to {sign}{_number(self.max_delta)[1:]} "
            f"({1 + self.margin:g}x the largest marked, {sign}{_number(largest)[1:]}), "
            f"lasting up to {_duration(self.max_lasts_s)}, {when}: held "
            f"(learned from {n} deviation{'s' if n > 1 else ''} marked not interesting, "
            f"the newest on {_when(self.newest)})"
        )


@dataclass(frozen=True)
class Verdict:
    """What feedback says about one deviation."""

    benign: bool
    """True: do not alert."""
    reason: str
    """Why, in a sentence, naming the rule and the example."""
    rule: Rule | None = None
    """The rule that held it (or that it came closest to fitting)."""
    provisional: bool = False
    """Held only for now: its values are still away and it has not outlasted the rule
    yet. Look again when more values came."""


# -- rules and decisions ------------------------------------------------------------------


def rules(
    profile: BenignProfile, *, margin: float = MARGIN, interval_s: float = DEFAULT_INTERVAL_S
) -> list[Rule]:
    """The rules the profile's not-interesting examples teach: one per direction and
    cluster of hours of day (examples within :data:`HOUR_TOLERANCE_H` of a cluster's
    hours join it), and one per direction for examples without an hour."""
    _check_args(margin, interval_s)
    clusters: list[tuple[str, list[int], list[Deviation]]] = []
    for e in profile.benign:
        for direction, hours, members in clusters:
            if direction != e.direction:
                continue
            if e.hour_of_day is None and not hours and members[0].hour_of_day is None:
                members.append(e)
                break
            if e.hour_of_day is not None and any(
                _hour_distance(e.hour_of_day, h) <= HOUR_TOLERANCE_H for h in hours
            ):
                members.append(e)
                if e.hour_of_day not in hours:
                    hours.append(e.hour_of_day)
                break
        else:
            clusters.append((e.direction, [] if e.hour_of_day is None else [e.hour_of_day], [e]))
    out = []
    for direction, hours, members in clusters:
        pcts = [e.delta_pct for e in members]
        meaningful = all(p is not None and abs(p) <= PCT_MEANINGFUL for p in pcts)
        out.append(
            Rule(
                direction=direction,
                examples=tuple(members),
                max_delta=max(e.size for e in members) * (1 + margin),
                max_pct=(
                    max(abs(p) for p in pcts if p is not None) * (1 + margin)
                    if meaningful
                    else None
                ),
                max_lasts_s=max(e.lasts_s for e in members) * (1 + margin) + interval_s,
                hours=tuple(sorted(hours)),
                margin=margin,
            )
        )
    return out


def rule_texts(
    profile: BenignProfile, *, margin: float = MARGIN, interval_s: float = DEFAULT_INTERVAL_S
) -> list[str]:
    """Every rule of the profile in words."""
    return [r.text() for r in rules(profile, margin=margin, interval_s=interval_s)]


def judge(
    profile: BenignProfile,
    d: Deviation,
    *,
    margin: float = MARGIN,
    interval_s: float = DEFAULT_INTERVAL_S,
) -> Verdict:
    """Whether ``d`` alerts, why, and by which rule (one code path for the decision and
    its explanation).

    ``d`` fits rule ``r`` when it goes the same way, peaks at one of its hours (within
    :data:`HOUR_TOLERANCE_H`, when both know the hour), ``|d.delta| <= r.max_delta``,
    the same for ``delta_pct`` when meaningful on both sides, and it lasts (the anomaly,
    or the values' time away when known and longer) at most ``r.max_lasts_s``. It is
    the job's shadow when it goes the other way at a rule's hour and its value is back
    at the level before (see the module docstring). Either is held unless it is at
    least as large and as long as a deviation marked a good catch."""
    all_rules = rules(profile, margin=margin, interval_s=interval_s)
    fit = next((r for r in reversed(all_rules) if _mismatch(r, d) is None), None)
    shadow = None
    if fit is None:
        shadow = next((r for r in reversed(all_rules) if _shadow_of(r, d)), None)
    held_by = fit or shadow
    if held_by is None:
        return Verdict(False, _no_match(all_rules, d), _closest(all_rules, d))
    catch = next((g for g in reversed(profile.good_catches) if _outweighs(d, g, interval_s)), None)
    if catch is not None:
        return Verdict(
            False,
            "alerting: it fits the rule learned from "
            f"{_describe(held_by.newest, 'not interesting')}, but is at least as large "
            f"and as long as {_describe(catch, 'a good catch')}",
            held_by,
        )
    if shadow is not None:
        return Verdict(
            True,
            f"held: it goes the other way from the rule learned from "
            f"{_describe(shadow.newest, 'not interesting')}, at its time of day, but its "
            f"value is back at the level before ({_number(d.level_delta or 0.0)} from it): "
            "detection expected the usual deviation",
            shadow,
        )
    provisional = d.ongoing
    return Verdict(
        True,
        f"held{' for now (still going on)' if provisional else ''}: it fits the rule "
        f"learned from {_describe(held_by.newest, 'not interesting')} ({held_by.text()})",
        held_by,
        provisional,
    )


def is_benign(
    profile: BenignProfile,
    d: Deviation,
    *,
    margin: float = MARGIN,
    interval_s: float = DEFAULT_INTERVAL_S,
) -> bool:
    """True when ``d`` should not alert (:func:`judge`)."""
    return judge(profile, d, margin=margin, interval_s=interval_s).benign


def explain(
    profile: BenignProfile,
    d: Deviation,
    *,
    margin: float = MARGIN,
    interval_s: float = DEFAULT_INTERVAL_S,
) -> str:
    """Why :func:`judge` decides as it does, in a sentence for the API and UI."""
    return judge(profile, d, margin=margin, interval_s=interval_s).reason


def _check_args(margin: float, interval_s: float) -> None:
    if not (math.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin must be a non-negative number, got {margin!r}")
    if not (math.isfinite(interval_s) and interval_s >= 0):
        raise ValueError(f"interval_s must be a non-negative number, got {interval_s!r}")


def _mismatch(r: Rule, d: Deviation) -> str | None:
    """Why ``d`` does not fit rule ``r`` (a phrase to put before the rule's newest
    example), or None when it does."""
    if d.direction != r.direction:
        return "it goes the other way from the rule learned from"
    if not r.at_hour(d.hour_of_day):
        return (
            f"it peaked at {d.hour_of_day:02d}h UTC, over {HOUR_TOLERANCE_H} h from the "
            f"hours ({', '.join(f'{h:02d}h' for h in r.hours)}) of the rule learned from"
        )
    if d.size > r.max_delta:
        sign = 1.0 if d.direction == "up" else -1.0
        return (
            f"it is {_number(sign * d.size)}, over the {_number(sign * r.max_delta)} "
            "allowed by the rule learned from"
        )
    if (
        r.max_pct is not None
        and d.delta_pct is not None
        and abs(d.delta_pct) <= PCT_MEANINGFUL
        and abs(d.delta_pct) > r.max_pct
    ):
        return (
            f"relative to the expected value it is {abs(d.delta_pct):.0f}%, over the "
            f"{r.max_pct:.0f}% allowed by the rule learned from"
        )
    if d.lasts_s > r.max_lasts_s:
        return (
            f"it lasts {'at least ' if d.ongoing else ''}{_duration(d.lasts_s)}, over the "
            f"{_duration(r.max_lasts_s)} allowed by the rule learned from"
        )
    return None


def _shadow_of(r: Rule, d: Deviation) -> bool:
    """``d`` goes the other way from ``r``, at its hour (known on both sides), and its
    value is about at the level before: what detection expected was the job."""
    return (
        d.direction != r.direction
        and d.hour_of_day is not None
        and bool(r.hours)
        and r.at_hour(d.hour_of_day)
        and d.level_delta is not None
        and abs(d.level_delta) <= SHADOW_FRACTION * min(e.size for e in r.examples)
    )


def _outweighs(d: Deviation, g: Deviation, interval_s: float) -> bool:
    """``d`` is at least as large and as long as good catch ``g``, the same way: the
    user said a deviation that big matters, so no dismissal may hold it."""
    return d.direction == g.direction and d.size >= g.size and d.lasts_s + interval_s >= g.lasts_s


def _closest(all_rules: list[Rule], d: Deviation) -> Rule | None:
    """The rule ``d`` came closest to fitting: the same way, at its hour if one is,
    the most permissive (largest)."""
    same_way = [r for r in all_rules if r.direction == d.direction]
    if not same_way:
        return None
    at_hour = [r for r in same_way if r.at_hour(d.hour_of_day)] or same_way
    return max(reversed(at_hour), key=lambda r: r.max_delta)


def _no_match(all_rules: list[Rule], d: Deviation) -> str:
    if not all_rules:
        return "alerting: no deviation of this metric was marked not interesting"
    closest = _closest(all_rules, d)
    if closest is None:
        return f"alerting: no {d.direction}ward deviation of this metric was marked not interesting"
    return f"alerting: {_mismatch(closest, d)} {_describe(closest.newest, 'not interesting')}"


def displacement(
    ts: Sequence[float],
    values: Sequence[float],
    *,
    start: float,
    peak_ts: float,
    direction: str,
    interval_s: float,
) -> tuple[float | None, float | None, bool]:
    """``(away_s, level_delta, ongoing)`` of a deviation, from the metric's values
    (``ts`` ascending) around it.

    The level is the median of the values in the :data:`LEVEL_LOOKBACK_S` before
    ``start``; the peak is the value at ``peak_ts``. The deviation is away for the run
    of consecutive values around the peak that stay on its side at least
    :data:`AWAY_FRACTION` of its distance from the level; ``ongoing`` when that run
    reaches the newest value. ``(None, None, False)`` with too few values before (or
    no value at the peak); ``away_s`` None when the peak is not beyond the level on the
    deviation's side (then ``level_delta`` still says how far it is)."""
    if direction not in ("up", "down"):
        raise ValueError(f"direction must be 'up' or 'down', got {direction!r}")
    if len(ts) != len(values):
        raise ValueError("ts and values must have the same length")
    before = [v for t, v in zip(ts, values, strict=True) if start - LEVEL_LOOKBACK_S <= t < start]
    peak = next((i for i, t in enumerate(ts) if t == peak_ts), None)
    if len(before) < MIN_LEVEL_POINTS or peak is None:
        return None, None, False
    level = statistics.median(before)
    sign = 1.0 if direction == "up" else -1.0
    off = (values[peak] - level) * sign
    if not (math.isfinite(off) and off > 0):
        return None, values[peak] - level, False

    def away(i: int) -> bool:
        return (values[i] - level) * sign >= AWAY_FRACTION * off

    first = last = peak
    while first > 0 and away(first - 1):
        first -= 1
    while last < len(ts) - 1 and away(last + 1):
        last += 1
    return ts[last] - ts[first] + interval_s, values[peak] - level, last == len(ts) - 1


# -- feedback and storage -----------------------------------------------------------------


def add_feedback(profile: BenignProfile, d: Deviation, kind: Kind) -> BenignProfile:
    """A new profile with ``d`` as the newest example of ``kind``.

    The same deviation (:func:`_same`) marked again moves to the newest place, and
    marked the other way leaves the other list (the user's latest word wins). Each list keeps its
    :data:`MAX_EXAMPLES` newest examples."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    benign = [e for e in profile.benign if not _same(e, d)]
    catches = [e for e in profile.good_catches if not _same(e, d)]
    (benign if kind == "not_interesting" else catches).append(d)
    return BenignProfile(benign=benign[-MAX_EXAMPLES:], good_catches=catches[-MAX_EXAMPLES:])


def _same(a: Deviation, b: Deviation) -> bool:
    """The same deviation: the same start and way (its features may have been read
    again, with more values after it), or equal when the start is unknown."""
    if a.start is not None and b.start is not None:
        return (a.start, a.direction) == (b.start, b.direction)
    return a == b


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
        f"the deviation marked {marked} on {_when(e)}"
        if e.start is not None
        else f"a deviation marked {marked}"
    )
    sign = 1.0 if e.direction == "up" else -1.0
    return f"{when} ({_number(sign * e.size)}, {_duration(e.lasts_s)})"


def _when(e: Deviation) -> str:
    if e.start is None:
        return "an unknown date"
    return f"{datetime.fromtimestamp(e.start, UTC):%Y-%m-%d %H:%M} UTC"


def _hours_text(hours: tuple[int, ...]) -> str:
    if len(hours) == 1:
        return f"around {hours[0]:02d}:00 UTC (within {HOUR_TOLERANCE_H} h) daily"
    listed = ", ".join(f"{h:02d}:00" for h in hours)
    return f"around {listed} UTC (within {HOUR_TOLERANCE_H} h of one) daily"


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
