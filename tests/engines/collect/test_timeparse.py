"""Time column values as UTC epoch seconds: epoch units, ISO 8601, Java patterns, time
zones and DST, and mixed formats reported rather than misparsed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from augury.engines.collect.timeparse import (
    MixedFormats,
    TimeParseError,
    guess_format,
    java_to_strptime,
    parse_times,
)


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    "values, pattern",
    [
        ([1767225600, "1767225600", 1767225600.5], "epoch_seconds"),
        ([1767225600000, "1767225600000"], "epoch_millis"),
        ([1767225600000000, "1767225600000000"], "epoch_micros"),
    ],
)
def test_epoch_units(values, pattern):
    got = parse_times(values, pattern).seconds
    assert np.allclose(got, ts(2026, 1, 1), atol=1)


def test_numeric_arrays_take_the_fast_path():
    arr = np.arange(1_000_000, dtype=np.int64) + 1_767_225_600
    got = parse_times(arr, "epoch_seconds")
    assert got.seconds[0] == ts(2026, 1, 1) and not got.invalid
    millis = pd.Series(arr * 1000)
    assert parse_times(millis, "epoch_millis").seconds[-1] == arr[-1]


def test_epoch_seconds_column_with_millis_is_reported_not_read_as_year_55000():
    with pytest.raises(MixedFormats) as info:
        parse_times([1767225600, 1767225600000, 1767229200, 1767229200000], "epoch_seconds")
    assert info.value.formats == {"epoch_seconds": [0, 2], "epoch_millis": [1, 3]}
    assert "rows 1, 3" in str(info.value)


def test_epoch_millis_column_with_seconds_is_reported():
    with pytest.raises(MixedFormats, match="epoch_seconds"):
        parse_times(["1767225600000", "1767225600"], "epoch_millis")


def test_small_epoch_values_stay_what_the_pattern_says():
    # 1970 data is unusual but not another format: read as asked
    assert parse_times([0, 60], "epoch_seconds").seconds.tolist() == [0.0, 60.0]


def test_iso8601_with_offsets_zulu_and_naive_in_the_stream_zone():
    values = [
        "2026-07-01T12:00:00Z",
        "2026-07-01T14:00:00+02:00",
        "2026-07-01 14:00:00",  # naive: Madrid wall clock (CEST)
        "2026-07-01T14:00:00.250",
        "2026-07-01",  # a date: local midnight
    ]
    got = parse_times(values, "iso8601", "Europe/Madrid").seconds
    noon = ts(2026, 7, 1, 12)
    assert got.tolist() == pytest.approx([noon, noon, noon, noon + 0.25, ts(2026, 6, 30, 22)])


@pytest.mark.parametrize(
    "pattern, value, expected",
    [
        ("yyyyMMddHH", "2026010203", ts(2026, 1, 2, 3)),
        ("yyyyMMddHH", 2026010203, ts(2026, 1, 2, 3)),  # an integer column
        ("yyyy-MM-dd HH:mm:ss", "2026-01-02 03:04:05", ts(2026, 1, 2, 3, 4, 5)),
        ("dd/MM/yyyy", "31/12/2026", ts(2026, 12, 31)),
        ("MM/dd/yyyy hh:mm a", "12/31/2026 03:04 PM", ts(2026, 12, 31, 15, 4)),
        (
            "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
            "2026-01-02T03:04:05.678+01:00",
            ts(2026, 1, 2, 2, 4, 5) + 0.678,
        ),
        ("dd MMM yyyy", "02 Jan 2026", ts(2026, 1, 2)),
        ("yyyy.MM.dd 'at' HH", "2026.01.02 at 03", ts(2026, 1, 2, 3)),
    ],
)
def test_java_patterns(pattern, value, expected):
    assert parse_times([value], pattern).seconds[0] == pytest.approx(expected)


def test_java_pattern_translation_is_safe():
    # a '%' in literal text cannot become a directive
    assert java_to_strptime("yyyy'%d'") == "%Y%%d"
    assert java_to_strptime("HH%mm") == "%H%%%M"
    assert java_to_strptime("yyyy''MM") == "%Y'%m"
    for bad in ("yyyy-MM-dd QQ", "yyyy 'unterminated", "'only text'", "---"):
        with pytest.raises(TimeParseError):
            java_to_strptime(bad)


def test_naive_times_in_a_zone_across_dst():
    # Madrid 2026-10-25: 02:30 happens twice (first occurrence taken), 2026-03-29 02:30
    # never happens (read as the moment after the jump, 03:00 CEST)
    got = parse_times(
        ["2026-10-25 02:30:00", "2026-10-25 03:30:00", "2026-03-29 02:30:00"],
        "yyyy-MM-dd HH:mm:ss",
        "Europe/Madrid",
    ).seconds
    assert got.tolist() == [ts(2026, 10, 25, 0, 30), ts(2026, 10, 25, 2, 30), ts(2026, 3, 29, 1)]
    # southern hemisphere: Sydney's repeated hour on 2026-04-05 02:30 (AEDT first)
    sydney = parse_times(["2026-04-05 02:30:00"], "yyyy-MM-dd HH:mm:ss", "Australia/Sydney")
    assert sydney.seconds[0] == ts(2026, 4, 4, 15, 30)


def test_datetime_values_from_a_sql_timestamp_column():
    naive = datetime(2026, 1, 2, 3)
    aware = datetime(2026, 1, 2, 3, tzinfo=timezone(timedelta(hours=1)))
    got = parse_times([naive, aware], "epoch_seconds", "America/New_York").seconds
    assert got.tolist() == [ts(2026, 1, 2, 8), ts(2026, 1, 2, 2)]
    column = pd.Series(pd.to_datetime(["2026-01-02 03:00"]))
    assert parse_times(column, "iso8601", "UTC").seconds[0] == ts(2026, 1, 2, 3)


def test_day_month_order_mixed_in_one_column_is_reported_with_rows():
    values = ["01/12/2026", "31/12/2026", "12/31/2026", "13/01/2026"]
    with pytest.raises(MixedFormats) as info:
        parse_times(values, "dd/MM/yyyy")
    assert info.value.formats == {"dd/MM/yyyy": [0, 1, 3], "MM/dd/yyyy": [2]}


def test_iso_and_epoch_mixed():
    with pytest.raises(MixedFormats) as info:
        parse_times(["2026-01-02T03:00:00Z", "1767225600", "2026-01-02T04:00:00Z"], "iso8601")
    assert info.value.formats == {"iso8601": [0, 2], "epoch_seconds": [1]}


def test_unreadable_values_are_reported_per_row_not_guessed():
    got = parse_times(["2026010203", "", None, "n/a", "2026019903"], "yyyyMMddHH")
    assert got.seconds[0] == ts(2026, 1, 2, 3)
    assert np.isnan(got.seconds[1:]).all()
    assert got.invalid[1] == "empty time value" and got.invalid[2] == "empty time value"
    assert "does not match" in got.invalid[3]
    assert "not a valid date" in got.invalid[4]  # month 99: the pattern's shape, bad date
    assert got.datetimes()[1] is None


def test_guess_format():
    assert guess_format("1767225600") == "epoch_seconds"
    assert guess_format(1767225600000000) == "epoch_micros"
    assert guess_format("2026010203") == "yyyyMMddHH"
    assert guess_format("2026-01-02 03:04:05") == "yyyy-MM-dd HH:mm:ss"
    assert guess_format("2026-01-02T03:04:05+02:00") == "iso8601"
    assert guess_format("") is None and guess_format(True) is None


def test_unknown_zone_is_refused():
    with pytest.raises(TimeParseError, match="Unknown time zone"):
        parse_times(["2026-01-01"], "iso8601", "Nowhere/Land")


def test_a_wrong_pattern_says_what_the_column_holds():
    with pytest.raises(MixedFormats, match="not in the stream's pattern 'iso8601'") as info:
        parse_times([1767225600, 1767229200], "iso8601")
    assert info.value.formats == {"epoch_seconds": [0, 1]}


def test_a_quoted_z_means_utc_whatever_the_stream_zone():
    got = parse_times(["2026-07-01T12:00:00Z"], "yyyy-MM-dd'T'HH:mm:ss'Z'", "Europe/Madrid")
    assert got.seconds[0] == ts(2026, 7, 1, 12)


def test_a_whole_column_in_the_wrong_unit_is_reported_quickly():
    millis = np.arange(200_000, dtype=np.int64) * 1000 + 1_767_225_600_000
    with pytest.raises(MixedFormats) as info:
        parse_times(millis, "epoch_seconds")
    assert list(info.value.formats) == ["epoch_millis"]
    assert len(info.value.formats["epoch_millis"]) == 1000  # listed up to a limit
    assert "and 990 more" in str(info.value)
