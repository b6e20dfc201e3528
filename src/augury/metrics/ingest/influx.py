"""InfluxDB line protocol, as Telegraf's InfluxDB v2 output sends it to ``/api/v2/write``.

``measurement[,tag=value...] field=value[,field2=value2...] [timestamp]``, one point per
line; blank lines and ``#`` comment lines are skipped. Each numeric field becomes one
:class:`Sample` with ``what = measurement + "." + field`` and the tags as dimensions.

Escaping (as InfluxDB documents it): in the measurement ``\\,`` and ``\\ `` are a comma
and a space; in tag keys, tag values and field keys ``\\,``, ``\\=`` and ``\\ `` too; any
other backslash is literal. String field values are double-quoted, with ``\\"`` and
``\\\\`` inside.

Field values: floats (``1``, ``-1.5``, ``1e3``), integers (``12i``), unsigned integers
(``12u``) and booleans (``t``/``true``/``True``/``TRUE`` -> 1.0, ``f``/... -> 0.0).
**String fields are skipped without an error**: Telegraf mixes them with numeric fields
(``uptime_format`` ...) and they are no metric; a line whose fields are all strings
gives no sample and no error. A syntax error refuses the whole line, as InfluxDB does.

The timestamp is an integer in ``precision`` units (``ns`` default, ``us``, ``ms``,
``s``; the v1 names ``n``, ``u``, ``m``, ``h`` are accepted too); a line without one gets
``now``. Timestamps more than an hour ahead are refused (Anodot code 2022), and so is a
line the database cannot store (:mod:`.limits`: metric name, tag count, tag key and value
lengths, NUL characters), with the line quoted in the message.
:attr:`SampleError.index` is the 0-based line number in the body. The body must be
UTF-8 and already decompressed (Telegraf may send ``Content-Encoding: gzip``; the route
undoes that).
"""

from __future__ import annotations

import re

from augury.metrics.ingest.limits import check_dimensions, check_what
from augury.metrics.ingest.points import (
    MAX_FUTURE_S,
    TIMESTAMP_INVALID,
    IngestError,
    ParseResult,
    Problem,
    Sample,
    check_timestamp,
)

INVALID_LINE = "INVALID_LINE"

PRECISIONS: dict[str, int] = {
    "ns": 1_000_000_000,
    "n": 1_000_000_000,
    "us": 1_000_000,
    "u": 1_000_000,
    "ms": 1_000,
    "s": 1,
}
"""Timestamp units per second (``m`` and ``h`` are handled as multiples of seconds)."""
_COARSE = {"m": 60, "h": 3600}

_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INT = re.compile(r"[+-]?\d+")
_UINT = re.compile(r"\d+")
_TS = re.compile(r"-?\d+")
_TRUE = frozenset({"t", "T", "true", "True", "TRUE"})
_FALSE = frozenset({"f", "F", "false", "False", "FALSE"})
_SKIP = object()  # a string field


class LineError(ValueError):
    """A line that is not valid line protocol."""


def _split(text: str, sep: str, *, quotes: bool = False) -> list[str]:
    """Split on unescaped ``sep`` (outside double quotes when ``quotes``)."""
    parts, start, i, n, quoted = [], 0, 0, len(text), False
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if quotes and c == '"':
            quoted = not quoted
        elif c == sep and not quoted:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    if quoted:
        raise LineError("unterminated string field value")
    parts.append(text[start:])
    return parts


