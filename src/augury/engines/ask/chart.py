"""The Vega-Lite chart that fits an answer: its shape picks the mark.

An answer is a table (``columns``, logical ``types``, JSON-able ``rows``) and the
:class:`~augury.engines.ask.plan.Plan` that produced it. The plan says which columns
are group keys (the time bucket first, then ``group_by``) and which are measures, so
the chart never guesses from names what the parser already knew; a row listing (a
plan without measures) is read by its types instead. :func:`shape_of` is that
reading, shared with :mod:`~augury.engines.ask.insights`.

=========================================  ==========================================
shape                                      chart
=========================================  ==========================================
a time key (bucket, date, integer year)    ``line`` (``area`` when asked); one line
                                           per group or measure when there are more
one category key, one measure              ``bar``, sorted as the plan orders it,
                                           horizontal for long or many labels
a count or total over few categories,      ``arc``, when asked for: a pie, or share
asked as shares                            words (:func:`chart_type_asked`)
two keys, one measure                      bars grouped (or stacked) by the second key
two numeric columns without a key          ``scatter``
one row, one measure                       ``number``: a big-number card
anything else                              ``table``
=========================================  ==========================================

Every spec is self-contained Vega-Lite v5: the rows inline as ``data.values`` (at most
:data:`MAX_CHART_ROWS`), axis titles in words, a tooltip with every field, and the
theme in ``config``. ``usermeta`` tells the UI what it holds: ``chart_type``,
``rows`` (shown) and ``total_rows``, ``render`` (``"vega-lite"``, or ``"table"``:
draw the answer's rows as an HTML table, the spec's text grid being a fallback for
exports), and ``note`` when a requested chart type or theme could not apply or rows
were left out.

>>> from augury.engines.ask.plan import Measure, Plan
>>> plan = Plan(measures=[Measure("mean", "body_mass_g")], group_by=["species"],
...             order=[("mean_body_mass_g", "desc")])
>>> kind, spec = chart_spec(plan, ["species", "mean_body_mass_g"], ["category", "float"],
...                         [["Gentoo", 5076.0], ["Chinstrap", 3733.1], ["Adelie", 3700.7]])
>>> kind, spec["mark"]["type"], spec["encoding"]["x"]["sort"], spec["encoding"]["y"]["title"]
('bar', 'bar', '-y', 'Average body mass g')
>>> spec["data"]["values"][0]
{'species': 'Gentoo', 'mean_body_mass_g': 5076.0}
>>> chart_spec(plan, ["species", "mean_body_mass_g"], ["category", "float"],
...            [["Gentoo", 5076.0]], chart_type="line")[1]["usermeta"]["note"]
'A line chart needs a time or numeric axis; showing a number instead.'
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .plan import Measure, Plan, describe

__all__ = [
    "CHART_TYPES",
    "MAX_CHART_ROWS",
    "MAX_TABLE_ROWS",
    "SCHEMA",
    "THEMES",
    "Shape",
    "chart_spec",
    "chart_type_asked",
    "column_title",
    "shape_of",
]

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
CHART_TYPES = ("auto", "line", "area", "bar", "arc", "scatter", "number", "table")
THEMES = ("light", "dark")
MAX_CHART_ROWS = 5_000
"""Rows a chart carries inline; more make a spec too heavy to send and to draw."""
MAX_TABLE_ROWS = 200
"""Rows the text-grid fallback of a table carries (the UI draws the real table)."""

NUMERIC = ("integer", "float", "decimal")
_TIME_TYPES = ("date", "datetime")
_ALIASES = {"pie": "arc", "donut": "arc", "column": "bar", "point": "scatter", "kpi": "number"}
_NAMES = {
    "line": "line chart",
    "area": "area chart",
    "bar": "bar chart",
    "arc": "pie chart",
    "scatter": "scatter plot",
    "number": "number",
    "table": "table",
}
_FEW_SLICES = 12  # more slices than this make a pie unreadable
_LONG_LABEL = 12  # characters: longer category labels turn bars horizontal
_MANY_BARS = 15
_OFFSET_GROUPS = 8  # a second key with more values stacks instead of side by side
_POINTS_UP_TO = 60  # a line marks its points while they are few
_FN_WORDS = {
    "sum": "Total",
    "mean": "Average",
    "min": "Minimum",
    "max": "Maximum",
    "median": "Median",
    "distinct": "Distinct",
    "std": "Standard deviation of",
}
# Dates travel as "YYYY-MM-DD", which browsers parse as UTC midnight, so their time
# units are UTC; datetimes travel without a zone and parse as local time.
_TIME_UNITS = {
    "hour": "yearmonthdatehours",
    "day": "yearmonthdate",
    "week": "yearmonthdate",
    "month": "yearmonth",
    "quarter": "yearquarter",
    "year": "year",
}
_TIME_FORMATS = {
    "hour": "%Y-%m-%d %H:00",
    "day": "%Y-%m-%d",
    "week": "%Y-%m-%d",
    "month": "%b %Y",
    "quarter": "%Y Q%q",
    "year": "%Y",
}
_THEME_COLORS: dict[str, dict[str, Any]] = {
    "light": {
        "background": "#ffffff",
        "text": "#1b2130",
        "muted": "#667085",
        "grid": "#e4e7ee",
        "domain": "#cfd4de",
        "mark": "#4f46e5",
        "category": [
            "#4f46e5",
            "#d97706",
            "#0891b2",
            "#c8333a",
            "#12805c",
            "#7c3aed",
            "#db2777",
            "#2563c9",
            "#65a30d",
            "#667085",
        ],
    },
    "dark": {
        "background": "#111827",
        "text": "#f3f4f6",
        "muted": "#a7afc0",
        "grid": "#1d2636",
        "domain": "#4b5563",
        "mark": "#818cf8",
        "category": [
            "#818cf8",
            "#fbbf24",
            "#22d3ee",
            "#f87171",
            "#34d399",
            "#a78bfa",
            "#f472b6",
            "#60a5fa",
            "#a3e635",
            "#9ca3af",
        ],
    },
}


@dataclass(frozen=True)
class Shape:
    """How an answer's columns read: group keys, numeric measures, the time axis.

    ``others`` are value columns that are not numbers (the minimum of a date, a text
    column listed); ``time_kind`` is ``"date"``, ``"datetime"`` or ``"year"`` (an
    integer key of years) and ``unit`` the time key's step when it is known.
    """

    keys: tuple[str, ...]
    measures: tuple[str, ...]
    others: tuple[str, ...]
    numeric_keys: tuple[str, ...]
    time: str | None
    time_kind: str | None
    unit: str | None
    grouped: bool
    n_rows: int


def shape_of(plan: Plan, columns: list[str], types: list[str], rows: list[list[Any]]) -> Shape:
    """Read an answer's columns as keys and measures, from its plan where it has one.

    >>> from augury.engines.ask.plan import Plan
    >>> shape = shape_of(Plan(), ["year", "count"], ["integer", "integer"],
    ...                  [[2007, 110], [2008, 114]])
    >>> shape.keys, shape.measures, shape.time, shape.time_kind
    (('year',), ('count',), 'year', 'year')
    """
    n_keys = len(columns) - len(plan.measures)
    if plan.grouped and n_keys >= 0:
        keys, values = list(columns[:n_keys]), list(columns[n_keys:])
    else:
        keys, values = [], []
        for i, (name, kind) in enumerate(zip(columns, types, strict=True)):
            numeric = kind in NUMERIC and not _year_like(name, kind, rows, i)
            (values if numeric else keys).append(name)
    kinds = dict(zip(columns, types, strict=True))
    measures = [v for v in values if kinds[v] in NUMERIC]
    others = [v for v in values if kinds[v] not in NUMERIC]
    time, time_kind, unit = _time_key(plan, columns, types, rows, keys)
    numeric_keys = [k for k in keys if kinds[k] in NUMERIC and k != time]
    return Shape(
        tuple(keys),
        tuple(measures),
        tuple(others),
        tuple(numeric_keys),
        time,
        time_kind,
        unit,
        plan.grouped,
        len(rows),
    )


def column_title(plan: Plan, name: str) -> str:
    """A column's name in words: ``mean_body_mass_g`` is "Average body mass g".

    >>> from augury.engines.ask.plan import Bucket, Measure, Plan
    >>> plan = Plan([Measure("count")], bucket=Bucket("date", "month"))
    >>> column_title(plan, "count"), column_title(plan, "date_month")
    ('Number of rows', 'Month of date')
    """
    measure = _measure_named(plan, name)
    if measure is not None and not measure.alias:
        if measure.fn == "count":
            return "Number of rows"
        if measure.fn == "corr":
            return f"Correlation of {_words(measure.column)} and {_words(measure.other)}"
        return f"{_FN_WORDS[measure.fn]} {_words(measure.column)}"
    if plan.bucket is not None and name == plan.bucket.name:
        return f"{plan.bucket.unit.capitalize()} of {_words(plan.bucket.column)}"
    text = _words(name)
    return text[:1].upper() + text[1:]


_ASKED = (
    ("arc", r"\b(pie|donut|doughnut)\b|\bbreakdown\b"),
    ("area", r"\barea\s+(chart|plot|graph)\b"),
    ("line", r"\bline\s+(chart|plot|graph)\b"),
    ("scatter", r"\bscatter\s*(plot|chart|graph)?\b"),
    ("bar", r"\b(bar|column)\s+(chart|plot|graph)\b|\bhistogram\b"),
    ("table", r"\bas\s+a\s+table\b|\btable\s+of\b"),
)
# Share words ask for a pie only over groups: "the proportion of rainy days" is a number.
_SHARES = r"\bshares?\s+of\b|\bproportions?\b|\bpercent(ages?)?\s+of\b"
_OVER_GROUPS = r"\b(by|each|per|across|among)\b"


def chart_type_asked(question: str) -> str:
    """The chart type a question names ("as a pie", "share of", "line chart"), or
    ``"auto"``; for the caller to pass to :func:`chart_spec` when the person chose none.

    Shares are asked with words around them ("share of days", "breakdown"): a column
    called ``market_share`` alone asks for nothing.

    >>> chart_type_asked("share of days by weather"), chart_type_asked("market share by region")
    ('arc', 'auto')
    >>> chart_type_asked("monthly sales as a line chart"), chart_type_asked("sales by region")
    ('line', 'auto')
    """
    text = question.lower()
    if re.search(_SHARES, text) and re.search(_OVER_GROUPS, text):
        return "arc"
    return next((kind for kind, pattern in _ASKED if re.search(pattern, text)), "auto")


def chart_spec(
    plan: Plan,
    columns: list[str],
    types: list[str],
    rows: list[list[Any]],
    *,
    chart_type: str = "auto",
    title: str | None = None,
    theme: str = "light",
) -> tuple[str, dict[str, Any]]:
    """The chart type that fits the answer (or the one asked for, where it can apply)
    and its Vega-Lite v5 spec, the rows inline."""
    notes: list[str] = []
    shape = shape_of(plan, columns, types, rows)
    kind = _ALIASES.get(chart_type, chart_type)
    auto = _auto(shape)
    if kind == "auto":
        kind = auto
    elif kind not in CHART_TYPES:
        notes.append(f"Unknown chart type {chart_type!r}; showing a {_NAMES[auto]} instead.")
        kind = auto
    else:
        reason = _misfit(kind, shape, plan, columns, rows)
        if reason:
            notes.append(f"{reason}; showing a {_NAMES[auto]} instead.")
            kind = auto
    if theme not in THEMES:
        notes.append(f"Unknown theme {theme!r}; using light.")
        theme = "light"
    cap = MAX_TABLE_ROWS if kind == "table" else MAX_CHART_ROWS
    shown = rows[:cap]
    if len(rows) > cap:
        notes.append(f"The chart shows the first {cap:,} of {len(rows):,} rows.")
    ctx = _Context(plan, columns, types, shown, shape)
    body = _BUILDERS[kind](ctx)
    spec: dict[str, Any] = {
        "$schema": SCHEMA,
        "title": title if title is not None else _default_title(plan, shape),
        "data": {"values": [dict(zip(columns, row, strict=True)) for row in shown]},
        **body,
        "config": _config(theme),
        "usermeta": {
            "chart_type": kind,
            "render": "table" if kind == "table" else "vega-lite",
            "rows": len(shown),
            "total_rows": len(rows),
        },
    }
    if notes:
        spec["usermeta"]["note"] = " ".join(notes)
    return kind, spec


def _auto(shape: Shape) -> str:
    k, m, n = len(shape.keys), len(shape.measures), shape.n_rows
    if n == 0:
        return "table"
    if n == 1 and m == 1 and k <= 1 and not shape.others:
        return "number"
    if n == 1 and k + m + len(shape.others) == 1:
        return "number"
    if shape.others:
        return "table"
    if k == 0:
        return "scatter" if m == 2 and n > 1 else "table"
    if m == 0:
        return "table"
    if not shape.grouped:
        if k == 1 and m == 1:
            return "line" if shape.time else "bar"
        if k == 1 and m == 2 and not shape.time:
            return "scatter"
        if k == 2 and m == 1 and shape.time:
            return "line"  # rows of several series: a date, a symbol, a price
        return "table"
    if k == 1 or (k == 2 and m == 1):
        return "line" if shape.time else "bar"
    return "table"


def _misfit(
    kind: str, shape: Shape, plan: Plan, columns: list[str], rows: list[list[Any]]
) -> str | None:
    """Why ``kind`` cannot draw this answer, or ``None`` when it can."""
    k, m = len(shape.keys), len(shape.measures)
    if kind == "table":
        return None
    if kind == "number":
        return None if shape.n_rows == 1 else "A number card shows a one-row answer"
    if kind in ("bar", "line", "area") and (k == 0 or m == 0 or not rows):
        return f"A {_NAMES[kind]} needs a group and a numeric measure"
    if kind in ("bar", "line", "area") and (k > 2 or (k == 2 and m > 1)):
        return f"A {_NAMES[kind]} shows one measure over two groups, or measures over one"
    if kind in ("line", "area") and not (shape.time or shape.keys[0] in shape.numeric_keys):
        return f"A {_NAMES[kind]} needs a time or numeric axis"
    if kind == "arc":
        values = [r[columns.index(shape.measures[0])] for r in rows] if m else []
        return _arc_misfit(shape, plan, values)
    if kind == "scatter" and not (m >= 2 or (m and (shape.numeric_keys or shape.time))):
        return "A scatter plot needs two numeric columns"
    return None


def _arc_misfit(shape: Shape, plan: Plan, values: list[Any]) -> str | None:
    if len(shape.keys) != 1 or len(shape.measures) != 1:
        return "A pie chart needs one group and one measure"
    measure = _measure_named(plan, shape.measures[0])
    if shape.grouped and (measure is None or measure.fn not in ("count", "sum")):
        return "A pie chart shows shares of a count or a total"
    if shape.n_rows > _FEW_SLICES:
        return f"A pie chart shows at most {_FEW_SLICES} slices"
    if any(isinstance(v, int | float) and v < 0 for v in values):
        return "A pie chart cannot show negative values"
    return None


@dataclass
class _Context:
    """What the builders read: the answer and its shape, with encodings at hand."""

    plan: Plan
    columns: list[str]
    types: list[str]
    rows: list[list[Any]]
    shape: Shape

    def values(self, name: str) -> list[Any]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]

    def kind(self, name: str) -> str:
        return self.types[self.columns.index(name)]

    def title(self, name: str) -> str:
        return column_title(self.plan, name)

    def measure(self, name: str, **extra: Any) -> dict[str, Any]:
        return {"field": _field(name), "type": "quantitative", "title": self.title(name), **extra}

    def key(self, name: str, *, axis_time: bool = True) -> dict[str, Any]:
        """A key's encoding: temporal on a line, ordinal or nominal elsewhere."""
        if name == self.shape.time:
            return self._time(name, "temporal" if axis_time else "ordinal")
        kind = "ordinal" if self.kind(name) in NUMERIC else "nominal"
        return {"field": _field(name), "type": kind, "title": self.title(name)}

    def _time(self, name: str, vl_type: str) -> dict[str, Any]:
        unit = self.shape.unit or ("day" if self.shape.time_kind == "date" else None)
        enc: dict[str, Any] = {"title": self.title(name), "type": vl_type}
        if self.shape.time_kind == "year":
            enc["field"] = _field(_year_field(name))
        else:
            enc["field"] = _field(name)
        if unit is not None:
            utc = "utc" if self.shape.time_kind in ("date", "year") else ""
            enc["timeUnit"] = utc + _TIME_UNITS[unit]
            enc["axis"] = {"format": _TIME_FORMATS[unit]}
        return enc

    def transforms(self) -> list[dict[str, Any]]:
        """The year-as-date field a year key needs on a time axis."""
        if self.shape.time_kind != "year" or self.shape.time is None:
            return []
        source = "datum[" + json.dumps(self.shape.time) + "]"
        return [{"calculate": f"utc({source}, 0, 1)", "as": _year_field(self.shape.time)}]

    def tooltip(self) -> list[dict[str, Any]]:
        tips = []
        for name, kind in zip(self.columns, self.types, strict=True):
            tip: dict[str, Any] = {"field": _field(name), "title": self.title(name)}
            if name == self.shape.time and self.shape.time_kind == "year":
                tip["type"] = "ordinal"
            elif kind in _TIME_TYPES:
                tip.update(self._time_tip(name, kind))
            elif kind in NUMERIC and name not in self.shape.keys:
                tip["type"] = "quantitative"
                tip["format"] = number_format(self.values(name))
            else:
                tip["type"] = "nominal"
            tips.append(tip)
        return tips

    def _time_tip(self, name: str, kind: str) -> dict[str, Any]:
        unit = self.shape.unit if name == self.shape.time else None
        if unit is None and kind == "datetime":
            return {"type": "temporal", "format": "%Y-%m-%d %H:%M:%S"}
        unit = unit or "day"
        prefix = "utc" if kind == "date" else ""
        return {
            "type": "temporal",
            "timeUnit": prefix + _TIME_UNITS[unit],
            "format": _TIME_FORMATS[unit],
        }

    def ordered_by(self, name: str) -> str | None:
        """``"asc"``/``"desc"`` when the plan's first order key is ``name``."""
        if self.plan.order and self.plan.order[0][0] == name:
            return self.plan.order[0][1]
        return None


