"""The benchmark's series: real NAB bases with a daily benign blip and real incidents.

Each base is a stretch of a NAB data file at 5-minute resolution that holds none of
NAB's labelled anomaly windows (plus a margin), at most :data:`DAYS` days and at least
:data:`MIN_DAYS`. Onto it, with a seeded RNG, go

* the **benign pattern**, a scheduled daily job: every day at the same time of day
  (jittered by up to :data:`JITTER_POINTS` points, as a cron job's start and run time
  vary), the value steps by ``size`` for 1-3 points (fixed per series) and comes back;
  the direction (up, or a dip) is fixed per series and the size varies by
  ±:data:`SIZE_SPREAD` from one day to the next;
* four **incidents**, one of each kind in :data:`INCIDENT_KINDS`, on distinct days
  after the detector's first :data:`QUIET_DAYS` days:

  - ``runaway``: the job itself goes wrong, at its own time: same direction and length
    as the blip, 3-5x its size (that day's blip is replaced);
  - ``long_job``: the job hangs: same direction and size as the blip, at its time, but
    lasting :data:`LONG_JOB_POINTS` points (that day's blip is replaced);
  - ``opposite``: a blip of 1-2x the size going the other way, at another time of day;
  - ``level_shift``: the level moves by 2-3x the size, the blip's direction, for
    :data:`SHIFT_POINTS` points, at another time of day.

The first two sit where the benign blip would be, so only their size and duration
tell them apart from it; the last two differ in the hour of day and the direction too.
Every injection is recorded as a :class:`Window` (the ground truth).

**The blip's size.** Its unit is the base's own spread: the 99.9th percentile of the
absolute difference between a value and the centred 5-point rolling median. The size
is the smallest step of :data:`SIZE_LADDER` (in that unit) at which the detector
(:func:`augury.engines.detect.score_matrix`, the kernel the server runs) raises a
single blip at the job's time on at least two of three test days. A blip the detector
never raises needs no feedback; this sizing makes every series start with a blip that
does alert when it first appears (whether it keeps alerting as it recurs is up to the
detector, and is measured).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from augury.engines.detect import score_matrix
from augury.engines.detect.kernel import CLOSE_RUN

STEP_S = 300
"""Resolution of the chosen NAB files (5 minutes)."""
DAYS = 14
"""Longest stretch used per file."""
MIN_DAYS = 10
"""Shortest stretch accepted: the pattern must recur many times."""
LABEL_MARGIN_S = 6 * 3600
"""Room kept around NAB's labelled windows."""

FILES = (
    "artificialNoAnomaly/art_daily_small_noise.csv",
    "artificialNoAnomaly/art_noisy.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_ac20cd.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_c6585a.csv",
    "realKnownCause/cpu_utilization_asg_misconfiguration.csv",
    "realKnownCause/machine_temperature_system_failure.csv",
    "realTweets/Twitter_volume_AAPL.csv",
    "realTweets/Twitter_volume_GOOG.csv",
    "realTweets/Twitter_volume_IBM.csv",
    "realTweets/Twitter_volume_FB.csv",
)
"""Files with regular 5-minute timestamps and a clean stretch of >= MIN_DAYS days."""

SIZE_LADDER = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
"""Blip sizes tried, in units of the base's 99.9th-percentile residual."""
TEST_DAYS = (4, 7, 10)
"""Days a single test blip is put on, to size the blip (see the module docstring)."""
SIZE_SPREAD = 0.2
"""Night-to-night variation of the blip's size: uniform within ±20%."""
JITTER_POINTS = 2
"""The job starts up to this many points (10 minutes) late."""
QUIET_DAYS = 3
"""No incident before this day: the detector is still learning what normal is."""
LONG_JOB_POINTS = 24
"""A hung job: two hours instead of 1-3 points."""
SHIFT_POINTS = 72
"""A level shift: six hours."""
INCIDENT_KINDS = ("runaway", "long_job", "opposite", "level_shift")
SLACK_POINTS = CLOSE_RUN + 1
"""An alert or anomaly starting this many points after an injection ends still covers
it (the return from a level shift can score too)."""
AWAY_S = 3 * 3600
"""Incidents at another time of day start at least this long after the blip's time
and end at least this long before the next night's."""


