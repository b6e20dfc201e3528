"""When a maintenance window is active, and when it will be next.

A maintenance window holds alert notifications while it is active (detection goes on).
It is either **one-off** (``start``/``end``, epoch seconds) or **recurring**: an RFC 5545
RRULE, or a 5-field cron expression, whose occurrences start at a local wall-clock time
in the window's IANA ``timezone`` and last ``duration_s`` seconds each.

Occurrences are computed in local wall-clock time (python-dateutil's rrule on naive
datetimes) and only then converted to epoch seconds with :mod:`zoneinfo`, so "every
Sunday 02:00 Europe/Berlin" starts at 02:00 local in winter (01:00 UTC) and in summer
(00:00 UTC) alike.

DST behaviour, which the tests pin down:

* A start time that does not exist locally (the spring-forward gap: 02:00 on the last
  Sunday of March in Berlin) is read as zoneinfo reads it with ``fold=0``, i.e. with
  the offset in force *before* the jump, which puts it one gap later on the clock:
  02:00 becomes 03:00 CEST. This is also when cron runs a job scheduled in the gap.
* A start time that happens twice (the fall-back overlap) is the first of the two
  (``fold=0``, still summer time).
* ``duration_s`` is elapsed time, not wall-clock time: "02:00 for 2 h" holds 2 hours
  of alerts even on the night the clocks change (03:00-05:00 CEST on the spring-forward
  Sunday, 02:00 CEST-03:00 CET on the fall-back one).

RRULE subset: FREQ from YEARLY down to HOURLY (HOURLY with an INTERVAL dividing 24;
finer schedules are BYHOUR/BYMINUTE lists, as cron's are), no BYEASTER (a dateutil
extension), COUNT up to :data:`MAX_COUNT`, UNTIL in UTC (``...Z``, as RFC 5545 asks) or
local, and at least one occurrence within 8 years of ``dtstart``.

Cheapness: dateutil answers every query (``before``, ``after``, ``between``) by
iterating from ``dtstart``, so a naive ``rule.before(now)`` on an every-5-minutes cron
that started years ago walks hundreds of thousands of occurrences on every call. We
instead restart the rule at a period boundary just before the time asked about
(:func:`_anchored`), keeping ``INTERVAL`` in phase, and pin the fields that dateutil
would otherwise default from the new ``dtstart``. Only ``COUNT`` rules, capped at
:data:`MAX_COUNT` occurrences, are walked from their start.

Cron (:func:`cron_to_rrules`) follows Vixie cron / cronie, the crontab most hosts run:
when *both* day-of-month and day-of-week are restricted the day matches if *either*
does (OR); when either of them starts with ``*`` both must match (AND, which in
practice means the other one alone decides).
"""

from __future__ import annotations

import bisect
import functools
import heapq
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule as du

MAX_DURATION_S = 31 * 86400.0
"""Longest occurrence: a month. Longer "maintenance" is an outage to alert about, and
the bound keeps the look-back of :func:`active_at` short."""

MAX_COUNT = 1000
"""Largest RRULE ``COUNT``: a counted rule must be walked from its start on every call
(the count runs from there), so it is capped; use ``UNTIL`` or no end instead."""

MAX_NEXT = 1000
"""Most occurrences :func:`next_occurrences` returns in one call."""

_OFFSET_SPAN = timedelta(hours=26)
"""UTC offsets run from -12:00 to +14:00, so a local wall-clock time and the UTC time it
maps to never differ by more than this between two instants (Samoa's 2011 skipped day
fits): the bound that makes the local-time searches below exact."""

_EXISTS_HORIZON = timedelta(days=8 * 366)
"""A rule with no occurrence this long after its start is rejected as never occurring:
29 February can be 8 years away (2096 to 2104); anything rarer is no maintenance."""

_LAST_PROBE_YEAR = 9999 - 9
"""Latest start year for the existence probe of :func:`_occurs` (horizon included)."""

