"""A stream's time column read as UTC epoch seconds, vectorised, refusing to guess.

A data stream names its time column's format as Anodot does (``timePattern``):
``epoch_seconds``, ``epoch_millis``, ``epoch_micros``, ``iso8601``, or a Java-style
date pattern (``yyyyMMddHH``, ``yyyy-MM-dd HH:mm:ss``, ``dd/MM/yyyy``). A Java pattern
is translated letter by letter to a ``strptime`` format (:func:`java_to_strptime`):
unknown letters are refused rather than passed through, and ``%`` in literal text is
escaped, so a pattern can never smuggle a directive in. Values without a UTC offset are
wall-clock times of the stream's time zone; a repeated local time (the autumn DST hour)
is read as its first occurrence and a skipped one (spring) as the moment after the jump.
``datetime`` values (a SQL ``TIMESTAMP`` column) are taken as they are, naive ones in
the stream's time zone.

A column whose values come in more than one format is the failure that matters: read
with one pattern, the others would be *misparsed* silently (``1700000000000`` as epoch
seconds is the year 55840, ``12/31/2026`` fails as ``dd/MM/yyyy`` while ``03/04/2026``
passes with the wrong month). So every value the pattern cannot read is classified
(:func:`guess_format`); if some other known format reads it, :func:`parse_times` raises
:class:`MixedFormats` naming each format and the rows that have it. Values no format
reads (empty cells, ``"n/a"``) are reported per row in :attr:`ParsedTimes.invalid`, and
the caller skips those rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "EPOCH_PATTERNS",
    "ISO8601",
    "MixedFormats",
    "ParsedTimes",
    "TimeParseError",
    "guess_format",
    "java_to_strptime",
    "parse_times",
]

EPOCH_PATTERNS: dict[str, int] = {
    "epoch_seconds": 1,
    "epoch_millis": 1_000,
    "epoch_micros": 1_000_000,
}
"""Epoch patterns and how many units make a second."""

ISO8601 = "iso8601"
"""ISO 8601 date or date-time, with or without a UTC offset (``Z``, ``+02:00``)."""

_PLAUSIBLE = (
    datetime(1971, 1, 1, tzinfo=UTC).timestamp(),
    datetime(2200, 1, 1, tzinfo=UTC).timestamp(),
)
"""Epoch values read in a unit are *plausibly* that unit within these years: used only
to tell which unit a value the pattern did not fit is in, never to refuse a value."""

_COMMON_PATTERNS = (
    "yyyy-MM-dd HH:mm:ss",
    "yyyy-MM-dd HH:mm",
    "yyyy/MM/dd HH:mm:ss",
    "yyyy/MM/dd",
    "dd/MM/yyyy HH:mm:ss",
    "dd/MM/yyyy",
    "MM/dd/yyyy HH:mm:ss",
    "MM/dd/yyyy",
    "dd-MM-yyyy",
    "dd.MM.yyyy",
    "yyyyMMddHHmmss",
    "yyyyMMddHHmm",
    "yyyyMMddHH",
    "yyyyMMdd",
)
"""Formats :func:`guess_format` recognises beyond epoch and ISO 8601 (for reports)."""

_SHOWN_ROWS = 10  # rows named per format in a MixedFormats message
_MAX_CLASSIFIED = 1000  # rows in other formats listed before the report stops looking

# Java (SimpleDateFormat / DateTimeFormatter) letters -> strptime directives, longest
# run first. Single and double letters read the same: strptime's %m/%d/%H accept one
# or two digits.
_JAVA = {
    "yyyy": "%Y",
    "uuuu": "%Y",
    "yy": "%y",
    "MMMM": "%B",
    "MMM": "%b",
    "MM": "%m",
    "M": "%m",
    "dd": "%d",
    "d": "%d",
    "HH": "%H",
    "H": "%H",
    "hh": "%I",
    "h": "%I",
    "mm": "%M",
    "m": "%M",
    "ss": "%S",
    "s": "%S",
    "a": "%p",
    "EEEE": "%A",
    "EEE": "%a",
    "E": "%a",
    "DDD": "%j",
    "XXX": "%z",
    "XX": "%z",
    "X": "%z",
    "xxx": "%z",
    "xx": "%z",
    "Z": "%z",
    "ZZ": "%z",
    "ZZZ": "%z",
}
_FRACTION = re.compile("S{1,9}")


class TimeParseError(ValueError):
    """A time pattern or time zone that cannot be used."""


class MixedFormats(TimeParseError):
    """The column holds values in more than one format: ``formats`` maps each format
    found (the pattern's own included, when some values fit it) to its row numbers."""

    def __init__(self, pattern: str, formats: dict[str, list[int]]) -> None:
        self.pattern = pattern
        self.formats = formats
        parts = []
        lead = (
            f"The time column mixes formats; the stream's pattern is {pattern!r}: "
            if pattern in formats
            else f"The time column is not in the stream's pattern {pattern!r}; it holds: "
        )
        for name, rows in formats.items():
            shown = ", ".join(map(str, rows[:_SHOWN_ROWS]))
            more = f" and {len(rows) - _SHOWN_ROWS} more" if len(rows) > _SHOWN_ROWS else ""
            parts.append(f"{name} (rows {shown}{more})")
        super().__init__(lead + "; ".join(parts) + ".")


@dataclass(slots=True)
class ParsedTimes:
    """Epoch seconds (UTC, float, NaN where unreadable) and why each unreadable row was.

    >>> p = parse_times(["1700000000", ""], "epoch_seconds")
    >>> p.seconds.tolist()[0], p.invalid
    (1700000000.0, {1: 'empty time value'})
    """

    seconds: np.ndarray
    invalid: dict[int, str] = field(default_factory=dict)

    def datetimes(self) -> list[datetime | None]:
        """The times as aware UTC datetimes (``None`` where unreadable)."""
        return [
            None if np.isnan(s) else datetime.fromtimestamp(float(s), UTC) for s in self.seconds
        ]


def java_to_strptime(pattern: str) -> str:
    """The ``strptime`` format for a Java date pattern, or :class:`TimeParseError`.

    Text in single quotes is literal (``''`` is a quote); other ASCII letters must be
    pattern letters; ``%`` is escaped.

    >>> java_to_strptime("yyyy-MM-dd'T'HH:mm:ss.SSSXXX")
    '%Y-%m-%dT%H:%M:%S.%f%z'
    >>> java_to_strptime("yyyyMMddHH")
    '%Y%m%d%H'
    >>> java_to_strptime("yyyy-MM-dd Q")
    Traceback (most recent call last):
    ...
    augury.engines.collect.timeparse.TimeParseError: Unsupported letter 'Q' in time \
pattern 'yyyy-MM-dd Q' (quote literal text: 'Q').
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "'":
            end = i + 1
            text: list[str] = []
            while True:
                if end >= n:
                    raise TimeParseError(f"Unterminated quote in time pattern {pattern!r}.")
                if pattern[end] == "'":
                    if end + 1 < n and pattern[end + 1] == "'":
                        text.append("'")
                        end += 2
                        continue
                    break
                text.append(pattern[end])
                end += 1
            out.append("'" if end == i + 1 else "".join(text).replace("%", "%%"))
            i = end + 1
            continue
        if ch.isascii() and ch.isalpha():
            run = len(pattern[i:]) - len(pattern[i:].lstrip(ch))
            letters = pattern[i : i + run]
            if ch == "S":
                out.append("%f")
            elif letters in _JAVA:
                out.append(_JAVA[letters])
            else:
                raise TimeParseError(
                    f"Unsupported letter {ch!r} in time pattern {pattern!r} "
                    f"(quote literal text: '{ch}')."
                )
            i += run
            continue
        out.append("%%" if ch == "%" else ch)
        i += 1
    fmt = "".join(out)
    if "%" not in fmt.replace("%%", ""):
        raise TimeParseError(f"Time pattern {pattern!r} has no date or time fields.")
    return fmt


def _epoch_unit(value: float) -> str | None:
    """The epoch pattern in which ``value`` is a plausible time (1971-2200), if any."""
    for name, per_second in EPOCH_PATTERNS.items():
        if _PLAUSIBLE[0] <= value / per_second < _PLAUSIBLE[1]:
            return name
    return None


_SHAPES = {"yyyy": r"\d{4}", "MMM": "[A-Za-z]{3}", "a": "[AaPp][Mm]"}


@lru_cache(maxsize=64)
def _shape(pattern: str) -> re.Pattern[str]:
    """What a Java pattern's values look like, field widths included: two digits per
    field, four for a year (``yyyyMMddHH`` is exactly ten digits)."""
    out: list[str] = []
    for match in re.finditer(r"'[^']*'|([A-Za-z])\1*|.", pattern):
        token = match.group()
        if token.startswith("'"):
            out.append(re.escape(token.strip("'")))
        elif token in _SHAPES:
            out.append(_SHAPES[token])
        elif token[0].isalpha():
            out.append(r"\d{1,2}" if len(token) == 1 else rf"\d{{{len(token)}}}")
        else:
            out.append(re.escape(token))
    return re.compile("".join(out))


def _number(text: str) -> float | None:
    try:
        return float(text) if re.fullmatch(r"[+-]?\d+(\.\d*)?", text) else None
    except ValueError:
        return None


def guess_format(value: object) -> str | None:
    """The format a single value is in: an epoch pattern by magnitude, ``iso8601``, one
    of a few common Java patterns, or ``None``. Used to *report* a mixed column; a value
    several patterns read (``03/04/2026``) gets the first of them.

    >>> guess_format("1700000000123"), guess_format("2026-01-02T03:04:05Z")
    ('epoch_millis', 'iso8601')
    >>> guess_format("31/12/2026"), guess_format("12/31/2026"), guess_format("soon")
    ('dd/MM/yyyy', 'MM/dd/yyyy', None)
    """
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return _epoch_unit(float(value))
    text = str(value).strip()
    if not text:
        return None
    number = _number(text)
    if number is not None and not (len(text) in (8, 10, 12, 14) and "." not in text):
        return _epoch_unit(number)
    for pattern in _COMMON_PATTERNS:
        if not _shape(pattern).fullmatch(text):
            continue  # strptime alone reads "1767225600" as yyyyMMddHHmmss
        try:
            datetime.strptime(text, java_to_strptime(pattern))
        except ValueError:
            continue
        return pattern
    if number is not None:
        return _epoch_unit(number)
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ISO8601


def _as_series(values: Sequence[object] | npt.ArrayLike) -> pd.Series:
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    return pd.Series(
        np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    )


def _localize(naive: pd.Series, tz: str) -> np.ndarray:
    """Naive wall-clock datetimes in ``tz`` as epoch seconds (NaN for NaT)."""
    idx = pd.DatetimeIndex(naive)
    if tz != "UTC":
        # ambiguous=True reads a repeated time as DST, its first occurrence; a skipped
        # time moves to the first instant after the jump.
        idx = idx.tz_localize(
            tz, ambiguous=np.ones(len(idx), dtype=bool), nonexistent="shift_forward"
        )
    else:
        idx = idx.tz_localize("UTC")
    return _seconds(idx)


def _seconds(idx: pd.DatetimeIndex) -> np.ndarray:
    ns = idx.as_unit("ns").asi8.astype(np.float64)
    ns[np.asarray(idx.isna())] = np.nan
    return ns / 1e9


def _parse_epoch(series: pd.Series, per_second: int) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64) / per_second
    numbers = pd.to_numeric(series.map(_epoch_text), errors="coerce").to_numpy(dtype=np.float64)
    return numbers / per_second


def _epoch_text(value: object) -> object:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        return text if _number(text) is not None else None
    return value


_OFFSET = re.compile(r"[T\s]\d{1,2}(:?\d\d){0,2}([.,]\d+)?\s*([Zz]|[+-]\d\d(:?\d\d)?)$")
"""A time of day followed by a UTC offset (a date alone ends in ``-02``, no offset)."""


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) else None


def _parse_iso(series: pd.Series, tz: str) -> np.ndarray:
    text = series.map(_text)
    out = np.full(len(series), np.nan)
    has_offset = text.map(lambda v: bool(v and _OFFSET.search(v))).to_numpy(dtype=bool)
    if has_offset.any():
        aware = pd.to_datetime(text[has_offset], format="ISO8601", errors="coerce", utc=True)
        out[has_offset] = _seconds(pd.DatetimeIndex(aware))
    naive_mask = ~has_offset & text.notna().to_numpy(dtype=bool)
    if naive_mask.any():
        naive = pd.to_datetime(text[naive_mask], format="ISO8601", errors="coerce")
        out[naive_mask] = _localize(naive, tz)
    return out


def _parse_pattern(series: pd.Series, fmt: str, tz: str) -> np.ndarray:
    # an integer column holds yyyyMMdd-like values as numbers
    text = series.map(
        lambda v: (
            str(v) if isinstance(v, int | np.integer) and not isinstance(v, bool) else _text(v)
        )
    )
    if "%z" in fmt:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
        return _seconds(pd.DatetimeIndex(parsed))
    return _localize(pd.to_datetime(text, format=fmt, errors="coerce"), tz)


def _parse_datetimes(series: pd.Series, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows holding ``datetime`` objects (a SQL TIMESTAMP column): their seconds and mask."""
    out = np.full(len(series), np.nan)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        idx = pd.DatetimeIndex(series)
        seconds = _seconds(idx.tz_convert("UTC")) if idx.tz is not None else _localize(series, tz)
        return seconds, np.ones(len(series), dtype=bool)
    if series.dtype != object:
        return out, np.zeros(len(series), dtype=bool)
    mask = series.map(lambda v: isinstance(v, datetime)).to_numpy(dtype=bool)
    if mask.any():
        aware = [v for v in series[mask] if v.tzinfo is not None]
        if len(aware) == int(mask.sum()):
            out[mask] = [v.timestamp() for v in series[mask]]
        else:
            rows = np.flatnonzero(mask)
            for row in rows:
                v = series.iat[row]
                if v.tzinfo is not None:
                    out[row] = v.timestamp()
            naive_rows = [r for r in rows if series.iat[r].tzinfo is None]
            naive = pd.Series([series.iat[r] for r in naive_rows], dtype="datetime64[ns]")
            out[naive_rows] = _localize(naive, tz)
    return out, mask


def parse_times(
    values: Sequence[object] | npt.ArrayLike, pattern: str, tz: str = "UTC"
) -> ParsedTimes:
    """Read a time column: ``values`` as UTC epoch seconds under ``pattern``.

    Raises :class:`MixedFormats` when values the pattern cannot read are in another
    format; other unreadable values are listed in :attr:`ParsedTimes.invalid`.

    >>> parse_times(["2026033102"], "yyyyMMddHH", "Europe/Madrid").datetimes()
    [datetime.datetime(2026, 3, 31, 0, 0, tzinfo=datetime.timezone.utc)]
    >>> parse_times([1700000000, 1700000000123], "epoch_seconds")
    Traceback (most recent call last):
    ...
    augury.engines.collect.timeparse.MixedFormats: The time column mixes formats; the \
stream's pattern is 'epoch_seconds': epoch_seconds (rows 0); epoch_millis (rows 1).
    """
    try:
        pd.Timestamp(0).tz_localize(tz)
    except Exception as exc:  # noqa: BLE001 - pandas raises several kinds for a bad zone
        raise TimeParseError(f"Unknown time zone {tz!r}.") from exc
    series = _as_series(values)
    from_dt, is_dt = _parse_datetimes(series, tz)
    rest = series if not is_dt.any() else series.where(~is_dt, None)
    if pattern in EPOCH_PATTERNS:
        seconds = _parse_epoch(rest, EPOCH_PATTERNS[pattern])
        wrong_unit = _wrong_epoch_unit(seconds, pattern)
        seconds[wrong_unit] = np.nan
    elif pattern.lower() in (ISO8601, "iso", "iso_8601"):
        pattern = ISO8601
        seconds = _parse_iso(rest, tz)
    else:
        fmt = java_to_strptime(pattern)
        # a quoted 'Z' at the end ("yyyy-MM-dd'T'HH:mm:ss'Z'") says the times are UTC
        utc_literal = fmt.endswith("Z") and not fmt.endswith("%Z")
        seconds = _parse_pattern(rest, fmt, "UTC" if utc_literal else tz)
    seconds = np.where(is_dt, from_dt, seconds)
    return _report(series, seconds, pattern)


def _wrong_epoch_unit(seconds: np.ndarray, pattern: str) -> np.ndarray:
    """Values implausible in the pattern's unit (outside 1971-2200) but plausible in
    another: read as they are they would land centuries away."""
    per = EPOCH_PATTERNS[pattern]
    raw = seconds * per
    ok = np.isfinite(raw)
    implausible = ok & ((seconds < _PLAUSIBLE[0]) | (seconds >= _PLAUSIBLE[1]))
    elsewhere = np.zeros(len(seconds), dtype=bool)
    for other in EPOCH_PATTERNS.values():
        if other != per:
            in_other = raw / other
            elsewhere |= (in_other >= _PLAUSIBLE[0]) & (in_other < _PLAUSIBLE[1])
    wrong = implausible & elsewhere
    # beyond what datetime can hold in any reading: unreadable
    wrong |= ok & (np.abs(seconds) > 253402300799)
    return wrong


def _report(series: pd.Series, seconds: np.ndarray, pattern: str) -> ParsedTimes:
    bad = np.flatnonzero(np.isnan(seconds))
    invalid: dict[int, str] = {}
    other: dict[str, list[int]] = {}
    own_shape = None
    if pattern not in EPOCH_PATTERNS and pattern != ISO8601:
        own_shape = _shape(pattern)
    for row in bad:
        if sum(map(len, other.values())) >= _MAX_CLASSIFIED:
            break  # enough to say the column mixes formats; the rest are alike
        value = series.iat[row]
        if (
            value is None
            or (isinstance(value, float) and np.isnan(value))
            or (isinstance(value, str) and not value.strip())
        ):
            invalid[int(row)] = "empty time value"
            continue
        guess = guess_format(value)
        if (
            own_shape is not None
            and own_shape.fullmatch(str(value).strip())
            and (guess is None or guess in EPOCH_PATTERNS)
        ):
            # the pattern's own shape with an impossible date (month 99), not a number
            # that happens to have as many digits: a bad value, not another format
            invalid[int(row)] = f"time value {str(value)[:40]!r} is not a valid date"
            continue
        if guess is not None and guess != pattern:
            other.setdefault(guess, []).append(int(row))
        else:
            invalid[int(row)] = f"time value {str(value)[:40]!r} does not match {pattern!r}"
    if other:
        good = np.flatnonzero(~np.isnan(seconds))
        formats = {pattern: [int(r) for r in good]} if len(good) else {}
        formats.update(other)
        raise MixedFormats(pattern, formats)
    return ParsedTimes(seconds, invalid)