def number_format(values: list[Any]) -> str:
    """A d3 number format that shows ``values`` with sensible decimals.

    >>> number_format([3, 12000]), number_format([3700.66, 5076.02]), number_format([0.963])
    (',d', ',.0f', ',.3f')
    """
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if all(v.is_integer() for v in numbers):
        return ",d"
    top = max(abs(v) for v in numbers)
    if top >= 1000:
        return ",.0f"
    if top >= 100:
        return ",.1f"
    if top >= 1:
        return ",.2f"
    return ",.3f" if top >= 0.01 else ".3~g"


def _bar(ctx: _Context) -> dict[str, Any]:
    shape = ctx.shape
    main = next((k for k in shape.keys if k != shape.time), shape.keys[0])
    second = next((k for k in shape.keys if k != main), None)
    folded = len(shape.measures) > 1
    labels = [str(v) for v in ctx.values(main)]
    horizontal = (
        max((len(s) for s in labels), default=0) > _LONG_LABEL or len(set(labels)) > _MANY_BARS
    )
    key_ch, value_ch = ("y", "x") if horizontal else ("x", "y")
    value = _folded_value(ctx) if folded else ctx.measure(shape.measures[0])
    key = ctx.key(main, axis_time=False)
    direction = None if folded else ctx.ordered_by(shape.measures[0])
    key["sort"] = None if direction is None else ("-" if direction == "desc" else "") + value_ch
    if not horizontal:
        key["axis"] = {**key.get("axis", {}), "labelAngle": 0 if len(set(labels)) <= 6 else -45}
    encoding: dict[str, Any] = {key_ch: key, value_ch: value, "tooltip": ctx.tooltip()}
    side_by_side = False
    if folded:
        encoding["color"] = _folded_color(ctx)
        side_by_side = True
        encoding[key_ch + "Offset"] = {"field": _FOLD_NAME, "type": "nominal"}
    elif second is not None:
        encoding["color"] = ctx.key(second, axis_time=False)
        side_by_side = len(set(map(str, ctx.values(second)))) <= _OFFSET_GROUPS
        if side_by_side:
            encoding[key_ch + "Offset"] = {"field": _field(second), "type": "nominal"}
    body: dict[str, Any] = {"mark": {"type": "bar"}, "encoding": encoding}
    if horizontal:
        body["height"] = {"step": 14, "for": "offset"} if side_by_side else {"step": 22}
    else:
        body["width"] = "container"
        body["height"] = 320
    return _with_transforms(ctx, body, folded)


