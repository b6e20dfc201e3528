"""Asking a language model for the plan: the prompt, and the reply checked into a
:class:`~.plan.Plan`.

An OpenAI-compatible model may read a question in augury's place (an organization
configures one; the offline parser stays the default). It gets the same job the
parser has, no more: propose the structured plan as one JSON object. Its answer is
data, never code: :func:`plan_from_reply` takes the first JSON object of the reply,
checks its shape (:func:`~.plan.plan_from_dict`) and every column it names against the
dataset, and the plan then runs through the tables engine like any other, which quotes
names and binds values. Nothing the model writes is executed or reaches SQL as text.

The prompt (:func:`messages_for`) describes the plan's shape, the dataset's columns
with their types and ranges, and up to :data:`MAX_VALUES` values of each categorical
column, so the model can spell filter values as the data does. Its size is bounded
whatever the dataset: values share :data:`VALUE_BUDGET` characters and the column list
:data:`COLUMN_BUDGET` (all of a 500-column table's names and types fit; columns past
the budget are not listed, and the prompt says how many).

This module is pure (no network): the HTTP call is the server's
(``augury.analytics.providers``).

>>> ctx = sample_context()
>>> messages = messages_for("total units by region", ctx)
>>> [m["role"] for m in messages], messages[1]["content"]
(['system', 'user'], 'total units by region')
>>> '"region" (category) values: ["North", "South", "East", "West"]' in messages[0]["content"]
True
>>> from augury.engines.ask.plan import describe
>>> plan = '{"measures": [{"fn": "sum", "column": "units"}], "group_by": ["region"]}'
>>> describe(plan_from_reply("```json\\n" + plan + "\\n```", ctx))
'total of units by region'
>>> plan_from_reply('{"measures": [{"fn": "sum", "column": "unitz"}]}', ctx)
Traceback (most recent call last):
...
augury.engines.ask.parser.AskError: The model's plan names unitz, which is not a column of sales.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from augury.engines.tabular.errors import TableError
from augury.engines.tabular.query import OPS, UNITS

from .context import NUMERIC, TEXT, TIME, ColumnInfo, TableContext, describe_name
from .parser import AskError
from .plan import MEASURES, Plan, plan_from_dict

__all__ = [
    "COLUMN_BUDGET",
    "MAX_REPLY_CHARS",
    "MAX_VALUES",
    "SAMPLE_QUESTION",
    "VALIDATED",
    "VALUE_BUDGET",
    "confidence_of",
    "messages_for",
    "plan_from_reply",
    "sample_context",
]

MAX_VALUES = 30
"""Values listed per categorical column (its most frequent first)."""
MAX_VALUE_CHARS = 80
"""A longer value is left out rather than cut: a cut value would filter nothing."""
VALUE_BUDGET = 12_000
"""Characters of values in one prompt, all columns together; later columns list none."""
COLUMN_BUDGET = 40_000
"""Characters of the column list; columns past it are counted, not listed."""
MAX_REPLY_CHARS = 100_000
"""The most of a reply read for its JSON object."""
_MAX_STARTS = 50  # "{" positions tried for a JSON object

SAMPLE_QUESTION = "total units by region"
"""The question :func:`sample_context` is asked when a provider is tested."""

_NUMERIC_FNS = ("sum", "mean", "median", "std", "corr")
_DOUBT = 0.7  # what each doubtful part of a plan multiplies its confidence by
VALIDATED = 0.9
"""A model's plan whose every name exists and whose parts fit their columns' types:
sure of the reading as far as the data can tell, not more (the model may still have
misread the question, which nothing here can check)."""

_SYSTEM = """\
You turn a question about one data table into a query plan for augury. Reply with ONE \
JSON object, the plan, and nothing else: no prose, no code, no SQL.

The plan's shape (every field optional):
{{"measures": [{{"fn": FN, "column": COLUMN, "other": COLUMN}}],
 "group_by": [COLUMN],
 "bucket": {{"column": DATE_COLUMN, "unit": UNIT}},
 "filters": [{{"column": COLUMN, "op": OP, "value": VALUE}}],
 "order": [[OUTPUT_NAME, "asc" or "desc"]],
 "limit": NUMBER,
 "select": [COLUMN]}}
