"""The structured plan a question becomes, whoever read it (the parser or a model).

A plan is what augury runs and shows: the rows kept (filters), the groups (columns and
a time bucket), the measures, the order and the limit. It maps one to one onto the
tables engine's :class:`~augury.engines.tabular.query.Query`, so it runs through the
same compiler: column names are checked against the dataset and quoted, values are
bound as parameters, and nothing a person or a model wrote reaches SQL as text.

A plan travels as JSON (the API returns it, the UI edits it, a model proposes it):
:meth:`Plan.to_dict` and :func:`plan_from_dict`, which refuses anything malformed with
a :class:`~augury.engines.tabular.errors.TableError` (``INVALID_PLAN``) before a
dataset is read.

>>> plan = plan_from_dict({"measures": [{"fn": "mean", "column": "body_mass_g"}],
...                        "group_by": ["species"], "order": [["mean_body_mass_g", "desc"]]})
>>> plan.to_query().aggregates
[Aggregate(fn='mean', column='body_mass_g', alias=None, other=None)]
>>> describe(plan)
'mean of body_mass_g by species, highest mean_body_mass_g first'
>>> plan_from_dict({"measures": [{"fn": "sum"}]})
Traceback (most recent call last):
...
augury.engines.tabular.errors.TableError: sum needs a column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from augury.engines.tabular.errors import TableError
from augury.engines.tabular.query import OPS, UNITS, Aggregate, Bucket, Filter, Query

MEASURES = ("count", "sum", "mean", "min", "max", "median", "distinct", "std", "corr")
"""What a measure computes: ``count`` rows (no column), ``distinct`` values, the
usual statistics, ``std`` (sample standard deviation) and ``corr`` (Pearson's r of
``column`` and ``other``)."""

MAX_LIMIT = 10_000
MAX_ITEMS = 50  # filters, groups, measures or order keys in one plan

_WORDS = {
    "count": "number of rows",
    "sum": "total",
    "mean": "mean",
    "min": "minimum",
    "max": "maximum",
    "median": "median",
    "distinct": "number of distinct",
    "std": "standard deviation",
    "corr": "correlation",
}
_OP_WORDS = {
    "eq": "is",
    "ne": "is not",
    "lt": "<",
    "le": "≤",
    "gt": ">",
    "ge": "≥",
    "in": "is one of",
    "not_in": "is none of",
    "between": "is between",
    "contains": "contains",
    "starts_with": "starts with",
    "ends_with": "ends with",
    "is_null": "is missing",
    "not_null": "is present",
}


@dataclass(frozen=True)
class Measure:
    """One computed value per group, named ``alias`` or ``<fn>_<column>``."""

    fn: str
    column: str | None = None
    other: str | None = None  # corr's second column
    alias: str | None = None

    @property
    def name(self) -> str:
        if self.alias:
            return self.alias
        if self.fn == "corr":
            return f"corr_{self.column}_{self.other}"
        return self.fn if self.column is None else f"{self.fn}_{self.column}"


@dataclass
class Plan:
    """What a question asks, as a query over one dataset.

    Without measures, groups or a bucket it lists rows (``select``: their columns, all
    by default). ``order`` names output columns (a measure's :attr:`Measure.name`, a
    group column or the bucket's ``<column>_<unit>``).
    """

    measures: list[Measure] = field(default_factory=list)
    group_by: list[str] = field(default_factory=list)
    bucket: Bucket | None = None
    filters: list[Filter] = field(default_factory=list)
    order: list[tuple[str, str]] = field(default_factory=list)
    limit: int | None = None
    select: list[str] | None = None

    @property
    def grouped(self) -> bool:
        return bool(self.measures or self.group_by or self.bucket)

    def to_query(self) -> Query:
        return Query(
            select=self.select,
            filters=list(self.filters),
            group_by=list(self.group_by),
            aggregates=[Aggregate(m.fn, m.column, m.alias, m.other) for m in self.measures],
            bucket=self.bucket,
            order=list(self.order),
            limit=self.limit,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "measures": [
                {k: v for k, v in vars(m).items() if v is not None} for m in self.measures
            ],
            "group_by": list(self.group_by),
            "bucket": None
            if self.bucket is None
            else {"column": self.bucket.column, "unit": self.bucket.unit},
            "filters": [{"column": f.column, "op": f.op, "value": f.value} for f in self.filters],
            "order": [[name, direction] for name, direction in self.order],
            "limit": self.limit,
            "select": None if self.select is None else list(self.select),
        }


def plan_from_dict(data: Any) -> Plan:
    """A plan from its JSON form, its shape checked (column names are checked when it
    runs, against the dataset). Raises ``INVALID_PLAN``."""
    if not isinstance(data, dict):
        raise _invalid("A plan is a JSON object.")
    unknown = set(data) - {"measures", "group_by", "bucket", "filters", "order", "limit", "select"}
    if unknown:
        raise _invalid(f"Unknown plan fields: {sorted(unknown)}.")
    measures = [_measure(m) for m in _items(data, "measures")]
    group_by = [_name(g, "group_by") for g in _items(data, "group_by")]
    bucket = _bucket(data.get("bucket"))
    filters = [_filter(f) for f in _items(data, "filters")]
    order = [_order(o) for o in _items(data, "order")]
    limit = data.get("limit")
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT
    ):
        raise _invalid(f"limit is a whole number from 1 to {MAX_LIMIT}.")
    select = data.get("select")
    if select is not None:
        select = [_name(s, "select") for s in _items(data, "select")]
    return Plan(measures, group_by, bucket, filters, order, limit, select)


def describe(plan: Plan) -> str:
    """The plan in words, for a person to check how their question was read."""
    if plan.measures:
        parts = [", ".join(_measure_words(m) for m in plan.measures)]
    elif plan.grouped:
        parts = ["the groups"]
    else:
        parts = ["rows" if plan.select is None else "rows of " + ", ".join(plan.select)]
    keys = ([f"{plan.bucket.unit} of {plan.bucket.column}"] if plan.bucket else []) + list(
        plan.group_by
    )
    if keys:
        parts.append("by " + " and ".join(keys))
    if plan.filters:
        parts.append("where " + " and ".join(_filter_words(f) for f in plan.filters))
    text = " ".join(parts)
    for name, direction in plan.order:
        text += f", {'highest' if direction == 'desc' else 'lowest'} {name} first"
    if plan.limit is not None:
        text += f", {plan.limit} row{'s' if plan.limit != 1 else ''}"
    return text


def _measure_words(m: Measure) -> str:
    if m.fn == "count":
        return _WORDS["count"]
    if m.fn == "corr":
        return f"correlation of {m.column} and {m.other}"
    return f"{_WORDS[m.fn]} of {m.column}"


def _filter_words(f: Filter) -> str:
    if f.op in ("is_null", "not_null"):
        return f"{f.column} {_OP_WORDS[f.op]}"
    value = f.value
    if f.op == "between" and isinstance(value, list | tuple) and len(value) == 2:
        return f"{f.column} is between {value[0]} and {value[1]}"
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    return f"{f.column} {_OP_WORDS.get(f.op, f.op)} {value}"


def _items(data: dict, key: str) -> list:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid(f"{key} is a list.")
    if len(value) > MAX_ITEMS:
        raise _invalid(f"{key} has at most {MAX_ITEMS} items.")
    return value


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 1000:
        raise _invalid(f"{what} names columns by their names.")
    return value


def _measure(data: Any) -> Measure:
    if not isinstance(data, dict) or set(data) - {"fn", "column", "other", "alias"}:
        raise _invalid("A measure is {fn, column, other, alias}.")
    fn = data.get("fn")
    if fn not in MEASURES:
        raise _invalid(f"A measure's fn is one of {', '.join(MEASURES)}.")
    column = data.get("column")
    other = data.get("other")
    alias = data.get("alias")
    if fn != "count" and column is None:
        raise _invalid(f"{fn} needs a column.")
    if (fn == "corr") != (other is not None):
        raise _invalid("corr, and only corr, takes a second column (other).")
    for value, what in ((column, "column"), (other, "other"), (alias, "alias")):
        if value is not None:
            _name(value, what)
    return Measure(fn, column, other, alias)


def _bucket(data: Any) -> Bucket | None:
    if data is None:
        return None
    if not isinstance(data, dict) or set(data) != {"column", "unit"}:
        raise _invalid("bucket is {column, unit}.")
    if data["unit"] not in UNITS:
        raise _invalid(f"A bucket's unit is one of {', '.join(UNITS)}.")
    return Bucket(_name(data["column"], "bucket"), data["unit"])


def _filter(data: Any) -> Filter:
    if not isinstance(data, dict) or not {"column", "op"} <= set(data) <= {"column", "op", "value"}:
        raise _invalid("A filter is {column, op, value}.")
    if data["op"] not in OPS:
        raise _invalid(f"A filter's op is one of {', '.join(OPS)}.")
    value = data.get("value")
    if not (value is None or isinstance(value, str | int | float | bool | list)):
        raise _invalid("A filter's value is a string, a number, a boolean or a list.")
    if isinstance(value, list) and len(value) > 2 and data["op"] not in ("in", "not_in"):
        raise _invalid(f"{data['op']} takes one value.")
    return Filter(_name(data["column"], "filter"), data["op"], value)


def _order(data: Any) -> tuple[str, str]:
    if not isinstance(data, list | tuple) or len(data) != 2 or data[1] not in ("asc", "desc"):
        raise _invalid('An order key is [name, "asc" or "desc"].')
    return _name(data[0], "order"), data[1]


def _invalid(message: str) -> TableError:
    return TableError("INVALID_PLAN", message)