def _line(ctx: _Context, mark: str = "line") -> dict[str, Any]:
    shape = ctx.shape
    axis = shape.time or shape.keys[0]
    other = next((k for k in shape.keys if k != axis), None)
    folded = len(shape.measures) > 1
    if axis == shape.time:
        x = ctx.key(axis)
    else:
        x = {"field": _field(axis), "type": "quantitative", "title": ctx.title(axis)}
        x["scale"] = {"zero": False}
    y = _folded_value(ctx) if folded else ctx.measure(shape.measures[0])
    if mark == "line":
        y["scale"] = {"zero": False}
    encoding: dict[str, Any] = {"x": x, "y": y, "tooltip": ctx.tooltip()}
    if folded:
        encoding["color"] = _folded_color(ctx)
    elif other is not None:
        encoding["color"] = ctx.key(other, axis_time=False)
    spec_mark: dict[str, Any] = {"type": mark}
    if mark == "line":
        spec_mark["point"] = shape.n_rows <= _POINTS_UP_TO
    elif "color" in encoding:
        spec_mark["opacity"] = 0.5
        encoding["y"]["stack"] = None
    else:
        spec_mark["line"] = True
    body = {"mark": spec_mark, "encoding": encoding, "width": "container", "height": 320}
    return _with_transforms(ctx, body, folded)