_PERIODS_PER_400_YEARS = {
    du.YEARLY: 400,
    du.MONTHLY: 4800,
    du.WEEKLY: 20871,
    du.DAILY: 146097,
    du.HOURLY: 146097 * 24,
}

_FIRST_YEAR, _LAST_YEAR = 1900, 2999
"""Years a time may fall in: wide enough for any schedule, and far enough from
datetime's limits that the look-back and horizon arithmetic cannot overflow."""

_EPOCH_RANGE = (
    datetime(_FIRST_YEAR, 1, 1, tzinfo=UTC).timestamp(),
    datetime(_LAST_YEAR + 1, 1, 1, tzinfo=UTC).timestamp(),
)

_CRON_DTSTART = datetime(1970, 1, 1)
"""Where a cron window without ``dtstart`` starts: cron has no start date."""

_FREQS = {
    "YEARLY": du.YEARLY,
    "MONTHLY": du.MONTHLY,
    "WEEKLY": du.WEEKLY,
    "DAILY": du.DAILY,
    "HOURLY": du.HOURLY,
}
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_UNTIL = re.compile(r"^(\d{8})(?:T(\d{6})(Z?))?$")


@dataclass(frozen=True)
class Window:
    """A maintenance window as stored: either one-off or recurring (see module doc).

    One-off: ``start`` and ``end`` (epoch seconds). Recurring: ``rrule`` *or* ``cron``,
    ``duration_s``, ``timezone`` and ``dtstart``, a naive local ISO datetime such as
    ``2026-01-04T02:00:00`` giving the first occurrence and, for an RRULE, the time of
    day (optional for cron, which carries its own time of day).
    """

    start: float | None = None
    end: float | None = None
    rrule: str | None = None
    cron: str | None = None
    dtstart: str | None = None
    duration_s: float | None = None
    timezone: str = "UTC"


@dataclass(frozen=True)
class _Rule:
    """One parsed rrule plus what :func:`_anchored` needs to restart it later."""

    rule: du.rrule
    dtstart: datetime
    until: datetime | None
    freq: int
    interval: int
    wkst: int
    counted: bool
    pinned: tuple[tuple[str, int], ...]
    """The by-fields dateutil filled in from the original ``dtstart``."""


@dataclass(frozen=True)
class _Compiled:
    window: Window
    """The validated, normalised window."""
    tz: ZoneInfo
    one_off: tuple[float, float] | None
    rules: tuple[_Rule, ...]
    duration: float


# -- public API ---------------------------------------------------------------------------


def validate(window: Window) -> Window:
    """The window, normalised (RRULE without ``RRULE:``, upper case; cron single-spaced).

    Raises ValueError saying what is wrong, so the API can hand the message to the user.
    """
    return _compile(window).window


def active_at(window: Window, now: float) -> tuple[float, float] | None:
    """The ``(start, end)`` epoch interval of the occurrence covering ``now``, else None.

    ``start`` is inclusive and ``end`` exclusive. When occurrences overlap (duration
    longer than the recurrence), the latest-starting one that covers ``now`` is given.
    Raises ValueError for an invalid window (see :func:`validate`).
    """
    c = _compile(window)
    _check_time("now", now)
    if c.one_off is not None:
        first, last = c.one_off
        return c.one_off if first <= now < last else None
    start = _latest_start(c, now)
    if start is not None and now < start + c.duration:
        return start, start + c.duration
    return None


def next_occurrences(window: Window, after: float, count: int) -> list[tuple[float, float]]:
    """Up to ``count`` occurrences not over at ``after`` (``end > after``), by start.

    The one in progress at ``after``, if any, comes first: the UI shows it as "now".
    """
    c = _compile(window)
    _check_time("after", after)
    if not 0 <= count <= MAX_NEXT:
        raise ValueError(f"count must be between 0 and {MAX_NEXT}, got {count}")
    if count == 0:
        return []
    if c.one_off is not None:
        return [c.one_off] if c.one_off[1] > after else []
    return _upcoming(c, after, count)


