"""When a data stream reads what: polling intervals, history ranges, buckets, watermarks.

A collector poll reads whole *buckets* (one polling interval of source time each) and
only buckets that are closed: their end is at least ``delay`` before now, so late rows
have arrived. The stream keeps one *watermark*, the start of the next bucket to read;
a poll reads the due buckets from it and moves it to the end of the last one read.
Because a bucket is always read whole and its rows are aggregated into one point per
metric (:mod:`.mapping`), reading a bucket again gives the same points, which the metric
store upserts: a restart that re-reads a bucket, or a *rewind* (the watermark moved
back, :func:`rewind`), doubles nothing.

Names are Anodot's (seed 004, "Schedule Arguments"): polling intervals ``m1`` ...
``daily`` and historical ranges ``h1`` ... ``y20``, with the table of allowed pairs
(:data:`ALLOWED_HISTORY`). In a history range ``m`` means months (``m3``: three months),
in a polling interval minutes (``m5``).

Buckets follow the stream's time zone. Intervals of an hour or less are fixed lengths
aligned to the local clock (an ``m30`` stream in Asia/Kolkata starts buckets at local
:00 and :30, which are :30 and :00 UTC); a DST change keeps every bucket one interval
long, because the clock moves by a whole hour. ``h2`` ... ``h12`` and ``daily`` follow
the local calendar: a daily bucket runs from local midnight to the next local midnight,
23 or 25 hours on DST days, and an ``h2`` bucket holding the repeated autumn hour lasts
3 hours. A local boundary that happens twice is taken at its first occurrence, one
that does not happen (spring forward) at the moment the clock jumps, so every instant
falls in exactly one bucket and buckets never overlap or leave gaps.

All times in and out are timezone-aware ``datetime`` objects (or epoch seconds in the
vectorised :func:`bucket_starts`); naive datetimes are refused rather than guessed.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "ALLOWED_HISTORY",
    "HISTORICAL_RANGES",
    "POLLING_INTERVALS",
    "Bucket",
    "Interval",
    "ScheduleError",
    "backfill_start",
    "bucket_start",
    "bucket_starts",
    "buckets_between",
    "check_history",
    "due",
    "next_bucket_start",
    "parse_interval",
    "rewind",
    "span",
    "zone",
]

_MIN, _HOUR, _DAY = 60, 3600, 86400
_SECOND = timedelta(seconds=1)
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/GMT", "GMT", "Zulu"})

POLLING_INTERVALS: dict[str, int] = {
    "m1": _MIN,
    "m5": 5 * _MIN,
    "m10": 10 * _MIN,
    "m15": 15 * _MIN,
    "m30": 30 * _MIN,
    "hourly": _HOUR,
    "h2": 2 * _HOUR,
    "h3": 3 * _HOUR,
    "h4": 4 * _HOUR,
    "h6": 6 * _HOUR,
    "h8": 8 * _HOUR,
    "h12": 12 * _HOUR,
    "daily": _DAY,
}
"""Anodot's polling intervals and their nominal length in seconds (shortest first)."""

HISTORICAL_RANGES: tuple[str, ...] = (
    "h1",
    "h4",
    "d1",
    "d3",
    "w1",
    "m1",
    "m3",
    "m6",
    "y1",
    "y2",
    "y5",
    "y10",
    "y15",
    "y20",
)
"""Anodot's historical ranges (shortest first): hours, days, weeks, months, years back."""

_SUB_HOURLY_HISTORY = ("h1", "h4", "d1", "d3", "w1", "m1")
_HOURS_HISTORY = ("d1", "d3", "w1", "m1", "m3", "m6", "y1")
ALLOWED_HISTORY: dict[str, tuple[str, ...]] = {
    "m1": ("h1", "h4", "d1", "d3", "w1"),
    **{name: _SUB_HOURLY_HISTORY for name in ("m5", "m10", "m15", "m30")},
    **{name: _HOURS_HISTORY for name in ("hourly", "h2", "h3", "h4", "h6", "h8", "h12")},
    "daily": ("d1", "d3", "w1", "m1", "m3", "m6", "y1", "y2", "y5", "y10", "y15", "y20"),
}
"""The seed's table "Polling interval and Historical span Allowed combinations": a
short interval may not backfill years (a year of minutes is half a million buckets)."""