def _area(ctx: _Context) -> dict[str, Any]:
    return _line(ctx, "area")


def _arc(ctx: _Context) -> dict[str, Any]:
    key, measure = ctx.shape.keys[0], ctx.shape.measures[0]
    source = "datum[" + json.dumps(measure) + "]"
    tooltip = ctx.tooltip() + [{"field": "__share", "type": "quantitative", "title": "Share"}]
    tooltip[-1]["format"] = ".1%"
    return {
        "transform": [
            {"joinaggregate": [{"op": "sum", "field": _field(measure), "as": "__total"}]},
            {"calculate": f"{source} / datum.__total", "as": "__share"},
        ],
        "mark": {"type": "arc"},
        "encoding": {
            "theta": {**ctx.measure(measure), "stack": True},
            "color": {**ctx.key(key, axis_time=False), "sort": None},
            "tooltip": tooltip,
        },
        "view": {"stroke": None},
    }


def _scatter(ctx: _Context) -> dict[str, Any]:
    shape = ctx.shape
    if len(shape.measures) >= 2:
        x_name, y_name = shape.measures[0], shape.measures[1]
        x = ctx.measure(x_name, scale={"zero": False})
    else:
        x_name, y_name = (*shape.numeric_keys, shape.time or "")[0], shape.measures[0]
        x = ctx.key(x_name) if x_name == shape.time else ctx.measure(x_name)
        x["scale"] = {"zero": False}
    encoding: dict[str, Any] = {
        "x": x,
        "y": ctx.measure(y_name, scale={"zero": False}),
        "tooltip": ctx.tooltip(),
    }
    labels = [k for k in shape.keys if k not in (x_name, shape.time) and ctx.kind(k) not in NUMERIC]
    if labels and len(set(map(str, ctx.values(labels[0])))) <= 10:
        encoding["color"] = ctx.key(labels[0], axis_time=False)
    mark = {"type": "point", "filled": True}
    body = {"mark": mark, "encoding": encoding, "width": "container", "height": 320}
    return _with_transforms(ctx, body, False)


