"""Scoring one answer against one question, by the rules of issue 15.

- A **number** matches within 1 % of the expected value or 0.01 absolute, whichever is
  looser; a number written as text in a cell ("3.50") counts as that number.
- A **string** matches case-insensitively (surrounding spaces ignored).
- A **date key** (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) matches a cell whose text
  starts with it at a date boundary: ``"2007"`` matches ``2007``, ``"2007-01-01"`` and
  ``"2007-01-01T00:00:00"``, not ``"20071"``.
- An expected key or scalar may be a list of **alternatives**; any one of them matching
  is enough (``["2007", "2007-01-01"]``).
- A **scalar** question passes if the answer has at most 5 rows and one of its cells
  matches.
- A **table** question passes if the answer has exactly as many rows as expected and
  each expected row can be given an answer row of its own (one to one) holding its keys
  and its value, each in a cell of its own.
- The **chart** passes when a ``"line"`` question gets a line or area mark and a
  ``"bar"`` question a bar mark; a question whose ``chart`` is null is not scored.

Everything here is plain Python over JSON-able cells, so the same rules score augury's
offline parser, a model behind it, or anything else that answers with rows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

MAX_SCALAR_ROWS = 5
REL_TOL = 0.01
ABS_TOL = 0.01
CHART_MARKS = {"line": frozenset({"line", "area"}), "bar": frozenset({"bar"})}

_DATE_KEY = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
_DATE_BOUNDARY = frozenset("-T ")


@dataclass(frozen=True)
class Verdict:
    """Whether an answer passed, and in words why not (empty when it passed)."""

    passed: bool
    reason: str = ""


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _as_number(cell: Any) -> float | None:
    """The cell as a finite number, if it is one or is text that reads as one."""
    if _is_number(cell):
        value = float(cell)
    elif isinstance(cell, str):
        try:
            value = float(cell.strip())
        except ValueError:
            return None
    else:
        return None
    return value if math.isfinite(value) else None


def _as_text(cell: Any) -> str:
    if isinstance(cell, datetime | date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def number_matches(cell: Any, expected: float) -> bool:
    value = _as_number(cell)
    if value is None:
        return False
    gap = abs(value - expected)
    return gap <= ABS_TOL or gap <= REL_TOL * abs(expected)


def date_matches(cell: Any, key: str) -> bool:
    """``key`` (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) is a prefix of the cell's text
    that ends where a date part ends."""
    if cell is None or isinstance(cell, bool):
        return False
    text = _as_text(cell).strip()
    if not text.startswith(key):
        return False
    return len(text) == len(key) or text[len(key)] in _DATE_BOUNDARY


def one_matches(cell: Any, expected: Any) -> bool:
    """One cell against one expected value (no alternatives)."""
    if cell is None or expected is None:
        return False
    if _is_number(expected):
        return number_matches(cell, float(expected))
    if isinstance(expected, str):
        if _DATE_KEY.fullmatch(expected) and date_matches(cell, expected):
            return True
        return _as_text(cell).strip().casefold() == expected.strip().casefold()
    raise TypeError(f"an expected value is a number or a string, not {expected!r}")


def cell_matches(cell: Any, expected: Any) -> bool:
    """One cell against an expected value or a list of alternatives."""
    if isinstance(expected, list):
        return any(one_matches(cell, alt) for alt in expected)
    return one_matches(cell, expected)


def _bipartite(n_left: int, n_right: int, fits: Callable[[int, int], bool]) -> bool:
    """Whether every left item gets a right item of its own (Kuhn's augmenting paths)."""
    if n_left > n_right:
        return False
    edges = [[j for j in range(n_right) if fits(i, j)] for i in range(n_left)]
    owner: list[int | None] = [None] * n_right

    def place(i: int, seen: set[int]) -> bool:
        for j in edges[i]:
            if j in seen:
                continue
            seen.add(j)
            current = owner[j]
            if current is None or place(current, seen):
                owner[j] = i
                return True
        return False

    return all(place(i, set()) for i in range(n_left))


def row_matches(answer_row: Sequence[Any], expected_row: Sequence[Any]) -> bool:
    """Every key and the value of ``expected_row`` in a cell of ``answer_row``, no two
    of them in the same cell."""
    return _bipartite(
        len(expected_row),
        len(answer_row),
        lambda i, j: cell_matches(answer_row[j], expected_row[i]),
    )


def score_scalar(rows: Sequence[Sequence[Any]], value: Any) -> Verdict:
    if len(rows) > MAX_SCALAR_ROWS:
        return Verdict(False, f"{len(rows)} rows for a single value (at most {MAX_SCALAR_ROWS})")
    if any(cell_matches(cell, value) for row in rows for cell in row):
        return Verdict(True)
    return Verdict(False, f"no cell matches {value!r}")


def score_table(rows: Sequence[Sequence[Any]], expected_rows: Sequence[Sequence[Any]]) -> Verdict:
    if len(rows) != len(expected_rows):
        return Verdict(False, f"{len(rows)} rows, expected {len(expected_rows)}")
    fits = _bipartite(
        len(expected_rows), len(rows), lambda i, j: row_matches(rows[j], expected_rows[i])
    )
    if fits:
        return Verdict(True)
    missing = [e for e in expected_rows if not any(row_matches(r, e) for r in rows)]
    if missing:
        return Verdict(False, f"no answer row for {missing[0]!r}")
    return Verdict(False, "expected rows share answer rows")


def score_answer(rows: Sequence[Sequence[Any]], expected: dict[str, Any]) -> Verdict:
    """The answer's rows against a question's ``expected`` object."""
    kind = expected.get("kind")
    if kind == "scalar":
        return score_scalar(rows, expected["value"])
    if kind == "table":
        return score_table(rows, expected["rows"])
    raise ValueError(f"unknown expected kind {kind!r}")


def mark_of(spec: dict[str, Any] | None) -> str | None:
    """The chart's main mark: the spec's own, else its first layer's."""
    if not spec:
        return None
    mark = spec.get("mark")
    if mark is None:
        layers = spec.get("layer") or []
        return mark_of(layers[0]) if layers else None
    if isinstance(mark, dict):
        mark = mark.get("type")
    return mark if isinstance(mark, str) else None


def score_chart(spec: dict[str, Any] | None, expected: str | None) -> bool | None:
    """Whether the chart fits (``None``: the question does not score its chart)."""
    if expected is None:
        return None
    return mark_of(spec) in CHART_MARKS[expected]