class ScheduleError(ValueError):
    """A polling interval, history range, time zone or time the schedule cannot use."""


@dataclass(frozen=True, slots=True)
class Interval:
    """A polling interval: its Anodot name and nominal length.

    ``calendar`` intervals (``h2`` ... ``daily``) follow the local calendar, so their
    real length changes on DST days; the others are fixed lengths.

    >>> parse_interval("h6")
    Interval(name='h6', seconds=21600)
    >>> parse_interval("h6").calendar, parse_interval("m15").calendar
    (True, False)
    """

    name: str
    seconds: int

    @property
    def calendar(self) -> bool:
        """True when buckets are local-calendar hours or days (longer than an hour)."""
        return self.seconds > _HOUR

    @property
    def duration(self) -> timedelta:
        """The nominal length (a calendar bucket may be an hour longer or shorter)."""
        return timedelta(seconds=self.seconds)


@dataclass(frozen=True, slots=True, order=True)
class Bucket:
    """One closed time range ``[start, end)`` of source time, in UTC.

    The collector reads a bucket's rows with ``start <= time < end``
    (:attr:`start_s`/:attr:`end_s` for epoch columns) and stamps its points ``start``.
    """

    start: datetime
    end: datetime

    @property
    def start_s(self) -> int:
        """``start`` as epoch seconds."""
        return int(self.start.timestamp())

    @property
    def end_s(self) -> int:
        """``end`` as epoch seconds."""
        return int(self.end.timestamp())


def parse_interval(name: str | Interval) -> Interval:
    """The polling interval named ``name`` (an :class:`Interval` passes through).

    >>> parse_interval("hourly").seconds
    3600
    >>> parse_interval("m2")
    Traceback (most recent call last):
    ...
    augury.engines.collect.schedule.ScheduleError: Unknown polling interval 'm2'; \
one of: m1, m5, m10, m15, m30, hourly, h2, h3, h4, h6, h8, h12, daily.
    """
    if isinstance(name, Interval):
        return name
    if name not in POLLING_INTERVALS:
        raise ScheduleError(
            f"Unknown polling interval {name!r}; one of: {', '.join(POLLING_INTERVALS)}."
        )
    return Interval(name, POLLING_INTERVALS[name])


def check_history(interval: str | Interval, history: str) -> str:
    """``history`` if the seed's table allows it with ``interval``, else a clear error.

    >>> check_history("daily", "y5")
    'y5'
    >>> check_history("m1", "m1")
    Traceback (most recent call last):
    ...
    augury.engines.collect.schedule.ScheduleError: Historical range 'm1' is not allowed \
with polling interval 'm1'; allowed: h1, h4, d1, d3, w1.
    """
    iv = parse_interval(interval)
    if history not in HISTORICAL_RANGES:
        raise ScheduleError(
            f"Unknown historical range {history!r}; one of: {', '.join(HISTORICAL_RANGES)}."
        )
    allowed = ALLOWED_HISTORY[iv.name]
    if history not in allowed:
        raise ScheduleError(
            f"Historical range {history!r} is not allowed with polling interval "
            f"{iv.name!r}; allowed: {', '.join(allowed)}."
        )
    return history


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (``"UTC"``, ``"Europe/Madrid"``), or a clear error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"Unknown time zone {name!r}.") from exc


def _aware(t: datetime, what: str) -> datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ScheduleError(f"{what} must be timezone-aware, got {t.isoformat()}.")
    return t.astimezone(UTC)