def _number(ctx: _Context) -> dict[str, Any]:
    """A big-number card: the value large, what it is beneath it.

    Asked "which group has the most" (one row of a plan ordered by its measure and
    limited to 1), the group is the answer and its value the caption.
    """
    shape, plan = ctx.shape, ctx.plan
    value = (list(shape.measures) + list(shape.others) + list(shape.keys))[0]
    caption = ctx.title(value)
    key = shape.keys[0] if shape.keys and value not in shape.keys else None
    if key is None and plan.measures:
        caption = describe(plan)
        caption = caption[:1].upper() + caption[1:]
    if key is not None:
        shown = ctx.values(key)[0]
        if plan.limit == 1 and plan.order and plan.order[0][0] == value:
            word = "highest" if plan.order[0][1] == "desc" else "lowest"
            caption = f"{ctx.title(key)} with the {word} {caption.lower()}: {_plain(ctx, value)}"
            value = key
        else:
            caption = f"{caption}, {ctx.title(key).lower()} {shown}"
    text: dict[str, Any] = {"field": _field(value), "title": ctx.title(value)}
    if ctx.kind(value) in NUMERIC and value not in shape.keys:
        text.update(type="quantitative", format=number_format(ctx.values(value)))
    else:
        text["type"] = "nominal"
    big = {"type": "text", "fontSize": 48, "fontWeight": "bold", "align": "center"}
    small = {"type": "text", "fontSize": 14, "dy": 40, "align": "center"}
    return {
        "width": "container",
        "height": 140,
        "layer": [
            {"mark": big, "encoding": {"text": text, "tooltip": ctx.tooltip()}},
            {"mark": small, "encoding": {"text": {"value": caption}}},
        ],
        "view": {"stroke": None},
    }