@dataclass(frozen=True)
class Window:
    """One injection: ``kind`` is ``benign`` or an incident kind; inclusive timestamps."""

    kind: str
    start: float
    end: float

    @property
    def incident(self) -> bool:
        return self.kind != "benign"


@dataclass
class Case:
    """One series ready to replay, with its ground truth."""

    name: str
    timestamps: np.ndarray
    values: np.ndarray
    """The base with every injection."""
    base: np.ndarray
    """The base as NAB has it (on the grid)."""
    unit: float
    """The base's 99.9th-percentile absolute residual (the unit of the sizes)."""
    size: float
    """Typical size of the benign blip (signed: negative for a dip)."""
    ladder_step: float | None
    """``size / unit``; None when no step of the ladder alerted (the largest is used)."""
    blip_points: int
    blip_time_s: int
    """Second of the day (UTC) the nightly job starts."""
    windows: list[Window] = field(default_factory=list)

    @property
    def days(self) -> float:
        return (self.timestamps[-1] - self.timestamps[0] + STEP_S) / 86400

    @property
    def benign(self) -> list[Window]:
        return [w for w in self.windows if not w.incident]

    @property
    def incidents(self) -> list[Window]:
        return [w for w in self.windows if w.incident]

    def index(self, w: Window) -> slice:
        """The points of ``w``."""
        first = int((w.start - self.timestamps[0]) // STEP_S)
        return slice(first, first + int((w.end - w.start) // STEP_S) + 1)


def raised_alone(case: Case) -> list[Window]:
    """The incidents the detector raises when each is the only injection on the base
    (a detection-only check, :func:`score_matrix`: one row per incident), to tell
    misses of the incident itself from misses caused by what came before it."""
    incidents = case.incidents
    if not incidents:
        return []
    rows = np.repeat(case.base[None, :], len(incidents), axis=0)
    for row, w in zip(rows, incidents, strict=True):
        row[case.index(w)] = case.values[case.index(w)]
    raised = score_matrix(rows, case.timestamps).is_anomaly
    return [
        w
        for k, w in enumerate(incidents)
        if raised[k, case.index(w).start : case.index(w).stop + SLACK_POINTS].any()
    ]


def clean_stretch(data: Path, name: str) -> pd.DataFrame:
    """The longest run of ``name`` clear of NAB's labelled windows, put on an exact
    5-minute grid, cut to DAYS days and starting at a midnight (UTC)."""
    df = pd.read_csv(data / "data" / name)
    ts = pd.to_datetime(df["timestamp"])
    windows = json.loads((data / "labels" / "combined_windows.json").read_text()).get(name, [])
    bad = np.zeros(len(df), bool)
    margin = pd.Timedelta(seconds=LABEL_MARGIN_S)
    for a, b in windows:
        bad |= ((ts >= pd.Timestamp(a) - margin) & (ts <= pd.Timestamp(b) + margin)).to_numpy()
    best, run_start = (0, 0), None
    for i, is_bad in enumerate([*bad, True]):
        if not is_bad and run_start is None:
            run_start = i
        elif is_bad and run_start is not None:
            best = max(best, (i - run_start, run_start), key=lambda r: r[0])
            run_start = None
    length, first = best
    part = df.iloc[first : first + length].copy()
    sec = ts.iloc[first : first + length].astype("int64").to_numpy() // 10**9
    if np.mean(np.diff(sec) != STEP_S) > 0.01:
        raise ValueError(f"{name}: not at a regular {STEP_S}-second step")
    # Re-timestamped on an exact grid (a few files have a seconds offset or a rare gap).
    part["ts"] = (sec[0] // STEP_S * STEP_S + STEP_S * np.arange(length)).astype(float)
    midnight = np.ceil(part["ts"].iloc[0] / 86400) * 86400
    part = part[(part["ts"] >= midnight) & (part["ts"] < midnight + DAYS * 86400)]
    if len(part) * STEP_S < MIN_DAYS * 86400:
        raise ValueError(f"{name}: no clean stretch of {MIN_DAYS} days")
    return part


def spread(values: np.ndarray) -> float:
    """The 99.9th percentile of ``|value - centred 5-point rolling median|``: how far
    the base itself strays from its local level, rarely."""
    smooth = pd.Series(values).rolling(5, center=True, min_periods=1).median().to_numpy()
    unit = float(np.quantile(np.abs(values - smooth), 0.999))
    return unit if unit > 0 else 1e-3 * (abs(float(np.mean(values))) + 1.0)


def blip_size(
    ts: np.ndarray, values: np.ndarray, unit: float, sign: float, points: int, at_s: int
) -> float | None:
    """The smallest ladder step at which the detector raises a lone blip of ``points``
    points at second ``at_s`` of the day on at least two of the :data:`TEST_DAYS`
    (all tries in one vectorised stream); None when none does."""
    tries = [(step, day) for step in SIZE_LADDER for day in TEST_DAYS]
    rows = np.repeat(values[None, :], len(tries), axis=0)
    starts = [(day * 86400 + at_s) // STEP_S for _, day in tries]
    for row, (step, _), first in zip(rows, tries, starts, strict=True):
        row[first : first + points] += sign * step * unit
    raised = score_matrix(rows, ts).is_anomaly
    for step in SIZE_LADDER:
        hits = sum(
            bool(raised[i, first : first + points].any())
            for i, ((s, _), first) in enumerate(zip(tries, starts, strict=True))
            if s == step
        )
        if hits >= 2:
            return step
    return None


def make_case(data: Path, name: str, rng: np.random.Generator) -> Case:
    part = clean_stretch(data, name)
    ts = part["ts"].to_numpy(float)
    values = part["value"].to_numpy(float).copy()
    unit = spread(values)
    sign = 1.0 if rng.random() < 0.7 else -1.0
    points = int(rng.integers(1, 4))
    at_s = int(rng.integers(0, 288)) * STEP_S
    step = blip_size(ts, values, unit, sign, points, at_s)
    case = Case(
        name=name,
        timestamps=ts,
        values=values,
        base=values.copy(),
        unit=unit,
        size=sign * (step or SIZE_LADDER[-1]) * unit,
        ladder_step=step,
        blip_points=points,
        blip_time_s=at_s,
    )
    days = int(len(ts) * STEP_S // 86400)
    incident_days = rng.choice(np.arange(QUIET_DAYS, days - 1), len(INCIDENT_KINDS), False)
    by_day = dict(zip(incident_days.tolist(), INCIDENT_KINDS, strict=True))
    for day in range(days):
        kind = by_day.get(day)
        start = day * 86400 + case.blip_time_s + int(rng.integers(0, JITTER_POINTS + 1)) * STEP_S
        nightly = case.size * rng.uniform(1 - SIZE_SPREAD, 1 + SIZE_SPREAD)
        if kind == "runaway":
            _inject(case, "runaway", start, case.blip_points, nightly * rng.uniform(3, 5))
        elif kind == "long_job":
            _inject(case, "long_job", start, LONG_JOB_POINTS, nightly)
        else:
            _inject(case, "benign", start, case.blip_points, nightly)
        if kind == "opposite":
            at = _away(rng, day, case, case.blip_points)
            _inject(case, "opposite", at, case.blip_points, -case.size * rng.uniform(1, 2))
        elif kind == "level_shift":
            at = _away(rng, day, case, SHIFT_POINTS)
            _inject(case, "level_shift", at, SHIFT_POINTS, case.size * rng.uniform(2, 3))
    case.windows.sort(key=lambda w: w.start)
    return case


def _away(rng: np.random.Generator, day: int, case: Case, points: int) -> int:
    """A start (seconds from the series' first midnight) at least AWAY_S after the
    night's blip and ending at least AWAY_S before the next one."""
    earliest = AWAY_S + (case.blip_points + JITTER_POINTS) * STEP_S
    latest = 86400 - AWAY_S - points * STEP_S
    offset = int(rng.integers(earliest // STEP_S, latest // STEP_S + 1)) * STEP_S
    return day * 86400 + case.blip_time_s + offset


def _inject(case: Case, kind: str, offset_s: int, points: int, delta: float) -> None:
    first = offset_s // STEP_S
    if first + points > len(case.values):
        return  # past the end of the stretch
    case.values[first : first + points] += delta
    ts = case.timestamps
    case.windows.append(Window(kind, float(ts[first]), float(ts[first + points - 1])))


def case_rng(seed: int, index: int) -> np.random.Generator:
    """The RNG of the ``index``-th file: its own stream, whatever else is run."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


def load_cases(data: Path, seed: int, names: tuple[str, ...] = FILES) -> list[Case]:
    """One :class:`Case` per file."""
    return [make_case(data, name, case_rng(seed, i)) for i, name in enumerate(names)]
