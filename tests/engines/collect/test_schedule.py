"""Polling intervals, history ranges, the bucket grid in a time zone, due buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from augury.engines.collect.schedule import (
    ALLOWED_HISTORY,
    HISTORICAL_RANGES,
    POLLING_INTERVALS,
    Bucket,
    ScheduleError,
    backfill_start,
    bucket_start,
    bucket_starts,
    buckets_between,
    check_history,
    due,
    next_bucket_start,
    parse_interval,
    rewind,
    span,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ---------------------------------------------------------------- names and the table


def test_every_interval_has_a_row_in_the_allowed_table():
    assert set(ALLOWED_HISTORY) == set(POLLING_INTERVALS)
    for allowed in ALLOWED_HISTORY.values():
        assert set(allowed) <= set(HISTORICAL_RANGES)


@pytest.mark.parametrize(
    "interval, history, ok",
    [
        ("m1", "w1", True),
        ("m1", "m1", False),  # a month of minutes: refused by the seed's table
        ("m5", "m1", True),
        ("m30", "m3", False),
        ("hourly", "y1", True),
        ("h12", "y2", False),
        ("daily", "y20", True),
        ("daily", "h4", False),
    ],
)
def test_allowed_combinations_follow_the_seed_table(interval, history, ok):
    if ok:
        assert check_history(interval, history) == history
    else:
        with pytest.raises(ScheduleError, match="allowed: ") as info:
            check_history(interval, history)
        # the error names every allowed range, so the user can pick one
        for allowed in ALLOWED_HISTORY[interval]:
            assert allowed in str(info.value)


def test_unknown_names_are_refused_with_the_known_ones():
    with pytest.raises(ScheduleError, match="one of: m1, m5"):
        parse_interval("weekly")
    with pytest.raises(ScheduleError, match="Unknown historical range 'y3'"):
        check_history("daily", "y3")
    with pytest.raises(ScheduleError, match="Unknown time zone"):
        bucket_start(utc(2026, 1, 1), "hourly", "Mars/Olympus")


def test_naive_times_are_refused_not_guessed():
    with pytest.raises(ScheduleError, match="timezone-aware"):
        bucket_start(datetime(2026, 1, 1), "hourly")


# ---------------------------------------------------------------- the bucket grid


def test_hourly_in_madrid_aligns_to_local_hours_and_stays_an_hour_across_dst():
    # 2026-03-29: 02:00 CET -> 03:00 CEST (01:00 UTC); 2026-10-25: 03:00 CEST -> 02:00 CET
    for day in (utc(2026, 3, 28, 20), utc(2026, 10, 24, 20)):
        got = buckets_between(day, day + timedelta(hours=12), "hourly", "Europe/Madrid")
        assert len(got) == 12
        assert all(b.end - b.start == timedelta(hours=1) for b in got)
    # the repeated autumn hour is two buckets, not one merged one
    starts = [
        b.start
        for b in buckets_between(utc(2026, 10, 25), utc(2026, 10, 25, 3), "hourly", "Europe/Madrid")
    ]
    assert starts == [utc(2026, 10, 25, 0), utc(2026, 10, 25, 1), utc(2026, 10, 25, 2)]


def test_sub_hourly_buckets_follow_a_half_hour_offset_zone():
    # Asia/Kolkata is UTC+05:30: local hours start at :30 UTC
    t = utc(2026, 1, 1, 10, 10)  # 15:40 local
    assert bucket_start(t, "hourly", "Asia/Kolkata") == utc(2026, 1, 1, 9, 30)
    assert bucket_start(t, "m30", "Asia/Kolkata") == utc(2026, 1, 1, 10, 0)
    assert bucket_start(t, "m15", "Asia/Kathmandu") == utc(2026, 1, 1, 10, 0)  # +05:45


def test_daily_buckets_run_local_midnight_to_midnight_23_and_25_hours_on_dst_days():
    spring = bucket_start(utc(2026, 3, 29, 12), "daily", "Europe/Madrid")
    assert spring == utc(2026, 3, 28, 23)  # midnight CET
    assert next_bucket_start(spring, "daily", "Europe/Madrid") - spring == timedelta(hours=23)
    autumn = bucket_start(utc(2026, 10, 25, 12), "daily", "Europe/Madrid")
    assert autumn == utc(2026, 10, 24, 22)  # midnight CEST
    assert next_bucket_start(autumn, "daily", "Europe/Madrid") - autumn == timedelta(hours=25)


def test_daily_in_new_york_and_sydney():
    assert bucket_start(utc(2026, 7, 4, 3), "daily", "America/New_York") == utc(2026, 7, 3, 4)
    # southern hemisphere: DST ends on 2026-04-05 in Sydney (a 25-hour day)
    start = bucket_start(utc(2026, 4, 5, 5), "daily", "Australia/Sydney")
    assert start == utc(2026, 4, 4, 13)
    assert next_bucket_start(start, "daily", "Australia/Sydney") - start == timedelta(hours=25)


def test_h2_bucket_holding_the_repeated_hour_is_three_hours_long():
    got = buckets_between(utc(2026, 10, 24, 22), utc(2026, 10, 25, 23), "h2", "Europe/Madrid")
    lengths = [b.end - b.start for b in got]
    assert lengths.count(timedelta(hours=3)) == 1
    assert sum(lengths, timedelta()) == timedelta(hours=25)


ZONES = [
    "UTC",
    "Europe/Madrid",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "America/Santiago",
]


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("interval", ["m15", "hourly", "h2", "h3", "h12", "daily"])
def test_every_instant_falls_in_exactly_one_bucket_through_dst_changes(tz, interval):
    # A year in 10-minute steps (shorter than any bucket, so every bucket is hit)
    # covers every DST change of the zone, both ways.
    seconds = np.arange(utc(2026, 1, 1).timestamp(), utc(2027, 1, 1).timestamp(), 600)
    starts = bucket_starts(seconds, interval, tz)
    assert (starts <= seconds).all()
    assert (np.diff(starts) >= 0).all()  # the grid never goes back
    boundaries = np.unique(starts)
    # each boundary is its own bucket's start (a fixed point) ...
    np.testing.assert_array_equal(bucket_starts(boundaries, interval, tz), boundaries)
    lengths = np.diff(boundaries)
    nominal = POLLING_INTERVALS[interval]
    assert lengths.min() >= nominal - 3600 and lengths.max() <= nominal + 3600
    # ... and the scalar next_bucket_start walks the same grid, around DST changes too
    odd = np.flatnonzero(lengths != nominal)
    for i in sorted({0, 1, 2, *odd, *(odd - 1), *(odd + 1)} & set(range(len(lengths)))):
        got = next_bucket_start(datetime.fromtimestamp(int(boundaries[i]), UTC), interval, tz)
        assert got.timestamp() == boundaries[i + 1]
    if tz == "UTC" or interval in ("m15", "hourly"):
        # whole-hour DST shifts keep fixed buckets fixed (Lord Howe shifts 30 minutes)
        assert len(odd) == 0 or tz == "Australia/Lord_Howe"


def test_vectorised_and_scalar_agree():
    seconds = [utc(2026, 3, 29, h, 30).timestamp() for h in range(6)]
    vec = bucket_starts(seconds, "h2", "Europe/Madrid")
    scalar = [bucket_start(datetime.fromtimestamp(s, UTC), "h2", "Europe/Madrid") for s in seconds]
    assert [datetime.fromtimestamp(int(v), UTC) for v in vec] == scalar


# ---------------------------------------------------------------- due, watermark, backfill


def test_due_reads_only_closed_buckets_older_than_the_delay():
    wm = utc(2026, 1, 1, 0)
    now = utc(2026, 1, 1, 3, 10)
    assert [b.start.hour for b in due(now, wm, "hourly")] == [0, 1, 2]
    assert [b.start.hour for b in due(now, wm, "hourly", timedelta(minutes=15))] == [0, 1]
    # the current, still open bucket is never due
    assert due(utc(2026, 1, 1, 0, 59), wm, "hourly") == []


def test_a_long_backfill_proceeds_in_chunks_without_gaps_or_overlaps():
    now = utc(2026, 2, 1)
    wm = backfill_start(now, "hourly", "m1")
    assert wm == utc(2026, 1, 1)
    read: list[Bucket] = []
    polls = 0
    while chunk := due(now, wm, "hourly", max_buckets=100):
        polls += 1
        assert len(chunk) <= 100
        read += chunk
        wm = chunk[-1].end  # what the service stores after a successful poll
    assert polls == 8  # 744 hours of January in chunks of 100
    assert len(read) == 31 * 24
    assert all(a.end == b.start for a, b in zip(read, read[1:], strict=False))
    assert span(read) == (utc(2026, 1, 1), utc(2026, 2, 1))


def test_a_watermark_inside_a_bucket_rereads_that_bucket_whole():
    got = due(utc(2026, 1, 1, 5), utc(2026, 1, 1, 2, 40), "hourly")
    assert got[0] == Bucket(utc(2026, 1, 1, 2), utc(2026, 1, 1, 3))


def test_due_refuses_bad_arguments():
    with pytest.raises(ScheduleError):
        due(utc(2026, 1, 2), utc(2026, 1, 1), "hourly", max_buckets=0)
    with pytest.raises(ScheduleError):
        due(utc(2026, 1, 2), utc(2026, 1, 1), "hourly", timedelta(minutes=-1))


@pytest.mark.parametrize(
    "now, history, expected",
    [
        (utc(2026, 3, 31, 10), "m1", utc(2026, 2, 28)),  # clamped to February's end
        (utc(2024, 3, 31, 10), "m1", utc(2024, 2, 29)),  # leap year
        (utc(2026, 5, 31, 10), "m3", utc(2026, 2, 28)),
        (utc(2024, 2, 29, 10), "y1", utc(2023, 2, 28)),
        (utc(2026, 1, 15, 10), "m1", utc(2025, 12, 15)),  # across a year
        (utc(2026, 1, 15, 10), "y20", utc(2006, 1, 15)),
        (utc(2026, 1, 15, 10), "w1", utc(2026, 1, 8)),
    ],
)
def test_backfill_start_steps_calendar_months_and_years(now, history, expected):
    assert backfill_start(now, "daily", history) == expected


def test_backfill_start_days_are_local_calendar_days_across_dst():
    # 2026-03-30 10:00 CEST minus one day is 2026-03-29 10:00 CEST (23 real hours)
    now = utc(2026, 3, 30, 8)
    assert backfill_start(now, "hourly", "d1", "Europe/Madrid") == utc(2026, 3, 29, 8)
    assert backfill_start(now, "hourly", "d1", "UTC") == utc(2026, 3, 29, 8)
    assert backfill_start(utc(2026, 3, 30, 8, 7), "m5", "h4") == utc(2026, 3, 30, 4, 5)


def test_backfill_start_refuses_a_pair_the_table_forbids():
    with pytest.raises(ScheduleError, match="not allowed"):
        backfill_start(utc(2026, 1, 1), "m1", "y1")


def test_rewind_moves_the_watermark_back_only():
    wm = utc(2026, 5, 2)
    assert rewind(wm, utc(2026, 4, 30, 13, 5), "daily", "Europe/Madrid") == utc(2026, 4, 29, 22)
    assert rewind(wm, utc(2026, 5, 3), "daily") == wm


@pytest.mark.parametrize("tz", ["Europe/Madrid", "Australia/Lord_Howe", "America/Santiago"])
def test_the_fast_offset_lookup_matches_the_zone_to_the_second(tz):
    from augury.engines.collect.schedule import _offsets, _offsets_direct, zone

    # many rows over a short span take the hourly-grid path; each DST change of 2026
    # is straddled by rows one second apart
    coarse = np.arange(utc(2026, 1, 1).timestamp(), utc(2027, 1, 1).timestamp(), 600)
    coarse = coarse.astype(np.int64)
    changes = coarse[1:][np.diff(_offsets_direct(coarse, zone(tz))) != 0]
    assert len(changes) == 2
    dense = [np.arange(c - 1800, c + 1800, dtype=np.int64) for c in changes]
    seconds = np.sort(np.concatenate([coarse, *dense]))
    np.testing.assert_array_equal(_offsets(seconds, zone(tz)), _offsets_direct(seconds, zone(tz)))