def _plain(ctx: _Context, name: str) -> str:
    value = ctx.values(name)[0]
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _table(ctx: _Context) -> dict[str, Any]:
    """A text grid: the rows numbered down, the columns across (a fallback: the UI
    draws ``render: "table"`` answers as an HTML table of the answer's rows)."""
    return {
        "transform": [
            {"window": [{"op": "row_number", "as": "__row"}]},
            {"fold": [_field(c) for c in ctx.columns], "as": ["__column", "__value"]},
        ],
        "mark": {"type": "text", "align": "left", "limit": 160},
        "encoding": {
            "x": {
                "field": "__column",
                "type": "nominal",
                "sort": list(ctx.columns),
                "title": None,
                "axis": {"orient": "top", "labelAngle": 0, "domain": False, "ticks": False},
            },
            "y": {"field": "__row", "type": "ordinal", "axis": None},
            "text": {"field": "__value", "type": "nominal"},
        },
        "view": {"stroke": None},
    }


_BUILDERS = {
    "bar": _bar,
    "line": _line,
    "area": _area,
    "arc": _arc,
    "scatter": _scatter,
    "number": _number,
    "table": _table,
}

_FOLD_NAME, _FOLD_VALUE = "__measure", "__value"


def _folded_value(ctx: _Context) -> dict[str, Any]:
    """Several measures on one axis: their values folded into one field."""
    return {
        "field": _FOLD_VALUE,
        "type": "quantitative",
        "title": " and ".join(ctx.title(m) for m in ctx.shape.measures),
    }