def cron_to_rrules(expr: str) -> list[str]:
    """The RRULE(s) whose occurrences are the times ``expr`` fires, in the same zone.

    One rule, or two whose union is meant when both day fields are restricted (cron's
    OR, see module doc). Fields: minute, hour, day of month, month, day of week (0 or 7
    = Sunday); each ``*``, ``n``, ``a-b``, ``*/n``, ``a-b/n``, ``a/n`` or a comma list of
    those; month and weekday names (``JAN``, ``MON``) and ``@daily``-style macros too.
    Day-of-week ranges do not wrap (``FRI-MON`` is an error; write ``FRI-SUN,MON``).
    """
    fields = _CRON_MACROS.get(expr.strip().lower(), expr).split()
    if len(fields) != 5:
        raise ValueError(
            "cron: expected 5 fields (minute hour day-of-month month day-of-week), "
            f"got {len(fields)} in {expr!r}"
        )
    minute, hour, dom, month, dow = (
        _cron_field(text, spec) for text, spec in zip(fields, _CRON_SPECS, strict=True)
    )
    dow = {d % 7 for d in dow}
    base = f"FREQ=DAILY;BYHOUR={_join(hour)};BYMINUTE={_join(minute)};BYSECOND=0"
    if len(month) < 12:
        base += f";BYMONTH={_join(month)}"
    by_dom = f";BYMONTHDAY={_join(dom)}" if len(dom) < 31 else ""
    by_dow = f";BYDAY={','.join(_WEEKDAYS[(d - 1) % 7] for d in sorted(dow))}"
    by_dow = by_dow if len(dow) < 7 else ""
    if fields[2].startswith("*") or fields[4].startswith("*"):
        return [base + by_dom + by_dow]
    if not by_dom or not by_dow:
        return [base]  # one side matches every day, so the OR does too
    return [base + by_dom, base + by_dow]


# -- validation and compilation -----------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _compile(window: Window) -> _Compiled:
    """Validate and parse once per distinct window: evaluation asks every minute."""
    tz = _zone(window.timezone)
    recurring = window.rrule is not None or window.cron is not None
    if window.start is not None or window.end is not None:
        if recurring or window.dtstart is not None or window.duration_s is not None:
            raise ValueError(
                "a window is one-off (start, end) or recurring (rrule or cron, dtstart, "
                "duration_s), not both"
            )
        return _Compiled(window, tz, _one_off(window), (), 0.0)
    if not recurring:
        raise ValueError(
            "a window needs start and end (one-off) or an rrule or cron with duration_s (recurring)"
        )
    if window.rrule is not None and window.cron is not None:
        raise ValueError("give an rrule or a cron expression, not both")
    duration = _duration(window.duration_s)
    if window.rrule is not None:
        if window.dtstart is None:
            raise ValueError("an rrule window needs dtstart (its first local start time)")
        dtstart = _dtstart(window.dtstart)
        body, parts = _rrule_parts(window.rrule)
        rules: tuple[_Rule, ...] = (_parse_rule(parts, dtstart, tz),)
        if not _occurs(rules[0]):
            raise ValueError(
                f"rrule {body!r} never occurs (not within 8 years of dtstart {window.dtstart})"
            )
        normalised = replace(window, rrule=body)
    else:
        assert window.cron is not None
        dtstart = _dtstart(window.dtstart) if window.dtstart is not None else _CRON_DTSTART
        texts = cron_to_rrules(window.cron)
        parsed = [_parse_rule(_rrule_parts(t)[1], dtstart, tz) for t in texts]
        # A rule that never fires (e.g. "31 2" in the OR pair) would spin to year 9999.
        rules = tuple(r for r in parsed if _occurs(r))
        if not rules:
            raise ValueError(f"cron {window.cron!r} never fires")
        normalised = replace(window, cron=" ".join(window.cron.split()))
    return _Compiled(normalised, tz, None, rules, duration)


