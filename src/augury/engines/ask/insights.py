"""Facts about an answer, computed from its rows: never a sentence the numbers do not hold.

Each :class:`Insight` carries the numbers it states (``numbers``, unrounded) and a
sentence with the same numbers written for people. What is computed depends on the
answer's shape (:func:`~augury.engines.ask.chart.shape_of`, the same reading the chart
uses):

* a time series (a time key and a measure): the trend, a Theil-Sen slope per period
  (least squares past :data:`_THEIL_SEN_UP_TO` points) whose direction is claimed only
  when the Mann-Kendall test (Kendall's tau against time) gives p < 0.05 or the series
  moved the same way every period, with the change first to last; the peak and the
  trough with their dates; the largest rise and fall period over period and the
  compound rate per period;
* groups (one or two category keys and a measure): the top and bottom groups with
  their share of the total when the measure adds up (a count or a sum), the gap
  between the first two, how concentrated the total is, and outlying groups by a
  robust z-score (the median and the median absolute deviation);
* a single number: the value with the plan's own words for it;
* a correlation (a ``corr`` measure, or rows of two numeric columns): its strength and
  direction in words from |r|, with r.

Deterministic and cheap (a few milliseconds for a thousand rows): it runs on every
answer.

>>> from augury.engines.ask.plan import Measure, Plan
>>> plan = Plan(measures=[Measure("count")], group_by=["island"])
>>> facts = insights_for(plan, ["island", "count"], ["category", "integer"],
...                      [["Biscoe", 168], ["Dream", 124], ["Torgersen", 52]])
>>> facts[0].text
'Biscoe has the highest number of rows: 168 (48.8% of the total).'
>>> facts[0].numbers
{'value': 168.0, 'share': 48.837209302325576, 'total': 344.0, 'group': 'Biscoe'}
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

from .chart import Shape, column_title, shape_of
from .plan import Measure, Plan, describe

__all__ = ["Insight", "format_number", "format_percent", "insights_for"]

_THEIL_SEN_UP_TO = 200  # pairwise slopes grow as n²; past this, least squares
_SIGNIFICANT = 0.05
_OUTLIER_Z = 3.5  # Iglewicz and Hoaglin's cut for the modified z-score
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ADDITIVE = ("count", "sum")
_R_BANDS = ((0.1, "no"), (0.3, "a weak"), (0.5, "a moderate"), (0.7, "a strong"))


@dataclass
class Insight:
    """One fact: its ``kind`` (``trend``, ``peak``, ``top`` …), a sentence, the numbers
    in it, and the column it is about."""

    kind: str
    text: str
    numbers: dict[str, float | str]
    column: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def insights_for(
    plan: Plan, columns: list[str], types: list[str], rows: list[list[Any]], *, limit: int = 6
) -> list[Insight]:
    """At most ``limit`` facts about the answer, the most telling first."""
    shape = shape_of(plan, columns, types, rows)
    found: list[Insight] = []
    if shape.n_rows == 1 and len(shape.measures) == 1 and not shape.keys:
        found = _single(plan, columns, rows, shape.measures[0])
    elif shape.n_rows == 1 and len(shape.measures) == 1 and len(shape.keys) == 1:
        found = _one_group(plan, columns, rows, shape)
    elif shape.time and shape.measures and len(shape.keys) == 1:
        found = _series(plan, columns, rows, shape)
    elif shape.time and shape.measures and len(shape.keys) == 2:
        found = _series_by_group(plan, columns, rows, shape)
    elif shape.grouped and shape.measures and 1 <= len(shape.keys) <= 2 and shape.n_rows >= 2:
        found = _groups(plan, columns, rows, shape)
    elif not shape.grouped and len(shape.keys) == 1 and len(shape.measures) == 1:
        found = _groups(plan, columns, rows, shape)  # labelled values: "top 5 cars by power"
    if not shape.grouped and len(shape.measures) == 2 and len(shape.keys) <= 1:
        found += _correlation_of_rows(plan, columns, rows, shape)
    return found[: max(limit, 0)]


def format_number(value: float) -> str:
    """A number for people: thousands separators, decimals by size.

    >>> [format_number(v) for v in (3700.662, 748.4, 31.7633, 0.96287)]
    ['3,701', '748.4', '31.76', '0.963']
    >>> format_number(12000.0), format_number(-2.5), format_number(0.000123)
    ('12,000', '-2.5', '0.000123')
    """
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 0.01:
        decimals = 1 if size >= 100 else 2 if size >= 1 else 3
        return f"{value:,.{decimals}f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def format_percent(value: float, *, signed: bool = False) -> str:
    """A percentage (``value`` in percent): one decimal, none past 100.

    >>> format_percent(48.837), format_percent(-3.21, signed=True), format_percent(250.0)
    ('48.8%', '-3.2%', '250%')
    """
    sign = "+" if signed and value > 0 else ""
    if abs(value) >= 100:
        return f"{sign}{value:,.0f}%"
    return f"{sign}{value:.1f}%" if abs(value) >= 0.1 or value == 0 else f"{sign}{value:.2g}%"


# ---- a single number ----------------------------------------------------------------


def _single(plan: Plan, columns: list[str], rows: list[list[Any]], name: str) -> list[Insight]:
    value = _number(rows[0][columns.index(name)])
    if value is None:
        return []
    measure = _measure_named(plan, name)
    if measure is not None and measure.fn == "corr":
        a, b = (column_title(plan, c or "").lower() for c in (measure.column, measure.other))
        return [_correlation(value, a, b, name, None)]
    words = describe(plan) if plan.measures else column_title(plan, name).lower()
    text = f"{_capital(words)}: {format_number(value)}."
    return [Insight("value", text, {"value": value}, name)]


def _one_group(
    plan: Plan, columns: list[str], rows: list[list[Any]], shape: Shape
) -> list[Insight]:
    """One group's value; the answer to "which has the most" when the plan ranked the
    groups by the measure and kept the first."""
    name, key = shape.measures[0], shape.keys[0]
    value = _number(rows[0][columns.index(name)])
    if value is None:
        return []
    label = _label(rows[0][columns.index(key)])
    what = column_title(plan, name).lower()
    numbers: dict[str, float | str] = {"value": value, "group": label}
    if plan.limit == 1 and plan.order and plan.order[0][0] == name:
        word = "highest" if plan.order[0][1] == "desc" else "lowest"
        text = f"{label} has the {word} {what}: {format_number(value)}."
        return [Insight("top" if word == "highest" else "bottom", text, numbers, name)]
    text = f"{_capital(what)} for {label}: {format_number(value)}."
    return [Insight("value", text, numbers, name)]


# ---- time series --------------------------------------------------------------------


def _series(plan: Plan, columns: list[str], rows: list[list[Any]], shape: Shape) -> list[Insight]:
    name = _main_measure(plan, shape)
    times, values = _points(columns, rows, shape.time or "", name)
    if len(values) < 2:
        return []
    unit = shape.unit or _step_word(times, shape.time_kind)
    what = column_title(plan, name).lower()
    if np.ptp(values) == 0:
        text = f"{_capital(what)} is {format_number(values[0])} in every {unit}."
        return [Insight("constant", text, {"value": values[0], "periods": len(values)}, name)]
    trend = _trend(times, values, unit, what, name, shape.time_kind)
    found = [trend, *_extremes(times, values, unit, what, name, shape.time_kind)]
    found += _growth(times, values, unit, what, name, shape.time_kind)
    # A compound rate summarises sustained growth; over a seasonal or flat series
    # (monthly temperatures) it would describe nothing that happened.
    if trend is None or trend.numbers["direction"] == "flat":
        found = [f for f in found if f is None or f.kind != "compound_growth"]
    return [f for f in found if f is not None]


def _trend(
    times: list[Any], values: np.ndarray, unit: str, what: str, name: str, kind: str | None
) -> Insight | None:
    n = len(values)
    if n < 3:
        return None
    x = np.arange(n, dtype=float)
    slope = _theil_sen(x, values) if n <= _THEIL_SEN_UP_TO else float(np.polyfit(x, values, 1)[0])
    tau, p_value = stats.kendalltau(x, values)
    first, last = float(values[0]), float(values[-1])
    numbers: dict[str, float | str] = {
        "slope": slope,
        "p_value": float(p_value),
        "tau": float(tau),
        "first": first,
        "last": last,
        "change": last - first,
        "periods": n,
        "from": str(times[0]),
        "to": str(times[-1]),
    }
    span = f"from {format_number(first)} in {_when(times[0], unit, kind)} to "
    span += f"{format_number(last)} in {_when(times[-1], unit, kind)}"
    if first != 0:
        numbers["change_pct"] = (last - first) / abs(first) * 100
        span += f" ({format_percent(float(numbers['change_pct']), signed=True)})"
    subject = _capital(what)
    steps = np.diff(values)
    # Too few points for the test to reach significance (four give p = 0.08 at best),
    # a series that moved the same way every period still did rise or fall.
    every = bool(np.all(steps > 0) or np.all(steps < 0))
    if (p_value >= _SIGNIFICANT and not every) or slope == 0:
        numbers["direction"] = "flat"
        text = f"{subject} shows no clear trend over {n} {unit}s ({_p(p_value)}), {span}."
        return Insight("trend", text, numbers, name)
    numbers["direction"] = "rising" if slope > 0 else "falling"
    if p_value < _SIGNIFICANT:
        claim = f"is {numbers['direction']}"
        evidence = f" ({_p(p_value)})"
    else:
        claim = f"{'rose' if slope > 0 else 'fell'} every {unit}"
        evidence = ""
    text = f"{subject} {claim}: {_signed(slope)} per {unit} on average{evidence}, {span}."
    return Insight("trend", text, numbers, name)


def _extremes(
    times: list[Any], values: np.ndarray, unit: str, what: str, name: str, kind: str | None
) -> list[Insight]:
    top, low = int(np.argmax(values)), int(np.argmin(values))
    found = []
    for label, i, word in (("peak", top, "highest"), ("trough", low, "lowest")):
        when = _when(times[i], unit, kind)
        text = f"{_capital(what)} was {word} in {when}: {format_number(values[i])}."
        found.append(Insight(label, text, {"value": float(values[i]), "at": str(times[i])}, name))
    return found


def _growth(
    times: list[Any], values: np.ndarray, unit: str, what: str, name: str, kind: str | None
) -> list[Insight]:
    if len(values) < 3:
        return []
    found = []
    steps = np.diff(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = np.where(values[:-1] != 0, steps / np.abs(values[:-1]) * 100, np.nan)
    for label, i in (("rise", int(np.argmax(steps))), ("fall", int(np.argmin(steps)))):
        step = float(steps[i])
        if (label == "rise") != (step > 0):
            continue
        numbers: dict[str, float | str] = {"change": step, "from": str(times[i])}
        numbers["to"] = str(times[i + 1])
        text = (
            f"The largest {label} was {_signed(step)} from {_when(times[i], unit, kind)} "
            f"to {_when(times[i + 1], unit, kind)}"
        )
        if math.isfinite(rates[i]):
            numbers["change_pct"] = float(rates[i])
            text += f" ({format_percent(float(rates[i]), signed=True)})"
        found.append(Insight(label, text + ".", numbers, name))
    first, last = float(values[0]), float(values[-1])
    if first > 0 and last > 0:
        rate = ((last / first) ** (1 / (len(values) - 1)) - 1) * 100
        text = (
            f"{_capital(what)} changed by {format_percent(rate, signed=True)} "
            f"per {unit} compounded over {len(values) - 1} {unit}s."
        )
        found.append(Insight("compound_growth", text, {"rate_pct": rate}, name))
    return found


def _series_by_group(
    plan: Plan, columns: list[str], rows: list[list[Any]], shape: Shape
) -> list[Insight]:
    """Several series (a time key and a group key): which grew and which shrank most."""
    name = _main_measure(plan, shape)
    group = next(k for k in shape.keys if k != shape.time)
    g, t, v = columns.index(group), columns.index(shape.time or ""), columns.index(name)
    series: dict[str, list[tuple[Any, float]]] = {}
    for row in rows:
        value = _number(row[v])
        if value is not None and row[t] is not None:
            series.setdefault(_label(row[g]), []).append((row[t], value))
    changes = []
    for label, points in series.items():
        points.sort(key=lambda p: p[0])
        if len(points) >= 2 and points[0][1] != 0:
            (t0, first), (t1, last) = points[0], points[-1]
            changes.append((label, (last - first) / abs(first) * 100, first, last, t0, t1))
    if len(changes) < 2:
        return []
    changes.sort(key=lambda c: c[1])
    rise, fall = changes[-1], changes[0]
    what = column_title(plan, name).lower()
    unit = shape.unit or _step_word(
        sorted({r[t] for r in rows if r[t] is not None}), shape.time_kind
    )
    found = []
    for kind, (label, pct, first, last, t0, t1) in (("rise", rise), ("fall", fall)):
        if (kind == "rise") != (pct > 0):
            continue
        start, end = _when(t0, unit, shape.time_kind), _when(t1, unit, shape.time_kind)
        text = (
            f"{label}: {what} went from {format_number(first)} in {start}"
            f" to {format_number(last)} in {end} "
            f"({format_percent(pct, signed=True)}), the "
            f"largest {kind} of the {len(changes)} groups."
        )
        numbers: dict[str, float | str] = {"group": label, "change_pct": pct, "first": first}
        numbers["last"] = last
        found.append(Insight(f"group_{kind}", text, numbers, group))
    return found


# ---- groups -------------------------------------------------------------------------


def _groups(plan: Plan, columns: list[str], rows: list[list[Any]], shape: Shape) -> list[Insight]:
    name = _main_measure(plan, shape)
    keys = [columns.index(k) for k in shape.keys]
    v = columns.index(name)
    pairs = [
        (", ".join(_label(row[k]) for k in keys), value)
        for row in rows
        if (value := _number(row[v])) is not None
    ]
    if len(pairs) < 2:
        return []
    labels = [p[0] for p in pairs]
    values = np.array([p[1] for p in pairs], dtype=float)
    what = column_title(plan, name).lower()
    if np.ptp(values) == 0:
        text = f"All {len(pairs)} groups have the same {what}: {format_number(float(values[0]))}."
        return [Insight("constant", text, {"value": float(values[0]), "groups": len(pairs)}, name)]
    measure = _measure_named(plan, name)
    total: float | None = float(values.sum())
    adds_up = measure is not None and measure.fn in _ADDITIVE and bool(np.all(values >= 0))
    if not adds_up or not total:
        total = None
    # A limited answer holds only some groups: its total is theirs, not the dataset's.
    of_total = "of the total" if plan.limit is None else f"of the total of these {len(pairs)}"
    order = np.argsort(-values, kind="stable")
    found: list[Insight | None] = [
        _rank("top", labels, values, int(order[0]), what, name, total, of_total),
        *_outliers(labels, values, what, name),
        _gap(labels, values, order, what, name),
    ]
    if len(pairs) >= 3:
        found.append(_rank("bottom", labels, values, int(order[-1]), what, name, total, of_total))
    if total is not None and len(pairs) >= 5:
        found.append(_concentration(values, order, total, what, name))
    return [f for f in found if f is not None]


def _rank(
    kind: str,
    labels: list[str],
    values: np.ndarray,
    i: int,
    what: str,
    name: str,
    total: float | None,
    of_total: str,
) -> Insight:
    word = "highest" if kind == "top" else "lowest"
    value = float(values[i])
    tied = [label for label, v in zip(labels, values, strict=True) if v == value]
    numbers: dict[str, float | str] = {"value": value}
    if len(tied) == 1:
        text = f"{labels[i]} has the {word} {what}: {format_number(value)}"
    else:
        names = (
            f"{len(tied)} groups" if len(tied) > 4 else ", ".join(tied[:-1]) + " and " + tied[-1]
        )
        text = f"{names} share the {word} {what}: {format_number(value)}"
        numbers["tied"] = len(tied)
    if total is not None:
        numbers["share"] = value / total * 100
        numbers["total"] = total
        each = " each" if len(tied) > 1 else ""
        text += f" ({format_percent(value / total * 100)} {of_total}{each})"
    numbers["group"] = labels[i]
    return Insight(kind, text + ".", numbers, name)


def _gap(
    labels: list[str], values: np.ndarray, order: np.ndarray, what: str, name: str
) -> Insight | None:
    first, second = int(order[0]), int(order[1])
    gap = float(values[first] - values[second])
    if gap <= 0:
        return None
    only = "only " if gap < 0.01 * abs(float(values[second])) else ""
    text = f"{labels[first]} leads {labels[second]} by {only}{format_number(gap)} {what}"
    numbers: dict[str, float | str] = {"gap": gap, "first": labels[first], "second": labels[second]}
    if values[second] > 0:
        numbers["gap_pct"] = gap / float(values[second]) * 100
        text += f" ({format_percent(float(numbers['gap_pct']))} more)"
    return Insight("gap", text + ".", numbers, name)


def _concentration(
    values: np.ndarray, order: np.ndarray, total: float, what: str, name: str
) -> Insight:
    k = 3 if len(values) >= 6 else 2
    share = float(values[order[:k]].sum()) / total * 100
    text = f"The top {k} of {len(values)} groups hold {format_percent(share)} of the total {what}."
    return Insight("concentration", text, {"top_k": k, "groups": len(values), "share": share}, name)


def _outliers(labels: list[str], values: np.ndarray, what: str, name: str) -> list[Insight]:
    """Groups far from the others: |modified z| > 3.5 (Iglewicz and Hoaglin), the
    median absolute deviation falling back to the mean one when most groups tie."""
    if len(values) < 5:
        return []
    median = float(np.median(values))
    deviation = np.abs(values - median)
    mad = float(np.median(deviation))
    scale = 1.4826 * mad if mad > 0 else 1.2533 * float(deviation.mean())
    if scale == 0:
        return []
    z = (values - median) / scale
    found = []
    for i in np.argsort(-np.abs(z), kind="stable")[:2]:
        if abs(z[i]) <= _OUTLIER_Z:
            break
        side = "above" if z[i] > 0 else "below"
        text = (
            f"{labels[i]} stands out at {format_number(float(values[i]))}, far {side} the "
            f"median group ({format_number(median)} {what}; robust z-score {z[i]:.1f})."
        )
        numbers: dict[str, float | str] = {"value": float(values[i]), "median": median}
        numbers.update(z_score=float(z[i]), group=labels[i])
        found.append(Insight("outlier", text, numbers, name))
    return found


# ---- correlation --------------------------------------------------------------------


def _correlation(r: float, a: str, b: str, column: str | None, n: int | None) -> Insight:
    strength = next((words for cut, words in _R_BANDS if abs(r) < cut), "a very strong")
    direction = "" if strength == "no" else (" positive" if r > 0 else " negative")
    text = f"{a} and {b} show {strength}{direction} linear correlation (r = {r:.2f}"
    text += f", {n:,} rows)." if n is not None else ")."
    numbers: dict[str, float | str] = {"r": r, "strength": strength.split(" ", 1)[-1]}
    if n is not None:
        numbers["rows"] = n
    return Insight("correlation", _capital(text), numbers, column)


def _correlation_of_rows(
    plan: Plan, columns: list[str], rows: list[list[Any]], shape: Shape
) -> list[Insight]:
    i, j = columns.index(shape.measures[0]), columns.index(shape.measures[1])
    a, b = (column_title(plan, m).lower() for m in shape.measures[:2])
    pairs = [
        (x, y)
        for row in rows
        if (x := _number(row[i])) is not None and (y := _number(row[j])) is not None
    ]
    if len(pairs) < 3:
        return []
    xy = np.array(pairs, dtype=float)
    if np.ptp(xy[:, 0]) == 0 or np.ptp(xy[:, 1]) == 0:
        return []
    r = float(np.corrcoef(xy[:, 0], xy[:, 1])[0, 1])
    return [_correlation(r, a, b, None, len(pairs))]


# ---- helpers ------------------------------------------------------------------------


def _theil_sen(x: np.ndarray, y: np.ndarray) -> float:
    """The median of the slopes between every two points (Sen 1968): robust to a few
    wild points, where least squares follows them."""
    i, j = np.triu_indices(len(x), k=1)
    return float(np.median((y[j] - y[i]) / (x[j] - x[i])))


def _points(
    columns: list[str], rows: list[list[Any]], time: str, name: str
) -> tuple[list[Any], np.ndarray]:
    t, v = columns.index(time), columns.index(name)
    points = sorted(
        (row[t], value)
        for row in rows
        if row[t] is not None and (value := _number(row[v])) is not None
    )
    return [p[0] for p in points], np.array([p[1] for p in points], dtype=float)


def _main_measure(plan: Plan, shape: Shape) -> str:
    """The measure the plan orders by, else the first."""
    for name, _ in plan.order:
        if name in shape.measures:
            return name
    return shape.measures[0]


def _measure_named(plan: Plan, name: str) -> Measure | None:
    return next((m for m in plan.measures if m.name == name), None)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _label(value: Any) -> str:
    return "(missing)" if value is None else str(value)


def _step_word(times: list[Any], kind: str | None) -> str:
    """The step of a date series without a bucket, from its median gap."""
    if kind == "year":
        return "year"
    try:
        days = np.array([np.datetime64(str(t)[:19]) for t in times], dtype="datetime64[s]")
    except ValueError:
        return "period"
    gap = float(np.median(np.diff(days).astype(float))) / 86400 if len(days) > 1 else 0
    for word, low, high in (("hour", 0.04, 0.05), ("day", 0.9, 1.1), ("week", 6.5, 7.5)):
        if low <= gap <= high:
            return word
    if 27 <= gap <= 32:
        return "month"
    if 89 <= gap <= 93:
        return "quarter"
    return "year" if 360 <= gap <= 367 else "period"


def _when(value: Any, unit: str, kind: str | None) -> str:
    """A time key as people say it: "Mar 2014", "2014 Q1", "2014"."""
    if kind == "year":
        return str(value)
    text = str(value)
    if len(text) < 10 or text[4] != "-":
        return text
    year, month = text[:4], int(text[5:7])
    if unit == "year":
        return year
    if unit == "quarter":
        return f"{year} Q{(month - 1) // 3 + 1}"
    if unit == "month":
        return f"{_MONTHS[month - 1]} {year}"
    if unit == "week":
        return f"the week of {text[:10]}"
    if unit == "hour":
        return text[:13].replace("T", " ") + ":00"
    return text[:10] if kind == "date" or text[10:].strip("T0:") == "" else text.replace("T", " ")


def _signed(value: float) -> str:
    return ("+" if value > 0 else "") + format_number(value)


def _p(value: float) -> str:
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