def _folded_color(ctx: _Context) -> dict[str, Any]:
    words = {m: ctx.title(m) for m in ctx.shape.measures}
    return {
        "field": _FOLD_NAME,
        "type": "nominal",
        "title": None,
        "sort": list(ctx.shape.measures),
        "legend": {"labelExpr": f"{json.dumps(words)}[datum.label] || datum.label"},
    }


def _with_transforms(ctx: _Context, body: dict[str, Any], folded: bool) -> dict[str, Any]:
    transforms = ctx.transforms()
    if folded:
        fields = [_field(m) for m in ctx.shape.measures]
        transforms.append({"fold": fields, "as": [_FOLD_NAME, _FOLD_VALUE]})
    return {"transform": transforms, **body} if transforms else body


def _default_title(plan: Plan, shape: Shape) -> str:
    values = shape.measures + shape.others
    if not shape.grouped or not values:
        text = describe(plan)
        return text[:1].upper() + text[1:]
    text = " and ".join(column_title(plan, v) for v in values)
    if shape.keys:
        text += " by " + " and ".join(column_title(plan, k).lower() for k in shape.keys)
    return text


def _config(theme: str) -> dict[str, Any]:
    c = _THEME_COLORS[theme]
    axis = {
        "labelColor": c["muted"],
        "titleColor": c["text"],
        "gridColor": c["grid"],
        "domainColor": c["domain"],
        "tickColor": c["domain"],
        "labelFontSize": 11,
        "titleFontSize": 12,
        "titleFontWeight": "normal",
    }
    return {
        "background": c["background"],
        "font": "system-ui, -apple-system, 'Segoe UI', sans-serif",
        "view": {"stroke": None},
        "axis": axis,
        "legend": {"labelColor": c["muted"], "titleColor": c["text"]},
        "title": {"color": c["text"], "fontSize": 14, "anchor": "start"},
        "mark": {"color": c["mark"]},
        "range": {"category": c["category"]},
        "text": {"color": c["text"]},
        "arc": {"stroke": c["background"]},
    }