def _zone(key: str) -> ZoneInfo:
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {key!r} (expected an IANA name)") from None


def _one_off(window: Window) -> tuple[float, float]:
    if window.start is None or window.end is None:
        raise ValueError("a one-off window needs both start and end")
    _check_time("start", window.start)
    _check_time("end", window.end)
    if window.end <= window.start:
        raise ValueError("end must be after start")
    return float(window.start), float(window.end)


def _duration(value: float | None) -> float:
    if value is None:
        raise ValueError("a recurring window needs duration_s")
    _check_finite("duration_s", value)
    if not 0 < value <= MAX_DURATION_S:
        raise ValueError(f"duration_s must be over 0 and at most 31 days, got {value}")
    return float(value)


def _check_finite(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


def _check_time(name: str, value: float) -> None:
    _check_finite(name, value)
    if not _EPOCH_RANGE[0] <= value < _EPOCH_RANGE[1]:
        raise ValueError(f"{name} must fall in the years {_FIRST_YEAR}-{_LAST_YEAR}")


def _dtstart(text: str) -> datetime:
    try:
        dt = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"dtstart {text!r} is not an ISO datetime") from None
    if dt.tzinfo is not None:
        raise ValueError(
            f"dtstart {text!r} must be a local time without offset; the zone is `timezone`"
        )
    if not _FIRST_YEAR <= dt.year <= _LAST_YEAR:
        raise ValueError(f"dtstart must fall in the years {_FIRST_YEAR}-{_LAST_YEAR}")
    return dt.replace(microsecond=0)


def _rrule_parts(text: str) -> tuple[str, dict[str, str]]:
    """Split ``KEY=VALUE;...`` ourselves: we need the keys to restart the rule later."""
    body = text.strip()
    if body[:6].upper() == "RRULE:":
        body = body[6:].strip()
    if "\n" in body or ":" in body:
        raise ValueError("rrule: give one RRULE line only; the start goes in dtstart")
    parts: dict[str, str] = {}
    for item in filter(None, body.upper().split(";")):
        key, sep, value = (s.strip() for s in item.partition("="))
        if not sep or not key or not value:
            raise ValueError(f"rrule: {item!r} is not KEY=VALUE")
        if key in parts:
            raise ValueError(f"rrule: {key} given twice")
        parts[key] = value
    if "FREQ" not in parts:
        raise ValueError("rrule: FREQ is required (e.g. FREQ=WEEKLY;BYDAY=SU)")
    if parts["FREQ"] in ("MINUTELY", "SECONDLY"):
        raise ValueError(
            f"rrule: FREQ={parts['FREQ']} is not a maintenance schedule; use BYHOUR and "
            "BYMINUTE lists with FREQ=DAILY (as a cron expression does)"
        )
    if "BYEASTER" in parts:
        raise ValueError("rrule: BYEASTER is a dateutil extension, not RFC 5545")
    if not parts.get("INTERVAL", "1").isdecimal() or int(parts.get("INTERVAL", "1")) < 1:
        raise ValueError("rrule: INTERVAL must be a whole number from 1")
    if "COUNT" in parts and "UNTIL" in parts:
        raise ValueError("rrule: COUNT and UNTIL cannot both be given (RFC 5545)")
    return ";".join(f"{k}={v}" for k, v in parts.items()), parts


