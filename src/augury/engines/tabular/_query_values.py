"""Filter values read as a column's logical type, in Python, before any query runs.

A value that cannot be one (``"31/31/2024"`` for a date, ``"maybe"`` for a boolean)
is refused as ``INVALID_FILTER`` naming the column, rather than failing inside DuckDB
with a message about a cast the user never wrote.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from typing import Any

from .columns import ColumnSpec
from .errors import TableError

_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")


def coerce(spec: ColumnSpec, value: Any, op: str = "eq") -> Any:
    """``value`` as ``spec``'s logical type, or ``TableError("INVALID_FILTER")``.

    >>> coerce(ColumnSpec("d", "VARCHAR", "date", "strptime:%d/%m/%Y"), "2024-12-31")
    datetime.date(2024, 12, 31)
    >>> coerce(ColumnSpec("n", "BIGINT", "integer"), "2.5")
    2.5
    """
    try:
        converted = _COERCE[spec.type](value)
    except (TypeError, ValueError, ArithmeticError):
        converted = None
    if converted is None:
        raise TableError(
            "INVALID_FILTER",
            f"{value!r} is not a valid {spec.type} for column {spec.name!r}.",
            {"column": spec.name, "op": op, "value": repr(value)[:200]},
        )
    return converted


def _integer(value: Any) -> int | float | None:
    number = _float(value)
    if number is None:
        return None
    if isinstance(value, int):
        return value
    return int(number) if number.is_integer() else number


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | decimal.Decimal):
        return float(value)
    if isinstance(value, str):
        return float(value.strip())
    return None


def _decimal(value: Any) -> decimal.Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | decimal.Decimal):
        return None
    result = decimal.Decimal(str(value).strip())
    return result if result.is_finite() else None


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, int | str) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return _date(dt.datetime.fromisoformat(value.strip()))
    return None


def _datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip())
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return None


def _duration(value: Any) -> dt.timedelta | None:
    """Seconds, a timedelta, ``"HH:MM[:SS]"`` or ``"1 day 2 hours"``-style text.

    Months and years have no fixed length, so they are refused rather than guessed.
    """
    if isinstance(value, dt.timedelta):
        return value
    if not isinstance(value, str):
        seconds = _float(value)
        return None if seconds is None else dt.timedelta(seconds=seconds)
    text = value.strip().lower()
    if re.fullmatch(r"-?\d+(?:\.\d+)?", text):
        return dt.timedelta(seconds=float(text))
    clock = re.fullmatch(r"(-?)(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?", text)
    if clock:
        sign, hours, minutes, secs = clock.groups()
        span = dt.timedelta(hours=int(hours), minutes=int(minutes), seconds=float(secs or 0))
        return -span if sign else span
    parts = re.findall(r"(-?\d+(?:\.\d+)?)\s*([a-z]+)", text)
    if not parts or re.sub(r"(-?\d+(?:\.\d+)?)\s*([a-z]+)", "", text).strip(" ,"):
        return None
    total = dt.timedelta()
    for amount, unit in parts:
        seconds_per = _UNIT_SECONDS.get(unit, _UNIT_SECONDS.get(unit.removesuffix("s")))
        if seconds_per is None:
            return None
        total += dt.timedelta(seconds=float(amount) * seconds_per)
    return total


_UNIT_SECONDS = {
    "microsecond": 1e-6,
    "us": 1e-6,
    "millisecond": 1e-3,
    "ms": 1e-3,
    "second": 1,
    "sec": 1,
    "s": 1,
    "minute": 60,
    "min": 60,
    "m": 60,
    "hour": 3600,
    "hr": 3600,
    "h": 3600,
    "day": 86400,
    "d": 86400,
    "week": 604800,
    "w": 604800,
}


_COERCE = {
    "integer": _integer,
    "float": _float,
    "decimal": _decimal,
    "boolean": _boolean,
    "string": _text,
    "category": _text,
    "date": _date,
    "datetime": _datetime,
    "duration": _duration,
}