- measures: what to compute, once per group (or once over all kept rows). FN is one \
of: {fns}. "count" counts rows and takes no column; "distinct" counts distinct values; \
"std" is the sample standard deviation; "corr" is Pearson's correlation of "column" \
and "other" (only corr takes "other").
- group_by: columns whose combinations make the groups.
- bucket: groups by a date or time column cut into UNIT: one of {units}.
- filters: the rows kept. OP is one of: {ops}. "in" and "not_in" take a list, \
"between" a list [low, high] (both ends included), "is_null" and "not_null" no value. \
Dates are written "YYYY-MM-DD"; "in 2014" is ["ge", "2014-01-01"] and ["lt", "2015-01-01"].
- order: output columns to sort by. A measure's output name is "<fn>_<column>" \
("count" for count, "corr_<column>_<other>" for corr), a bucket's "<column>_<unit>", \
a group's its column name.
- limit: how many rows to keep ("top 5": order descending and limit 5).
- select: for a plain listing of rows (no measures, no groups): the columns to show.

Rules: use only the columns listed below, spelled exactly as listed. Write filter \
values as the data spells them (the listed values of a column). If the table cannot \
answer the question, reply {{"error": "why"}}.

Example: "average price by region in 2024, highest first" over columns date, region, \
price is {{"measures": [{{"fn": "mean", "column": "price"}}], "group_by": ["region"], \
"filters": [{{"column": "date", "op": "ge", "value": "2024-01-01"}}, {{"column": "date", \
"op": "lt", "value": "2025-01-01"}}], "order": [["mean_price", "desc"]]}}.

The table is {table} ({rows} rows). Its columns, as "name" (type), with ranges and \
values:
{columns}"""


def messages_for(question: str, context: TableContext) -> list[dict[str, str]]:
    """The chat messages asking a model for the plan of ``question``: the task, the
    plan's shape and the dataset's columns (system), then the question (user)."""
    system = _SYSTEM.format(
        fns=", ".join(MEASURES),
        units=", ".join(UNITS),
        ops=", ".join(OPS),
        table=json.dumps(context.name),
        rows=context.rows,
        columns=_column_lines(context.columns),
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": question}]


def _column_lines(columns: list[ColumnInfo]) -> str:
    lines: list[str] = []
    used = 0
    values_left = VALUE_BUDGET
    for i, col in enumerate(columns):
        line = f"- {json.dumps(col.name)} ({col.type}){_range(col)}"
        shown, values_left = _values(col, values_left)
        line += shown
        if used + len(line) > COLUMN_BUDGET:
            lines.append(f"({len(columns) - i} more columns not listed)")
            break
        lines.append(line)
        used += len(line) + 1
    if values_left <= 0:
        lines.append("(values of some categorical columns were left out for length)")
    return "\n".join(lines)


def _range(col: ColumnInfo) -> str:
    if (col.type in NUMERIC or col.type in TIME) and col.low is not None:
        return f" from {col.low} to {col.high}"
    return ""


def _values(col: ColumnInfo, left: int) -> tuple[str, int]:
    """`` values: [...]`` for a categorical column while the budget lasts."""
    if not (col.type in TEXT or col.type == "boolean") or not col.values or left <= 0:
        return "", left
    kept = [v for v in col.values if len(v) <= MAX_VALUE_CHARS][:MAX_VALUES]
    text = json.dumps(kept, ensure_ascii=False)
    if len(text) > left:
        return "", 0
    more = len(col.values) - len(kept)
    suffix = f" and {more} more" if more > 0 else ""
    return f" values: {text}{suffix}", left - len(text)


# --- the reply ------------------------------------------------------------------------------


def plan_from_reply(text: str, context: TableContext) -> Plan:
    """The plan a model's reply proposes, checked against ``context``.

    The reply's first JSON object is read (code fences and words around it are
    tolerated; ``{"plan": {...}}`` is unwrapped); its shape is checked by
    :func:`~.plan.plan_from_dict` and every column it names against the dataset.
    Raises :class:`~.parser.AskError`: ``unsupported`` for a reply that is not a plan
    (or the model's ``{"error": ...}``), ``no_column`` with the closest column names
    as ``candidates`` for a plan naming a column the dataset lacks.
    """
    data = _first_object(text)
    if data is None:
        raise _not_a_plan("it holds no JSON object")
    if set(data) == {"plan"} and isinstance(data["plan"], dict):
        data = data["plan"]
    if set(data) == {"error"}:
        raise _not_a_plan(f"the model declined: {str(data['error'])[:300]}")
    try:
        plan = plan_from_dict(data)
    except TableError as exc:
        raise _not_a_plan(exc.message) from exc
    _check_names(plan, context)
    return plan


def _not_a_plan(why: str) -> AskError:
    return AskError("unsupported", f"The model's answer was not a plan: {why}")


def _first_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text`` (fenced or not), or None."""
    if not isinstance(text, str):
        return None
    text = text[:MAX_REPLY_CHARS]
    decoder = json.JSONDecoder()
    start = text.find("{")
    for _ in range(_MAX_STARTS):
        if start < 0:
            return None
        try:
            found, _end = decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(found, dict):
            return found
        start = text.find("{", start + 1)
    return None


def _check_names(plan: Plan, context: TableContext) -> None:
    """Every column the plan reads exists; every order key is one of its outputs."""
    known = [c.name for c in context.columns]
    names = set(known)
    used: list[str] = []
    for m in plan.measures:
        used += [n for n in (m.column, m.other) if n is not None]
    used += plan.group_by + [f.column for f in plan.filters] + list(plan.select or [])
    if plan.bucket is not None:
        used.append(plan.bucket.column)
    for name in used:
        if name not in names:
            raise AskError(
                "no_column",
                f"The model's plan names {name}, which is not a column of {context.name}.",
                _closest(name, known),
                column=name,
            )
    outputs = _outputs(plan, known)
    for name, _direction in plan.order:
        if name not in outputs:
            raise AskError(
                "no_column",
                f"The model's plan orders by {name}, which is not a column of its answer.",
                _closest(name, outputs),
                column=name,
            )


def _outputs(plan: Plan, known: list[str]) -> list[str]:
    if not plan.grouped:
        return list(plan.select or known)
    bucket = [f"{plan.bucket.column}_{plan.bucket.unit}"] if plan.bucket else []
    return bucket + list(plan.group_by) + [m.name for m in plan.measures]


def _closest(name: str, known: list[str]) -> list[str]:
    """The names most like ``name`` (all of them, up to 20, when none is close)."""
    lowered = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=5, cutoff=0.5)
    return [lowered[c] for c in close] or known[:20]


