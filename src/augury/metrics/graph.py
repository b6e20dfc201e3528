"""Metric charts as Vega-Lite, drawn by vl-convert (the Vega renderer compiled into a
Python wheel: no browser, no network): ``GET /metrics/{id}/graph.png``, alert mails'
graphs and dashboards' metric tiles and exports all draw :func:`metric_spec`, in the
UI's colours (the value line in the accent colour, the learned band in teal, anomalies
as red spans marked at their start) and over exactly the range asked for.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import vl_convert

from augury.metrics.service import Series

ACCENT = "#4f46e5"
BAND = "#0d9488"
DANGER = "#c8333a"
MUTED = "#667085"
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
THEMES = {
    "light": {"background": "#ffffff", "text": "#1b2130", "muted": MUTED, "grid": "#eef0f4"},
    "dark": {"background": "#111827", "text": "#e5e9f2", "muted": "#a7afc0", "grid": "#253044"},
}
DRAW_LIMIT = 1e300
"""Values are drawn clipped to +-1e300: a scale's span (max - min) overflows for a
series that spans +-1e308, which is a legal float gauge."""


def themed(spec: dict, width: int, height: int, theme: str) -> dict:
    """``spec`` sized to ``width`` x ``height`` pixels in all (title and axes included),
    in the light or dark theme."""
    out = copy.deepcopy(spec)
    out.pop("$schema", None)
    out["width"], out["height"] = width, height
    out["autosize"] = {"type": "fit", "contains": "padding"}
    colors = THEMES[theme]
    config = out.setdefault("config", {})
    config["background"] = colors["background"]
    config["font"] = FONT
    config.setdefault("view", {})["stroke"] = None
    for part, keys in (
        ("axis", {"labelColor": colors["muted"], "titleColor": colors["text"]}),
        ("legend", {"labelColor": colors["muted"], "titleColor": colors["text"]}),
        ("title", {"color": colors["text"]}),
    ):
        config.setdefault(part, {}).update(keys)
    config["axis"]["gridColor"] = colors["grid"]
    return out


def metric_spec(
    series: dict, *, width: int, height: int, theme: str = "light", titled: bool = True
) -> dict:
    """A metric's series as Vega-Lite, drawn like the UI's charts: the value line in the
    accent colour, the learned band in teal, anomalies as red spans with a mark at
    their start; the x axis covers exactly ``series['start']``..``series['end']``."""
    ts = series.get("timestamps") or []
    lower, upper = series.get("lower"), series.get("upper")
    points = []
    for i, t in enumerate(ts):
        row: dict[str, Any] = {"t": t * 1000, "v": series["values"][i]}
        if lower is not None and upper is not None:
            row["lo"], row["hi"] = lower[i], upper[i]
        points.append(row)
    domain = [series["start"] * 1000, series["end"] * 1000]
    x = {
        "field": "t",
        "type": "temporal",
        "title": None,
        "scale": {"type": "utc", "domain": domain},
        "axis": {"format": _time_format(series["end"] - series["start"])},
    }
    layers: list[dict] = []
    spans = [
        {"s": a["start"] * 1000, "e": max(a["end"], a["start"] + 1) * 1000}
        for a in series.get("anomalies") or []
    ]
    if spans:
        layers.append(
            {
                "data": {"values": spans},
                "mark": {"type": "rect", "color": DANGER, "opacity": 0.1},
                "encoding": {"x": {**x, "field": "s"}, "x2": {"field": "e"}},
            }
        )
        layers.append(
            {
                "data": {"values": spans},
                "mark": {"type": "rule", "color": DANGER, "strokeWidth": 1.5},
                "encoding": {"x": {**x, "field": "s"}},
            }
        )
    if points and lower is not None:
        layers.append(
            {
                "data": {"values": points},
                "mark": {
                    "type": "area",
                    "color": BAND,
                    "opacity": 0.16,
                    "stroke": BAND,
                    "strokeOpacity": 0.45,
                    "strokeWidth": 0.75,
                },
                "encoding": {
                    "x": x,
                    "y": {"field": "lo", "type": "quantitative", "title": None},
                    "y2": {"field": "hi"},
                },
            }
        )
    if points:
        layers.append(
            {
                "data": {"values": points},
                "mark": {
                    "type": "line",
                    "color": ACCENT,
                    "strokeWidth": 1.75,
                    "point": {"color": ACCENT, "size": 24} if len(points) < 60 else False,
                },
                "encoding": {
                    "x": x,
                    "y": {
                        "field": "v",
                        "type": "quantitative",
                        "title": None,
                        "scale": {"zero": False},
                    },
                },
            }
        )
    else:
        layers.append(
            {
                "data": {"values": [{"t": domain[0]}, {"t": domain[1]}]},
                "mark": {"type": "point", "opacity": 0},
                "encoding": {"x": x},
            }
        )
        layers.append(
            {
                "data": {"values": [{}]},
                "mark": {"type": "text", "color": MUTED, "fontSize": 13},
                "encoding": {"text": {"value": "No data in this range"}},
            }
        )
    spec: dict[str, Any] = {"layer": layers}
    if titled:
        name = series.get("name") or ""
        title = name if len(name) <= 90 else name[:87] + "..."
        spec["title"] = {"text": title, "subtitle": series.get("resolution", ""), "anchor": "start"}
    return themed(spec, width, height, theme)


def _time_format(span_s: float) -> str:
    if span_s <= 2 * 86400:
        return "%H:%M"
    if span_s <= 90 * 86400:
        return "%b %d"
    return "%b %Y"


def _drawable(values):
    if values is None:
        return None
    return [
        None if v is None or not math.isfinite(v) else max(-DRAW_LIMIT, min(DRAW_LIMIT, v))
        for v in values
    ]


def render(
    series: Series,
    *,
    width: int = 900,
    height: int = 300,
    lower=None,
    upper=None,
    anomalies=(),
    **_ignored,
) -> bytes:
    """The series as PNG bytes, ``width`` x ``height`` pixels; with the learned band
    (``lower``/``upper``, aligned to the points) and the anomalies when given."""
    body = {
        "name": series.metric.name,
        "resolution": series.resolution,
        "start": series.start,
        "end": series.end,
        "timestamps": series.timestamps,
        "values": _drawable(series.values),
        "lower": _drawable(lower),
        "upper": _drawable(upper),
        "anomalies": list(anomalies),
    }
    spec = metric_spec(body, width=width, height=height)
    return vl_convert.vegalite_to_png(spec, scale=1)