def _resolve(wall: datetime, tz: ZoneInfo) -> datetime:
    """A local wall-clock time as a UTC instant: the first occurrence of a repeated
    time (fold=0), and for a skipped time the instant of the jump (fold=0 reads it with
    the offset before the change, which lands on the jump for a boundary at its start)."""
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def bucket_starts(seconds: npt.ArrayLike, interval: str | Interval, tz: str = "UTC") -> np.ndarray:
    """Start (epoch seconds, int64) of the bucket holding each epoch second, vectorised.

    This is the one definition of the bucket grid: :func:`bucket_start` and the row
    aggregation of :mod:`.mapping` both use it, so a poll and its points agree.

    >>> bucket_starts([0, 3599, 3600, 5400], "hourly").tolist()
    [0, 0, 3600, 3600]
    >>> bucket_starts([0], "m30", "Asia/Kolkata").tolist()  # 05:30 local is a bucket start
    [0]
    """
    iv = parse_interval(interval)
    tzinfo = zone(tz)
    secs = np.floor(np.asarray(seconds, dtype=np.float64)).astype(np.int64)
    if secs.size == 0:
        return secs
    wall = secs + _offsets(secs, tzinfo)
    if not iv.calendar:
        return _fixed_starts(secs, wall - secs, iv.seconds, tzinfo)
    # Calendar: the local boundary (midnight or a multiple of n hours), resolved once
    # per distinct boundary with the same rule as the scalar functions.
    walls = wall - (wall % _DAY) + ((wall % _DAY) // iv.seconds) * iv.seconds
    uniq, inverse = np.unique(walls, return_inverse=True)
    resolved = np.array([_resolve_wall_s(int(w), tzinfo) for w in uniq], dtype=np.int64)
    starts = resolved[inverse.reshape(-1)]
    # A boundary resolved after the instant (only in zones whose jump is not at a
    # boundary) belongs to the next bucket: fall back to the previous boundary.
    late = starts > secs
    if late.any():
        starts[late] = [_previous_boundary(int(s), iv, tzinfo) for s in starts[late]]
    return starts


def _offsets_direct(secs: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    utc = pd.DatetimeIndex(pd.to_datetime(secs, unit="s", utc=True))
    wall = utc.tz_convert(tz).tz_localize(None).asi8 // 1_000_000_000
    return (wall - secs).astype(np.int64)


def _offset_at(second: int, tz: ZoneInfo) -> int:
    delta = datetime.fromtimestamp(second, tz).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def _offsets(secs: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    """UTC offset in seconds of ``tz`` at each epoch second.

    A zone changes its offset at most once an hour, so for many rows over a shorter
    span the offsets are looked up on an hourly grid, each change found to the second
    by bisection, and every row placed with one ``searchsorted`` (a million rows of a
    day: one pass instead of a million time zone conversions)."""
    if secs.size == 0:
        return np.zeros(0, dtype=np.int64)
    lo, hi = int(secs.min()), int(secs.max())
    grid = np.arange(lo - lo % _HOUR, hi + _HOUR + 1, _HOUR, dtype=np.int64)
    if grid.size * 4 >= secs.size:
        return _offsets_direct(secs, tz)
    grid_off = _offsets_direct(grid, tz)
    changes = np.flatnonzero(np.diff(grid_off))
    edges = np.empty(changes.size, dtype=np.int64)
    for k, i in enumerate(changes):
        a, b = int(grid[i]), int(grid[i + 1])  # offset(a) is the old one, offset(b) new
        old = int(grid_off[i])
        while b - a > 1:
            mid = (a + b) // 2
            a, b = (mid, b) if _offset_at(mid, tz) == old else (a, mid)
        edges[k] = b
    values = np.concatenate([grid_off[:1], grid_off[changes + 1]])
    return values[np.searchsorted(edges, secs, side="right")]


def _fixed_starts(secs: np.ndarray, off: np.ndarray, n: int, tz: ZoneInfo) -> np.ndarray:
    """Fixed-length buckets on the local clock: subtract how far the local clock is past
    its last boundary. Where the offset changed between that boundary and the instant
    (a DST change by less than the interval, as Lord Howe's 30 minutes) the boundary is
    on the old clock: the grid points of each offset are only boundaries while that
    offset holds, so the bucket start is the last of those before the instant."""
    start = secs - ((secs + off) % n)
    off_start = _offsets(start, tz)
    moved = off_start != off
    if moved.any():
        t, o = secs[moved], off_start[moved]
        old = t - ((t + o) % n)
        # on the old clock but already past the change: the one before it
        old = np.where(_offsets(old, tz) == o, old, old - n)
        start[moved] = old
    return start


def _resolve_wall_s(wall_s: int, tz: ZoneInfo) -> int:
    wall = datetime(1970, 1, 1) + timedelta(seconds=wall_s)
    return int(_resolve(wall, tz).timestamp())


def _previous_boundary(start_s: int, iv: Interval, tz: ZoneInfo) -> int:
    return int(bucket_starts([start_s - 1], iv, tz.key)[0])


def bucket_start(t: datetime, interval: str | Interval, tz: str = "UTC") -> datetime:
    """The start (UTC) of the bucket holding ``t``.

    >>> t = datetime(2026, 7, 1, 12, 40, tzinfo=UTC)  # 14:40 in Madrid (CEST)
    >>> bucket_start(t, "daily", "Europe/Madrid").isoformat()  # local midnight
    '2026-06-30T22:00:00+00:00'
    """
    s = _aware(t, "time").timestamp()
    return datetime.fromtimestamp(int(bucket_starts([s], interval, tz)[0]), UTC)


def next_bucket_start(start: datetime, interval: str | Interval, tz: str = "UTC") -> datetime:
    """The start of the bucket after the one starting at (or holding) ``start``.

    >>> madrid_oct = datetime(2026, 10, 24, 22, tzinfo=UTC)  # local midnight, 25-hour day
    >>> next_bucket_start(madrid_oct, "daily", "Europe/Madrid") - madrid_oct
    datetime.timedelta(days=1, seconds=3600)
    """
    iv = parse_interval(interval)
    first = bucket_start(start, iv, tz)
    if tz in _UTC_NAMES:
        return first + iv.duration  # no DST: every bucket is its nominal length
    # Buckets are their nominal length except around a DST change (an hour longer or
    # shorter at most): probe past the nominal end until a later bucket is reached,
    # then step back to the first boundary after ``first``.
    probe = first + iv.duration
    while (nxt := bucket_start(probe, iv, tz)) <= first:
        probe += timedelta(minutes=30)
    while (earlier := bucket_start(nxt - _SECOND, iv, tz)) > first:
        nxt = earlier
    return nxt


def buckets_between(
    start: datetime,
    end: datetime,
    interval: str | Interval,
    tz: str = "UTC",
    *,
    limit: int | None = None,
) -> list[Bucket]:
    """The whole buckets from the one holding ``start`` that end by ``end``, oldest first,
    at most ``limit`` of them.

    >>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
    >>> [b.start.hour for b in buckets_between(t0, t0 + timedelta(hours=3), "hourly")]
    [0, 1, 2]
    """
    iv = parse_interval(interval)
    end = _aware(end, "end")
    out: list[Bucket] = []
    cur = bucket_start(start, iv, tz)
    while limit is None or len(out) < limit:
        nxt = next_bucket_start(cur, iv, tz)
        if nxt > end:
            break
        out.append(Bucket(cur, nxt))
        cur = nxt
    return out


def due(
    now: datetime,
    watermark: datetime,
    interval: str | Interval,
    delay: timedelta = timedelta(0),
    *,
    tz: str = "UTC",
    max_buckets: int = 100,
) -> list[Bucket]:
    """The closed buckets to read next: from the bucket holding ``watermark``, each one
    ending at least ``delay`` before ``now``, at most ``max_buckets`` (oldest first).

    ``watermark`` is the start of the first bucket not yet read; after reading the
    buckets returned, store ``buckets[-1].end`` as the new watermark. A long backfill
    thus proceeds ``max_buckets`` per poll, and a poll with nothing due returns ``[]``.
    A watermark inside a bucket re-reads that bucket whole (harmless: idempotent).

    >>> now = datetime(2026, 3, 2, 10, 20, tzinfo=UTC)
    >>> wm = datetime(2026, 3, 2, 7, tzinfo=UTC)
    >>> [b.start.hour for b in due(now, wm, "hourly", timedelta(minutes=30))]
    [7, 8]
    >>> [b.start.hour for b in due(now, wm, "hourly", max_buckets=1)]
    [7]
    """
    if max_buckets < 1:
        raise ScheduleError("max_buckets must be at least 1.")
    if delay < timedelta(0):
        raise ScheduleError("delay must not be negative.")
    horizon = _aware(now, "now") - delay
    return buckets_between(_aware(watermark, "watermark"), horizon, interval, tz, limit=max_buckets)


def _months_back(wall: datetime, months: int) -> datetime:
    """``wall`` ``months`` calendar months earlier, the day clamped to the month's end
    (31 March minus one month is 28 or 29 February)."""
    total = wall.year * 12 + (wall.month - 1) - months
    year, month = divmod(total, 12)
    day = min(wall.day, calendar.monthrange(year, month + 1)[1])
    return wall.replace(year=year, month=month + 1, day=day)


def backfill_start(
    now: datetime, interval: str | Interval, history: str, tz: str = "UTC"
) -> datetime:
    """The first watermark of a new stream: ``history`` back from ``now``, on the
    interval's bucket grid (the bucket holding that moment, so it is read whole).

    Hours are elapsed time; days, weeks, months and years are local calendar steps
    (``d1`` from 10:00 is 10:00 yesterday even across a DST change; ``m1`` from
    31 March is 28 February's same time). The pair must be allowed (:func:`check_history`).

    >>> now = datetime(2026, 3, 31, 10, 5, tzinfo=UTC)
    >>> backfill_start(now, "daily", "m1").isoformat()
    '2026-02-28T00:00:00+00:00'
    >>> backfill_start(now, "m5", "h1").isoformat()
    '2026-03-31T09:05:00+00:00'
    """
    iv = parse_interval(interval)
    check_history(iv, history)
    now = _aware(now, "now")
    unit, n = history[0], int(history[1:])
    if unit == "h":
        moment = now - timedelta(hours=n)
    else:
        tzinfo = zone(tz)
        wall = now.astimezone(tzinfo).replace(tzinfo=None)
        if unit in ("d", "w"):
            wall -= timedelta(days=n * (7 if unit == "w" else 1))
        else:
            wall = _months_back(wall, n * (12 if unit == "y" else 1))
        moment = _resolve(wall, tzinfo)
    return bucket_start(moment, iv, tz)


def rewind(
    watermark: datetime, to: datetime, interval: str | Interval, tz: str = "UTC"
) -> datetime:
    """The watermark after a rewind to ``to``: the start of the bucket holding ``to``,
    never later than the current watermark (a rewind only re-reads, it skips nothing).

    >>> wm = datetime(2026, 5, 2, tzinfo=UTC)
    >>> rewind(wm, datetime(2026, 5, 1, 7, 30, tzinfo=UTC), "hourly").isoformat()
    '2026-05-01T07:00:00+00:00'
    >>> rewind(wm, datetime(2026, 6, 1, tzinfo=UTC), "hourly") == wm
    True
    """
    return min(_aware(watermark, "watermark"), bucket_start(to, interval, tz))


def span(buckets: Sequence[Bucket]) -> tuple[datetime, datetime]:
    """The one range ``[first start, last end)`` covering contiguous ``buckets`` (what a
    single query for a poll reads)."""
    if not buckets:
        raise ScheduleError("no buckets")
    return buckets[0].start, buckets[-1].end