# --- how sure -------------------------------------------------------------------------------


def confidence_of(plan: Plan, context: TableContext) -> tuple[float, list[str]]:
    """How far the data backs a model's (already checked) plan, 0..1, and why.

    :data:`VALIDATED` for a plan that fits the dataset, multiplied by 0.7 for each
    doubtful part: a measure that needs numbers over a column that holds none, a time
    bucket over a column that is not a date, an equality filter whose value is not
    among the values seen in its column (likely an empty answer)."""
    confidence = VALIDATED
    notes: list[str] = []
    by_name = {c.name: c for c in context.columns}
    for m in plan.measures:
        for name in (m.column, m.other) if m.fn in _NUMERIC_FNS else ():
            if name is not None and by_name[name].type not in NUMERIC:
                confidence *= _DOUBT
                notes.append(f"{m.fn} of {name}, which is not a number column")
    if plan.bucket is not None and by_name[plan.bucket.column].type not in TIME:
        confidence *= _DOUBT
        notes.append(f"{plan.bucket.column} is cut into {plan.bucket.unit}s but is not a date")
    for f in plan.filters:
        unseen = _unseen_values(f.op, f.value, by_name[f.column])
        if unseen:
            confidence *= _DOUBT
            notes.append(f"{', '.join(map(repr, unseen))} is not a value seen in {f.column}")
    return round(confidence, 3), notes


def _unseen_values(op: str, value: Any, col: ColumnInfo) -> list[str]:
    if op not in ("eq", "in") or col.type not in TEXT or col.values is None:
        return []
    wanted = value if isinstance(value, list) else [value]
    seen = {v.lower() for v in col.values}
    return [str(v) for v in wanted if str(v).lower() not in seen]


# --- a table to test a provider with --------------------------------------------------------


def sample_context() -> TableContext:
    """A tiny built-in table's context (sales: date, region, product, units, price), to
    check that a provider answers :data:`SAMPLE_QUESTION` with a plan, without reading a
    dataset."""
    columns = [
        _sample("date", "date", low="2024-01-01", high="2024-12-31"),
        _sample("region", "category", values=["North", "South", "East", "West"]),
        _sample("product", "category", values=["A", "B", "C"]),
        _sample("units", "integer", low=1, high=40),
        _sample("price", "float", low=9.5, high=20.25),
    ]
    return TableContext("sales", ["sale"], 120, columns, 120)


def _sample(
    name: str, type: str, *, values: list[str] | None = None, low: Any = None, high: Any = None
) -> ColumnInfo:
    words, content, unit = describe_name(name)
    distinct = len(values) if values else 0
    return ColumnInfo(name, type, words, content, unit, values, distinct, low, high)
