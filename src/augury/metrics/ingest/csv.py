"""CSV for history backfill: one sample per row, UTF-8 (a BOM is ignored).

Two shapes, told apart by the first row:

- **header form**, the first cell is ``timestamp``:
  ``timestamp,what,value[,target_type][,<dimension columns>...]``. Columns may come in
  any order; every column other than ``timestamp``, ``what``, ``value`` and
  ``target_type`` is a dimension named by its header, and an empty cell leaves that
  dimension out of the row's metric.
- **plain form**, no header: ``timestamp,what,value[,dim=value;dim2=value2]``.

``timestamp`` is unix epoch seconds (a number) or an ISO 8601 / RFC 3339 date-time
(without an offset it is taken as UTC). ``target_type`` is ``gauge`` (default) or
``counter``. Validation: ``what`` must not be empty (2012), values must be finite
numbers (2024/2025/2026), timestamps not negative nor more than an hour ahead
(2021-2023), a row with the wrong shape is refused (``INVALID_ROW``), and so is a row
the database cannot store (:mod:`.limits`: name, dimension count, key and value
lengths, NUL characters). Dimension values are kept verbatim (this is augury's own
format, not Anodot's naming rules).
:attr:`SampleError.index` is the 0-based data row (the header is not counted; blank
lines are).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from augury.metrics.ingest.limits import check_series
from augury.metrics.ingest.points import (
    INVALID_TARGET_TYPE,
    MAX_FUTURE_S,
    TARGET_TYPES,
    TIMESTAMP_INVALID,
    TIMESTAMP_UNDEFINED,
    VALUE_INVALID,
    VALUE_UNDEFINED,
    WHAT_UNDEFINED,
    IngestError,
    ParseResult,
    Problem,
    Sample,
    check_timestamp,
    check_value,
    to_number,
)

INVALID_ROW = "INVALID_ROW"
_RESERVED = ("timestamp", "what", "value", "target_type")


def _timestamp(raw: str) -> float | Problem:
    raw = raw.strip()
    if not raw:
        return TIMESTAMP_UNDEFINED, "Metric timestamp is undefined."
    number = to_number(raw)
    if number is not None:
        return number
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return TIMESTAMP_INVALID, f"Metric timestamp: '{raw}' is not a valid epoch time."
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _value(raw: str) -> float | Problem:
    raw = raw.strip()
    if not raw:
        return VALUE_UNDEFINED, "Metric value is undefined."
    value = to_number(raw)
    if value is None:
        return VALUE_INVALID, f"Metric value: '{raw}' is not a valid decimal number."
    return check_value(value) or value


def _plain_dimensions(raw: str) -> dict[str, str] | Problem:
    dims: dict[str, str] = {}
    for pair in raw.split(";"):
        if not pair.strip():
            continue
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            return INVALID_ROW, f"Dimension '{pair}' is not name=value."
        dims[key.strip()] = value.strip()
    return dims


def _sample(
    *,
    ts_raw: str,
    what: str,
    value_raw: str,
    target_type: str,
    dims: dict[str, str],
    now: float,
    max_future_s: float,
) -> Sample | Problem:
    what = what.strip()
    if not what:
        return WHAT_UNDEFINED, "Property: 'what' is undefined."
    problem = check_series(what, dims)
    if problem:
        return problem
    target_type = target_type.strip() or "gauge"
    if target_type not in TARGET_TYPES:
        return (
            INVALID_TARGET_TYPE,
            f"Invalid target type: '{target_type}'. valid values are: {', '.join(TARGET_TYPES)}.",
        )
    ts = _timestamp(ts_raw)
    if isinstance(ts, tuple):
        return ts
    problem = check_timestamp(ts, now=now, max_future_s=max_future_s)
    if problem:
        return problem
    value = _value(value_raw)
    if isinstance(value, tuple):
        return value
    return Sample(what, dims, ts, value, target_type)


def parse(body: bytes, *, now: float, max_future_s: float = MAX_FUTURE_S) -> ParseResult:
    """Parse a backfill CSV; raise :class:`IngestError` for bad UTF-8 or a bad header."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(INVALID_ROW, f"body is not UTF-8: {exc}") from exc
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise IngestError(INVALID_ROW, f"body is not CSV: {exc}") from exc
    result = ParseResult()
    if not rows:
        return result
    header = [cell.strip() for cell in rows[0]]
    has_header = bool(header) and header[0].lower() == "timestamp"
    if has_header:
        lowered = [cell.lower() for cell in header]
        missing = [name for name in ("timestamp", "what", "value") if name not in lowered]
        if missing:
            raise IngestError(INVALID_ROW, f"header lacks column(s): {', '.join(missing)}")
        if len(set(lowered)) != len(lowered) or "" in lowered:
            raise IngestError(INVALID_ROW, "header has empty or repeated column names")
        column = {name: lowered.index(name) for name in _RESERVED if name in lowered}
        dim_columns = [(i, header[i]) for i, name in enumerate(lowered) if name not in _RESERVED]
        rows = rows[1:]

    for index, row in enumerate(rows):
        if not row or all(not cell.strip() for cell in row):
            continue
        if has_header:
            if len(row) != len(header):
                result.error(index, INVALID_ROW, f"{len(row)} cells; the header has {len(header)}.")
                continue
            dims = {name: row[i].strip() for i, name in dim_columns if row[i].strip()}
            parsed = _sample(
                ts_raw=row[column["timestamp"]],
                what=row[column["what"]],
                value_raw=row[column["value"]],
                target_type=row[column["target_type"]] if "target_type" in column else "",
                dims=dims,
                now=now,
                max_future_s=max_future_s,
            )
        else:
            if len(row) not in (3, 4):
                result.error(
                    index, INVALID_ROW, "Expected timestamp,what,value[,dim=value;dim2=value2]."
                )
                continue
            plain = _plain_dimensions(row[3]) if len(row) == 4 else {}
            if isinstance(plain, tuple):
                result.error(index, *plain)
                continue
            parsed = _sample(
                ts_raw=row[0],
                what=row[1],
                value_raw=row[2],
                target_type="",
                dims=plain,
                now=now,
                max_future_s=max_future_s,
            )
        if isinstance(parsed, Sample):
            result.add(index, parsed)
        else:
            result.error(index, *parsed)
    return result