def _measure_named(plan: Plan, name: str) -> Measure | None:
    return next((m for m in plan.measures if m.name == name), None)


def _words(name: str | None) -> str:
    """``body_mass_g`` as "body mass g", ``petalLength`` as "petal length"."""
    text = (name or "").replace("_", " ").replace("-", " ").strip() or "value"
    split = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    return text if split == text else split[:1] + split[1:].lower()


def _field(name: str) -> str:
    """A column name as a Vega-Lite field: dots and brackets would read as nesting."""
    for char in ("\\", ".", "[", "]"):
        name = name.replace(char, "\\" + char)
    return name


def _year_field(name: str) -> str:
    return f"__{name}_date"


def _year_like(name: str, kind: str, rows: list[list[Any]], index: int) -> bool:
    """An integer column of years ("year", "fiscal_year") with values 1800-2200."""
    if kind != "integer" or "year" not in name.lower():
        return False
    values = [row[index] for row in rows if row[index] is not None]
    return bool(values) and all(isinstance(v, int) and 1800 <= v <= 2200 for v in values)


def _time_key(
    plan: Plan, columns: list[str], types: list[str], rows: list[list[Any]], keys: list[str]
) -> tuple[str | None, str | None, str | None]:
    kinds = dict(zip(columns, types, strict=True))
    if plan.bucket is not None and plan.bucket.name in keys:
        name = plan.bucket.name
        return name, "date" if kinds[name] == "date" else "datetime", plan.bucket.unit
    for name in keys:
        if kinds[name] in _TIME_TYPES:
            return name, kinds[name], None
    for name in keys:
        if _year_like(name, kinds[name], rows, columns.index(name)):
            return name, "year", "year"
    return None, None, None