def _parse_rule(parts: dict[str, str], dtstart: datetime, tz: ZoneInfo) -> _Rule:
    parts = dict(parts)
    parts.setdefault("WKST", "MO")  # RFC 5545's default, not calendar.firstweekday()
    if "UNTIL" in parts:
        parts["UNTIL"] = _until(parts["UNTIL"], tz)
    if "COUNT" in parts and not (parts["COUNT"].isdecimal() and int(parts["COUNT"]) <= MAX_COUNT):
        raise ValueError(f"rrule: COUNT must be a whole number up to {MAX_COUNT}")
    try:
        rule = du.rrulestr(";".join(f"{k}={v}" for k, v in parts.items()), dtstart=dtstart)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as e:
        raise ValueError(f"rrule: {e}") from None
    if not isinstance(rule, du.rrule):
        raise ValueError("rrule: give one RRULE line only")
    freq = _FREQS[parts["FREQ"]]
    interval = int(parts.get("INTERVAL", "1"))
    if freq == du.HOURLY and 24 % interval:
        # Keeps every day in the same phase, which bounds the cost of _occurs.
        raise ValueError("rrule: with FREQ=HOURLY, INTERVAL must divide 24")
    until = parts.get("UNTIL")
    return _Rule(
        rule=rule,
        dtstart=dtstart,
        until=datetime.strptime(until, "%Y%m%dT%H%M%S") if until else None,
        freq=freq,
        interval=interval,
        wkst=_WEEKDAYS.index(parts["WKST"]),
        counted="COUNT" in parts,
        pinned=tuple(_pinned(parts, freq, dtstart).items()),
    )


def _until(value: str, tz: ZoneInfo) -> str:
    """UNTIL as local naive ``YYYYMMDDTHHMMSS``: RFC 5545 wants it in UTC (``Z``) when the
    start has a zone, while dateutil wants it as naive as our local ``dtstart``. Strict
    format: dateutil would fill a partial date from today's date."""
    m = _UNTIL.match(value)
    if m is None:
        raise ValueError(f"rrule: UNTIL {value!r} must be YYYYMMDD or YYYYMMDDTHHMMSS[Z]")
    try:
        dt = datetime.strptime(m[1] + (m[2] or "000000"), "%Y%m%d%H%M%S")
    except ValueError:
        raise ValueError(f"rrule: UNTIL {value!r} is not a valid date") from None
    if m[3]:
        dt = dt.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)
    return dt.strftime("%Y%m%dT%H%M%S")


def _pinned(parts: dict[str, str], freq: int, dtstart: datetime) -> dict[str, int]:
    """The by-fields dateutil derives from ``dtstart`` when the rule leaves them out
    (mirrors ``rrule.__init__``): a rule restarted at a later ``dtstart`` must keep the
    original weekday, day and time of day, not take the restart's."""
    pinned: dict[str, int] = {}
    if not parts.keys() & {"BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY"}:
        if freq == du.YEARLY:
            if "BYMONTH" not in parts:
                pinned["bymonth"] = dtstart.month
            pinned["bymonthday"] = dtstart.day
        elif freq == du.MONTHLY:
            pinned["bymonthday"] = dtstart.day
        elif freq == du.WEEKLY:
            pinned["byweekday"] = dtstart.weekday()
    for key, level, attr in (
        ("BYHOUR", du.HOURLY, "hour"),
        ("BYMINUTE", du.MINUTELY, "minute"),
        ("BYSECOND", du.SECONDLY, "second"),
    ):
        if key not in parts and freq < level:
            pinned[key.lower()] = getattr(dtstart, attr)
    return pinned