def _unescape(text: str, chars: str) -> str:
    if "\\" not in text:
        return text
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in chars:
            out.append(text[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _sections(line: str) -> tuple[str, str, str]:
    """(series, fields, timestamp) split on the unescaped, unquoted spaces."""
    parts = [p for p in _split(line, " ", quotes=True) if p != ""]
    if len(parts) < 2:
        raise LineError("missing fields")
    if len(parts) > 3:
        raise LineError("unexpected text after the timestamp")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else ""


def _key_value(item: str, what: str) -> tuple[str, str]:
    pieces = _split(item, "=", quotes=what == "field")
    if len(pieces) < 2 or pieces[0] == "":
        raise LineError(f"{what} '{item}' is not key=value")
    key = _unescape(pieces[0], ",= ")
    value = "=".join(pieces[1:])
    if value == "":
        raise LineError(f"{what} '{key}' has no value")
    return key, value


def _field_value(raw: str) -> float | object:
    if raw[0] == '"':
        if len(raw) < 2 or raw[-1] != '"':
            raise LineError(f"bad string field value {raw}")
        return _SKIP
    last = raw[-1]
    if last == "i" and _INT.fullmatch(raw, 0, len(raw) - 1):
        value = int(raw[:-1])
        if not -(2**63) <= value < 2**63:
            raise LineError(f"integer field value {raw} out of range")
        return float(value)
    if last == "u" and _UINT.fullmatch(raw, 0, len(raw) - 1):
        value = int(raw[:-1])
        if value >= 2**64:
            raise LineError(f"unsigned field value {raw} out of range")
        return float(value)
    if raw in _TRUE:
        return 1.0
    if raw in _FALSE:
        return 0.0
    if _FLOAT.fullmatch(raw):
        number = float(raw)
        if number in (float("inf"), float("-inf")):
            raise LineError(f"field value {raw} out of range")
        return number
    raise LineError(f"invalid field value {raw}")


def _timestamp(raw: str, precision: str, now: float) -> float:
    if not raw:
        return now
    if not _TS.fullmatch(raw):
        raise LineError(f"invalid timestamp {raw}")
    if precision in _COARSE:
        return float(int(raw) * _COARSE[precision])
    per_second = PRECISIONS[precision]
    seconds, rest = divmod(int(raw), per_second)
    return seconds + rest / per_second


def parse_line(line: str, *, now: float, precision: str = "ns") -> list[Sample]:
    """Samples of one non-empty line; raise :class:`LineError` if it is malformed."""
    series, fields, raw_ts = _sections(line)
    head, *tag_items = _split(series, ",")
    measurement = _unescape(head, ", ")
    if not measurement:
        raise LineError("missing measurement")
    dims = dict(_key_value(item, "tag") for item in tag_items)
    dims = {key: _unescape(value, ",= ") for key, value in dims.items()}
    ts = _timestamp(raw_ts, precision, now)
    values: list[tuple[str, float]] = []
    for item in _split(fields, ",", quotes=True):
        key, raw = _key_value(item, "field")
        value = _field_value(raw)
        if value is not _SKIP:
            values.append((key, value))  # type: ignore[arg-type]
    return [Sample(f"{measurement}.{key}", dims, ts, value) for key, value in values]


def _check_storable(samples: list[Sample]) -> Problem | None:
    """The storage limits (:mod:`.limits`) for the samples of one line (same tags)."""
    for sample in samples:
        problem = check_what(sample.what)
        if problem:
            return problem
    return check_dimensions(samples[0].dimensions)


def parse(
    body: bytes,
    *,
    now: float,
    precision: str = "ns",
    max_future_s: float = MAX_FUTURE_S,
) -> ParseResult:
    """Parse a line-protocol body; raise :class:`IngestError` for bad UTF-8 or precision."""
    if precision not in PRECISIONS and precision not in _COARSE:
        raise IngestError(
            "INVALID_PRECISION",
            f"precision must be one of {', '.join([*PRECISIONS, *_COARSE])}, not {precision!r}",
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IngestError(INVALID_LINE, f"body is not UTF-8: {exc}") from exc
    result = ParseResult()
    for index, line in enumerate(text.split("\n")):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            samples = parse_line(line, now=now, precision=precision)
        except LineError as exc:
            result.error(index, INVALID_LINE, f"unable to parse '{line[:200]}': {exc}")
            continue
        except (ValueError, OverflowError) as exc:
            result.error(index, TIMESTAMP_INVALID, f"unable to parse '{line[:200]}': {exc}")
            continue
        if samples:
            problem = _check_storable(samples) or check_timestamp(
                samples[0].timestamp, now=now, max_future_s=max_future_s
            )
            if problem:
                result.error(index, problem[0], f"unable to store '{line[:200]}': {problem[1]}")
                continue
        for sample in samples:
            result.add(index, sample)
    return result
