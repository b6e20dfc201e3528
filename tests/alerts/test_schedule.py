"""Maintenance-window recurrence: boundaries, DST, cron equivalence, validation."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule as du

from augury.alerts.schedule import (
    MAX_DURATION_S,
    Window,
    active_at,
    cron_to_rrules,
    next_occurrences,
    validate,
)

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600.0
SECOND = 1.0

SUNDAY_2AM = Window(
    rrule="FREQ=WEEKLY;BYDAY=SU",
    dtstart="2026-01-04T02:00:00",
    duration_s=2 * HOUR,
    timezone="Europe/Berlin",
)
SUNDAY_2AM_CRON = Window(cron="0 2 * * 0", duration_s=2 * HOUR, timezone="Europe/Berlin")


def berlin(*args: int) -> float:
    """Epoch of a Berlin wall-clock time (fold=0, as the module reads local times)."""
    return datetime(*args, tzinfo=BERLIN).timestamp()


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


# -- weekly Sunday 02:00-04:00 Europe/Berlin ----------------------------------------------


@pytest.mark.parametrize("window", [SUNDAY_2AM, SUNDAY_2AM_CRON], ids=["rrule", "cron"])
@pytest.mark.parametrize(
    ("day", "offset_h"),
    [((2026, 1, 11), 1), ((2026, 7, 5), 2)],
    ids=["winter-utc+1", "summer-utc+2"],
)
def test_weekly_window_boundaries(window: Window, day: tuple[int, int, int], offset_h: int):
    start, end = berlin(*day, 2), berlin(*day, 4)
    # The local 02:00 really is 01:00 UTC in winter and 00:00 UTC in summer.
    assert start == utc(*day, 2 - offset_h)
    assert active_at(window, start - SECOND) is None
    assert active_at(window, start) == (start, end)  # start inclusive
    assert active_at(window, end - SECOND) == (start, end)
    assert active_at(window, end) is None  # end exclusive
    assert active_at(window, start + 24 * HOUR) is None  # Monday 02:00


def test_spring_forward_start_in_the_gap_shifts_one_hour_later():
    """29 March 2026: Berlin jumps from 02:00 CET to 03:00 CEST, so 02:00 does not
    exist. It is read with fold=0 (the CET offset): 01:00 UTC, i.e. 03:00 CEST, and the
    occurrence still lasts 2 hours of elapsed time (until 05:00 CEST)."""
    gap = datetime(2026, 3, 29, 2, 0, tzinfo=BERLIN)
    assert gap.timestamp() == berlin(2026, 3, 29, 3) == utc(2026, 3, 29, 1)
    start, end = berlin(2026, 3, 29, 3), berlin(2026, 3, 29, 5)
    for window in (SUNDAY_2AM, SUNDAY_2AM_CRON):
        assert active_at(window, berlin(2026, 3, 29, 1, 59, 59)) is None
        assert active_at(window, start - SECOND) is None
        assert active_at(window, start) == (start, end)
        assert active_at(window, end - SECOND) == (start, end)
        assert active_at(window, end) is None
    # The weeks either side are at 02:00 local, in their own offsets.
    assert active_at(SUNDAY_2AM, berlin(2026, 3, 22, 2)) == (
        berlin(2026, 3, 22, 2),
        berlin(2026, 3, 22, 4),
    )
    assert active_at(SUNDAY_2AM, berlin(2026, 4, 5, 2)) == (
        berlin(2026, 4, 5, 2),
        berlin(2026, 4, 5, 4),
    )
    assert berlin(2026, 3, 22, 2) == utc(2026, 3, 22, 1)
    assert berlin(2026, 4, 5, 2) == utc(2026, 4, 5, 0)


def test_fall_back_start_is_the_first_of_the_repeated_hour():
    """25 October 2026: 02:00-03:00 happens twice in Berlin. The occurrence starts at
    the first 02:00 (CEST, fold=0) and lasts 2 hours: until the second 03:00 (CET)."""
    start = utc(2026, 10, 25, 0)  # 02:00 CEST
    assert datetime(2026, 10, 25, 2, tzinfo=BERLIN).timestamp() == start
    end = start + 2 * HOUR  # 03:00 CET
    assert datetime.fromtimestamp(end, BERLIN).replace(tzinfo=None) == datetime(2026, 10, 25, 3)
    assert active_at(SUNDAY_2AM, start - SECOND) is None
    assert active_at(SUNDAY_2AM, start + 1.5 * HOUR) == (start, end)  # 02:30 CET, 2nd pass
    assert active_at(SUNDAY_2AM, end - SECOND) == (start, end)
    assert active_at(SUNDAY_2AM, end) is None


def test_window_crossing_midnight():
    """Saturday 22:00 for 4 hours: still active early on Sunday, found from Sunday's
    side of midnight."""
    window = Window(
        rrule="FREQ=WEEKLY;BYDAY=SA",
        dtstart="2026-01-03T22:00:00",
        duration_s=4 * HOUR,
        timezone="Europe/Berlin",
    )
    start, end = berlin(2026, 2, 7, 22), berlin(2026, 2, 8, 2)
    assert active_at(window, start - SECOND) is None
    assert active_at(window, start) == (start, end)
    assert active_at(window, berlin(2026, 2, 8, 0)) == (start, end)
    assert active_at(window, berlin(2026, 2, 8, 1, 59, 59)) == (start, end)
    assert active_at(window, end) is None
    cron = Window(cron="0 22 * * SAT", duration_s=4 * HOUR, timezone="Europe/Berlin")
    assert active_at(cron, berlin(2026, 2, 8, 1)) == (start, end)


def test_long_duration_looks_back_further_than_a_day():
    window = Window(
        rrule="FREQ=MONTHLY;BYMONTHDAY=1",
        dtstart="2026-01-01T00:00:00",
        duration_s=5 * 24 * HOUR,
        timezone="Europe/Berlin",
    )
    start = berlin(2026, 3, 1)
    assert active_at(window, berlin(2026, 3, 5, 12)) == (start, start + 5 * 24 * HOUR)
    assert active_at(window, berlin(2026, 3, 6, 1)) is None


def test_before_dtstart_and_after_until_nothing_is_active():
    window = Window(
        rrule="FREQ=DAILY;UNTIL=20260110T000000Z",
        dtstart="2026-01-05T09:00:00",
        duration_s=HOUR,
        timezone="Europe/Berlin",
    )
    assert active_at(window, berlin(2026, 1, 4, 9, 30)) is None
    assert active_at(window, berlin(2026, 1, 5, 9, 30)) is not None
    assert active_at(window, berlin(2026, 1, 9, 9, 30)) is not None
    assert active_at(window, berlin(2026, 1, 10, 9, 30)) is None  # past UNTIL


def test_interval_keeps_its_phase_years_later():
    """Every other week: restarting the rule near `now` must keep the original weeks."""
    window = Window(
        rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=SU",
        dtstart="2026-01-04T02:00:00",
        duration_s=HOUR,
        timezone="Europe/Berlin",
    )
    on = datetime(2026, 1, 4, 2) + timedelta(weeks=2 * 200)
    off = on + timedelta(weeks=1)
    assert active_at(window, berlin(*on.timetuple()[:6])) is not None
    assert active_at(window, berlin(*off.timetuple()[:6])) is None


# -- agreement with a plain walk from dtstart ---------------------------------------------

REFERENCE_RULES = [
    ("FREQ=WEEKLY;BYDAY=SU", "2026-01-04T02:00:00", 2 * HOUR),
    ("FREQ=WEEKLY", "2025-03-30T02:30:00", HOUR),  # weekday and time from dtstart
    ("FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,TH;WKST=SU", "2025-01-02T23:30:00", 3 * HOUR),
    ("FREQ=MONTHLY;BYDAY=-1SU;BYHOUR=2", "2025-01-01T00:00:00", 2 * HOUR),
    ("FREQ=MONTHLY;INTERVAL=2;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "2025-01-31T20:00:00", 6 * HOUR),
    ("FREQ=YEARLY", "2024-02-29T01:00:00", 30 * HOUR),
    ("FREQ=DAILY;INTERVAL=3", "2025-03-01T02:15:00", 90 * 60),
    ("FREQ=HOURLY;INTERVAL=6;BYMINUTE=10", "2025-03-01T01:00:00", 1200),
    ("FREQ=HOURLY;INTERVAL=3", "2026-03-27T00:20:00", 900),
    ("FREQ=DAILY;BYHOUR=1,2,3;BYMINUTE=0,30", "2025-03-01T00:00:00", 1800),
]
REFERENCE_END = datetime(2028, 1, 1)


def _reference_starts(rule: str, dtstart: str) -> list[float]:
    """Every occurrence from dtstart, walked once: slow and obviously right."""
    rr = du.rrulestr(
        rule + ";WKST=MO" * ("WKST" not in rule), dtstart=datetime.fromisoformat(dtstart)
    )
    return sorted(
        {
            local.replace(tzinfo=BERLIN).timestamp()
            for local in rr.between(datetime.fromisoformat(dtstart), REFERENCE_END, inc=True)
        }
    )


@pytest.mark.parametrize(("rule", "dtstart", "duration"), REFERENCE_RULES)
def test_active_at_matches_a_walk_from_dtstart(rule: str, dtstart: str, duration: float):
    window = Window(rrule=rule, dtstart=dtstart, duration_s=duration, timezone="Europe/Berlin")
    starts = _reference_starts(rule, dtstart)
    rng = random.Random(rule)
    first = datetime.fromisoformat(dtstart).replace(tzinfo=BERLIN).timestamp()
    # Random instants, plus every 20 minutes around both 2026 DST switches.
    nows = [rng.uniform(first - 86400, utc(2027, 12, 1)) for _ in range(300)]
    for switch in (utc(2026, 3, 29, 1), utc(2026, 10, 25, 1)):
        nows += [switch + k * 1200 for k in range(-12, 13)]
    for now in nows:
        latest = [s for s in starts if s <= now][-1:]
        expected = (
            (latest[0], latest[0] + duration) if latest and now < latest[0] + duration else None
        )
        assert active_at(window, now) == expected, now


@pytest.mark.parametrize(("rule", "dtstart", "duration"), REFERENCE_RULES)
def test_next_occurrences_match_a_walk_from_dtstart(rule: str, dtstart: str, duration: float):
    window = Window(rrule=rule, dtstart=dtstart, duration_s=duration, timezone="Europe/Berlin")
    starts = _reference_starts(rule, dtstart)
    for after in (utc(2026, 3, 28, 23), utc(2026, 10, 24, 23), utc(2027, 2, 1)):
        expected = [(s, s + duration) for s in starts if s + duration > after][:12]
        got = next_occurrences(window, after, 12)
        assert len(got) == 12
        # Sparse rules run past the reference walk's end; compare what it covers.
        assert [
            o for o in got if o[0] < REFERENCE_END.replace(tzinfo=BERLIN).timestamp()
        ] == expected


# -- cron ---------------------------------------------------------------------------------


def test_cron_to_rrules():
    assert cron_to_rrules("0 2 * * 0") == ["FREQ=DAILY;BYHOUR=2;BYMINUTE=0;BYSECOND=0;BYDAY=SU"]
    assert cron_to_rrules("0 2 * * 7") == cron_to_rrules("0 2 * * sun")
    assert cron_to_rrules("@weekly") == cron_to_rrules("0 0 * * 0")
    assert cron_to_rrules("*/20 1-5/2 * jan,Dec *") == [
        "FREQ=DAILY;BYHOUR=1,3,5;BYMINUTE=0,20,40;BYSECOND=0;BYMONTH=1,12"
    ]
    assert cron_to_rrules("30 4 5/10 * *") == [
        "FREQ=DAILY;BYHOUR=4;BYMINUTE=30;BYSECOND=0;BYMONTHDAY=5,15,25"
    ]
    # Both day fields restricted: OR, as two rules.
    assert cron_to_rrules("0 0 1,15 * MON-FRI") == [
        "FREQ=DAILY;BYHOUR=0;BYMINUTE=0;BYSECOND=0;BYMONTHDAY=1,15",
        "FREQ=DAILY;BYHOUR=0;BYMINUTE=0;BYSECOND=0;BYDAY=MO,TU,WE,TH,FR",
    ]
    # A day field starting with '*' makes it AND (Vixie cron), even "*/2".
    assert cron_to_rrules("0 0 */2 * 1") == [
        "FREQ=DAILY;BYHOUR=0;BYMINUTE=0;BYSECOND=0"
        ";BYMONTHDAY=1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31;BYDAY=MO"
    ]


def test_cron_day_of_month_or_day_of_week():
    """'1st of the month or any Monday, 03:00-04:00 UTC' (March 2026: Sun 1st, Mon 2nd)."""
    window = Window(cron="0 3 1 * 1", duration_s=HOUR)
    for day in (1, 2, 9):
        assert active_at(window, utc(2026, 3, day, 3, 30)) == (
            utc(2026, 3, day, 3),
            utc(2026, 3, day, 4),
        )
    for day in (3, 7, 8):
        assert active_at(window, utc(2026, 3, day, 3, 30)) is None
    starts = [s for s, _ in next_occurrences(window, utc(2026, 3, 1), 6)]
    assert starts == [utc(2026, 3, d, 3) for d in (1, 2, 9, 16, 23, 30)]
    # The 1st falling on a Monday is one occurrence, not two.
    assert [s for s, _ in next_occurrences(window, utc(2026, 5, 31), 3)] == [
        utc(2026, 6, d, 3) for d in (1, 8, 15)
    ]


def test_cron_and_rrule_give_the_same_answers():
    after = berlin(2026, 1, 1)
    assert next_occurrences(SUNDAY_2AM, after, 60) == next_occurrences(SUNDAY_2AM_CRON, after, 60)
    rng = random.Random(7)
    for _ in range(300):
        now = after + rng.uniform(0, 365 * 86400)
        assert active_at(SUNDAY_2AM, now) == active_at(SUNDAY_2AM_CRON, now)


def test_dense_cron_years_after_its_start_is_cheap():
    """Every 5 minutes since 2020: a walk from dtstart would be ~600k steps per call."""
    window = Window(cron="*/5 * * * *", dtstart="2020-01-01T00:00:00", duration_s=60)
    began = time.perf_counter()
    for k in range(50):
        now = utc(2026, 6, 1) + k * 997.0
        covering = active_at(window, now)
        assert (covering is not None) == (now % 300 < 60)
    assert time.perf_counter() - began < 5


# -- one-off windows ----------------------------------------------------------------------


def test_one_off_window():
    window = Window(start=1000.0, end=2000.0)
    assert active_at(window, 999.9) is None
    assert active_at(window, 1000.0) == (1000.0, 2000.0)
    assert active_at(window, 1999.9) == (1000.0, 2000.0)
    assert active_at(window, 2000.0) is None
    assert next_occurrences(window, 0.0, 5) == [(1000.0, 2000.0)]
    assert next_occurrences(window, 1500.0, 5) == [(1000.0, 2000.0)]
    assert next_occurrences(window, 2000.0, 5) == []
    assert next_occurrences(window, 0.0, 0) == []


# -- next_occurrences ----------------------------------------------------------------------


def test_next_occurrences_include_the_one_in_progress():
    now = berlin(2026, 3, 22, 3)  # inside the 22 March occurrence
    assert next_occurrences(SUNDAY_2AM, now, 3) == [
        (berlin(2026, 3, 22, 2), berlin(2026, 3, 22, 4)),
        (berlin(2026, 3, 29, 3), berlin(2026, 3, 29, 5)),  # the spring-forward Sunday
        (berlin(2026, 4, 5, 2), berlin(2026, 4, 5, 4)),
    ]
    assert next_occurrences(SUNDAY_2AM, berlin(2026, 3, 22, 4), 1) == [
        (berlin(2026, 3, 29, 3), berlin(2026, 3, 29, 5))
    ]


def test_next_occurrences_stop_at_count_and_until():
    window = Window(
        rrule="RRULE:FREQ=DAILY;COUNT=3",
        dtstart="2026-01-01T12:00:00",
        duration_s=HOUR,
        timezone="UTC",
    )
    assert next_occurrences(window, 0.0, 10) == [
        (utc(2026, 1, d, 12), utc(2026, 1, d, 13)) for d in (1, 2, 3)
    ]
    assert next_occurrences(window, utc(2026, 1, 3, 13), 10) == []


# -- validation ---------------------------------------------------------------------------


def test_validate_normalises():
    window = Window(
        rrule=" rrule:freq=weekly;byday=su ",
        dtstart="2026-01-04T02:00:00",
        duration_s=HOUR,
        timezone="Europe/Berlin",
    )
    assert validate(window).rrule == "FREQ=WEEKLY;BYDAY=SU"
    assert validate(Window(cron=" 0  2 * *   0", duration_s=HOUR)).cron == "0 2 * * 0"
    assert validate(Window(start=1.0, end=2.0)) == Window(start=1.0, end=2.0)


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (Window(start=10.0, end=10.0), "end must be after start"),
        (Window(start=10.0, end=5.0), "end must be after start"),
        (Window(start=10.0), "needs both start and end"),
        (Window(start=float("nan"), end=5.0), "finite"),
        (Window(), "needs start and end"),
        (
            Window(
                rrule="FREQ=DAILY", cron="0 2 * * *", dtstart="2026-01-01T00:00:00", duration_s=60
            ),
            "not both",
        ),
        (
            Window(
                start=1.0, end=2.0, rrule="FREQ=DAILY", dtstart="2026-01-01T00:00:00", duration_s=60
            ),
            "not both",
        ),
        (Window(rrule="FREQ=DAILY", dtstart="2026-01-01T00:00:00"), "needs duration_s"),
        (Window(rrule="FREQ=DAILY", dtstart="2026-01-01T00:00:00", duration_s=0), "duration_s"),
        (Window(rrule="FREQ=DAILY", dtstart="2026-01-01T00:00:00", duration_s=-5), "duration_s"),
        (
            Window(
                rrule="FREQ=DAILY", dtstart="2026-01-01T00:00:00", duration_s=MAX_DURATION_S + 1
            ),
            "31 days",
        ),
        (Window(rrule="FREQ=DAILY", duration_s=60), "needs dtstart"),
        (Window(rrule="FREQ=DAILY", dtstart="yesterday", duration_s=60), "not an ISO datetime"),
        (
            Window(rrule="FREQ=DAILY", dtstart="2026-01-01T00:00:00+01:00", duration_s=60),
            "without offset",
        ),
        (
            Window(
                rrule="FREQ=DAILY",
                dtstart="2026-01-01T00:00:00",
                duration_s=60,
                timezone="Mars/Olympus",
            ),
            "unknown time zone",
        ),
        (Window(start=1.0, end=2.0, timezone="../etc"), "unknown time zone"),
        (Window(rrule="BYDAY=SU", dtstart="2026-01-01T00:00:00", duration_s=60), "FREQ"),
        (Window(rrule="FREQ=FORTNIGHTLY", dtstart="2026-01-01T00:00:00", duration_s=60), "rrule"),
        (
            Window(rrule="FREQ=WEEKLY;BYDAY=XX", dtstart="2026-01-01T00:00:00", duration_s=60),
            "BYDAY",
        ),
        (Window(rrule="FREQ=WEEKLY;FOO=1", dtstart="2026-01-01T00:00:00", duration_s=60), "FOO"),
        (
            Window(rrule="FREQ=WEEKLY;BYDAY", dtstart="2026-01-01T00:00:00", duration_s=60),
            "KEY=VALUE",
        ),
        (
            Window(rrule="FREQ=DAILY;UNTIL=2026", dtstart="2026-01-01T00:00:00", duration_s=60),
            "UNTIL",
        ),
        (
            Window(
                rrule="FREQ=DAILY;COUNT=2;UNTIL=20270101",
                dtstart="2026-01-01T00:00:00",
                duration_s=60,
            ),
            "COUNT and UNTIL",
        ),
        (
            Window(rrule="FREQ=DAILY;COUNT=5000", dtstart="2026-01-01T00:00:00", duration_s=60),
            "COUNT",
        ),
        (Window(rrule="FREQ=SECONDLY", dtstart="2026-01-01T00:00:00", duration_s=1), "SECONDLY"),
        (Window(rrule="FREQ=MINUTELY", dtstart="2026-01-01T00:00:00", duration_s=1), "MINUTELY"),
        (
            Window(rrule="FREQ=HOURLY;INTERVAL=5", dtstart="2026-01-01T00:00:00", duration_s=60),
            "divide 24",
        ),
        (
            Window(rrule="FREQ=DAILY;INTERVAL=0", dtstart="2026-01-01T00:00:00", duration_s=60),
            "INTERVAL",
        ),
        (
            Window(rrule="FREQ=YEARLY;BYEASTER=0", dtstart="2026-01-01T00:00:00", duration_s=60),
            "BYEASTER",
        ),
        (
            Window(
                rrule="FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29",
                dtstart="2025-01-01T00:00:00",
                duration_s=60,
            ),
            "never occurs",
        ),
        (
            Window(
                rrule="FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
                dtstart="2026-01-01T00:00:00",
                duration_s=60,
            ),
            "never occurs",
        ),
        (
            Window(
                rrule="DTSTART:20260101T000000\nRRULE:FREQ=DAILY",
                dtstart="2026-01-01T00:00:00",
                duration_s=60,
            ),
            "one RRULE line",
        ),
        (Window(cron="0 2 * *", duration_s=60), "5 fields"),
        (Window(cron="60 2 * * *", duration_s=60), "minute"),
        (Window(cron="0 24 * * *", duration_s=60), "hour"),
        (Window(cron="0 2 0 * *", duration_s=60), "day of month"),
        (Window(cron="0 2 * 13 *", duration_s=60), "month"),
        (Window(cron="0 2 * * 8", duration_s=60), "day of week"),
        (Window(cron="0 2 * * FRI-MON", duration_s=60), "upwards"),
        (Window(cron="*/0 2 * * *", duration_s=60), "step"),
        (Window(cron="0 2 L * *", duration_s=60), "not supported"),
        (Window(cron="0 2 1,,2 * *", duration_s=60), "day of month"),
        (Window(cron="0 2 30 2 *", duration_s=60), "never fires"),
        (Window(cron="0 2 * * 0"), "needs duration_s"),
        (Window(cron="0 2 * * 0", dtstart="9999-12-31T00:00:00", duration_s=60), "years"),
        (Window(start=1.0, end=1e15), "years"),
    ],
)
def test_validation_errors(window: Window, message: str):
    with pytest.raises(ValueError, match=message):
        validate(window)


def test_query_arguments_are_checked():
    with pytest.raises(ValueError, match="finite"):
        active_at(SUNDAY_2AM, float("inf"))
    with pytest.raises(ValueError, match="years"):
        active_at(SUNDAY_2AM, 1e15)
    with pytest.raises(ValueError, match="years"):
        next_occurrences(SUNDAY_2AM, -1e13, 3)
    with pytest.raises(ValueError, match="count"):
        next_occurrences(SUNDAY_2AM, 0.0, -1)
    with pytest.raises(ValueError, match="time zone"):
        active_at(Window(start=1.0, end=2.0, timezone="Nowhere/Land"), 1.5)