def _occurs(rule: _Rule) -> bool:
    """Whether the rule has an occurrence within :data:`_EXISTS_HORIZON` of its start.

    dateutil checks UNTIL only against occurrences, so a rule that never occurs
    (``BYMONTH=2;BYMONTHDAY=30``) iterates to year 9999 whatever the bound: seconds for
    a daily rule. The Gregorian calendar repeats every 400 years (146097 days, exactly
    20871 weeks), so we ask the same question as late in the calendar as the rule's
    phase allows, where dateutil's own year-9999 stop is only a few years away."""
    cycle = 400 * (rule.interval // math.gcd(rule.interval, _PERIODS_PER_400_YEARS[rule.freq]))
    shift = max(0, (_LAST_PROBE_YEAR - rule.dtstart.year) // cycle * cycle)
    start = rule.dtstart.replace(year=rule.dtstart.year + shift)
    bound = start + _EXISTS_HORIZON
    if rule.until is not None and rule.until.year + shift <= _LAST_PROBE_YEAR:
        bound = min(bound, rule.until.replace(year=rule.until.year + shift))
    probe = rule.rule.replace(dtstart=start, count=None, until=bound, **dict(rule.pinned))
    return next(iter(probe), None) is not None


# -- searching ---------------------------------------------------------------------------


def _latest_start(c: _Compiled, now: float) -> float | None:
    """Epoch start of the latest occurrence starting at or before ``now``, when it could
    still cover ``now``; otherwise possibly None.

    Searches the last two offset spans first (cheap for dense rules); only when nothing
    recent enough starts there and occurrences last longer than a span does it look back
    over a whole duration."""
    local_now = _local(now, c.tz)
    span = _OFFSET_SPAN.total_seconds()
    best = _best_start(c, now, local_now - 2 * _OFFSET_SPAN, local_now + _OFFSET_SPAN)
    # Occurrences before the searched range start before now - span (see _OFFSET_SPAN).
    if (best is not None and best >= now - span) or c.duration <= span:
        return best
    lookback = timedelta(seconds=c.duration) + _OFFSET_SPAN
    return _best_start(c, now, local_now - lookback, local_now + _OFFSET_SPAN)


def _best_start(c: _Compiled, now: float, lo: datetime, hi: datetime) -> float | None:
    """Latest epoch start ``<= now`` among local starts in ``[lo, hi]``. The maximum is
    taken over epochs, not the first hit from the end: a start in a DST gap maps later
    than the local times just after it."""
    best = None
    for local in _local_starts(c, lo):
        if local > hi:
            break
        start = _epoch(local, c.tz)
        if start <= now and (best is None or start > best):
            best = start
    return best


def _upcoming(c: _Compiled, after: float, count: int) -> list[tuple[float, float]]:
    found: list[float] = []
    lo = _local(after, c.tz) - timedelta(seconds=c.duration) - _OFFSET_SPAN
    limit = None
    for local in _local_starts(c, lo):
        if limit is not None and local > limit:
            break  # later local starts map after the count-th epoch start
        start = _epoch(local, c.tz)
        if start + c.duration <= after or start in found:
            continue
        bisect.insort(found, start)
        if len(found) >= count:
            del found[count:]
            limit = _local(found[-1], c.tz) + _OFFSET_SPAN
    return [(s, s + c.duration) for s in found]


def _local_starts(c: _Compiled, lo: datetime) -> Iterator[datetime]:
    """Local naive starts ``>= lo`` of all the window's rules, in order, without repeats."""
    streams = [_from(_anchored(r, lo), lo) for r in c.rules]
    previous = None
    for local in heapq.merge(*streams):
        if local != previous:
            yield local
        previous = local


def _from(rule: Iterable[datetime], lo: datetime) -> Iterator[datetime]:
    return (dt for dt in rule if dt >= lo)


def _anchored(r: _Rule, lo: datetime) -> du.rrule:
    """An rrule with the same occurrences from ``lo`` on, but starting at most one
    ``INTERVAL`` of periods before ``lo`` instead of at the original ``dtstart``.

    The restart is the first instant of a period in phase with the original (so
    ``INTERVAL=2`` keeps its weeks and ``BYSETPOS`` sees whole periods), and the
    by-fields dateutil defaulted from the original ``dtstart`` are pinned."""
    if r.counted or lo <= r.dtstart:
        return r.rule
    first = _period_start(r.freq, r.dtstart, r.wkst)
    periods = _periods_between(r.freq, first, _period_start(r.freq, lo, r.wkst))
    k = periods // r.interval * r.interval
    if k <= 0:
        return r.rule
    return r.rule.replace(dtstart=_shift(r.freq, first, k), **dict(r.pinned))


def _period_start(freq: int, dt: datetime, wkst: int) -> datetime:
    midnight = dt.replace(hour=0, minute=0, second=0, microsecond=0)
    if freq == du.YEARLY:
        return midnight.replace(month=1, day=1)
    if freq == du.MONTHLY:
        return midnight.replace(day=1)
    if freq == du.WEEKLY:
        return midnight - timedelta(days=(dt.weekday() - wkst) % 7)
    if freq == du.DAILY:
        return midnight
    return dt.replace(minute=0, second=0, microsecond=0)


def _periods_between(freq: int, a: datetime, b: datetime) -> int:
    if freq == du.YEARLY:
        return b.year - a.year
    if freq == du.MONTHLY:
        return (b.year - a.year) * 12 + b.month - a.month
    if freq == du.WEEKLY:
        return (b - a).days // 7
    if freq == du.DAILY:
        return (b - a).days
    return int((b - a).total_seconds()) // 3600


def _shift(freq: int, start: datetime, n: int) -> datetime:
    if freq == du.YEARLY:
        return start.replace(year=start.year + n)
    if freq == du.MONTHLY:
        years, month0 = divmod(start.month - 1 + n, 12)
        return start.replace(year=start.year + years, month=month0 + 1)
    step = {du.WEEKLY: timedelta(weeks=1), du.DAILY: timedelta(days=1)}.get(freq)
    return start + n * (step or timedelta(hours=1))


def _local(epoch: float, tz: ZoneInfo) -> datetime:
    """Naive local wall-clock time of an epoch."""
    return datetime.fromtimestamp(epoch, tz).replace(tzinfo=None)


def _epoch(local: datetime, tz: ZoneInfo) -> float:
    """Epoch of a local wall-clock time, ``fold=0`` (see module doc on DST)."""
    return local.replace(tzinfo=tz).timestamp()


# -- cron --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CronSpec:
    name: str
    lo: int
    hi: int
    names: tuple[str, ...] = ()
    """Names for ``lo``, ``lo + 1``, ... (months, weekdays)."""


_CRON_SPECS = (
    _CronSpec("minute", 0, 59),
    _CronSpec("hour", 0, 23),
    _CronSpec("day of month", 1, 31),
    _CronSpec(
        "month",
        1,
        12,
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
    ),
    _CronSpec("day of week", 0, 7, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")),
)

_CRON_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def _cron_field(text: str, spec: _CronSpec) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        values.update(_cron_item(item, spec))
    return values


def _cron_item(item: str, spec: _CronSpec) -> range:
    where = f"cron {spec.name} {item!r}"
    span, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not step_text.isdecimal() or int(step_text) == 0:
            raise ValueError(f"{where}: the step after / must be a positive whole number")
        step = int(step_text)
    if span == "*":
        lo, hi = spec.lo, spec.hi
    elif "-" in span:
        a, b = span.split("-", 1)
        lo, hi = _cron_value(a, spec, where), _cron_value(b, spec, where)
        if lo > hi:
            raise ValueError(f"{where}: a range must go upwards (write a wrap as two ranges)")
    else:
        lo = _cron_value(span, spec, where)
        hi = spec.hi if slash else lo  # "a/n" is "a-max/n", as in Vixie cron
    return range(lo, hi + 1, step)


def _cron_value(text: str, spec: _CronSpec, where: str) -> int:
    token = text.strip().upper()
    if token in spec.names:
        value = spec.lo + spec.names.index(token)
    elif token.isdecimal():
        value = int(token)
    else:
        raise ValueError(f"{where}: {text!r} is not a number (L, W, # and ? are not supported)")
    if not spec.lo <= value <= spec.hi:
        raise ValueError(f"{where}: {value} is outside {spec.lo}-{spec.hi}")
    return value


def _join(values: Iterable[int]) -> str:
    return ",".join(str(v) for v in sorted(values))
