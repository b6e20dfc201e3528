"""What a tile shows, computed when it is drawn (the UI asks tile by tile, so a slow
chart never holds the others back; exports and scheduled mails ask for every tile).

Metric, number and anomaly tiles follow the dashboard's time range and dimension
filters: the filters are ANDed to the tile's expression (``(cpu*) AND host="web-1"``),
and a tile's own ``range`` overrides the dashboard's. A metric or number tile shows the
first metric its expression matches (by name), and says how many matched.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from augury import clock
from augury.analytics import service as analytics
from augury.anomalies import service as anomalies
from augury.anomalies.service import AnomalyFilter
from augury.config import Settings
from augury.dashboards.models import Dashboard
from augury.dashboards.service import settings_of
from augury.errors import ValidationFailed
from augury.forecasts import service as forecasts
from augury.metrics import service as metrics
from augury.store.pagination import PageParams

RANGES = {
    "1h": 3600,
    "6h": 6 * 3600,
    "24h": 86400,
    "7d": 7 * 86400,
    "30d": 30 * 86400,
    "90d": 90 * 86400,
}
MAX_CHART_ROWS = 1000
HISTORY_HORIZONS = 3
"""A forecast tile shows this many horizons of history before the forecast."""


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def expression_with(expression: str | None, filters: dict[str, str]) -> str:
    """The tile's expression ANDed with the dashboard's dimension filters."""
    parts = [f"({expression})"] if expression and expression.strip() else []
    parts += [f"{key}={_quoted(value)}" for key, value in sorted(filters.items())]
    return " AND ".join(parts)


def window(
    dashboard: Dashboard, tile: dict, start: float | None, end: float | None
) -> tuple[float, float]:
    """``[start, end)`` of a tile: as asked, else its own range (or the dashboard's)
    up to now."""
    if start is not None and end is not None:
        if end <= start:
            raise ValidationFailed(
                "'from' must be before 'to'.", details={"from": start, "to": end}
            )
        return start, end
    span = RANGES[tile.get("range") or settings_of(dashboard)["range"]]
    stop = end if end is not None else clock.now().timestamp()
    return (start if start is not None else stop - span), stop


def tile_data(
    session: Session,
    settings: Settings,
    dashboard: Dashboard,
    tile: dict,
    start: float | None = None,
    end: float | None = None,
) -> dict:
    """What ``tile`` of ``dashboard`` shows now: ``{tile_id, type, ...}``, the fields
    depending on the type (``chart_data``; ``series``; ``value``; ``anomalies``;
    ``forecast``; ``text``)."""
    kind = tile["type"]
    out: dict[str, Any] = {"tile_id": tile["id"], "type": kind, "title": tile.get("title")}
    if kind == "markdown":
        out["text"] = tile.get("text", "")
        return out
    if kind == "chart":
        chart = analytics.get_chart(
            session=session, org_id=dashboard.org_id, chart_id=tile["chart_id"]
        )
        body = analytics.live(session=session, settings=settings, chart=chart)
        body["rows"] = body.get("rows", [])[:MAX_CHART_ROWS]
        out["chart_data"] = body
        out["title"] = out["title"] or chart.title or chart.query
        return out
    lo, hi = window(dashboard, tile, start, end)
    out.update(start=lo, end=hi)
    filters = settings_of(dashboard)["filters"]
    if kind == "forecast":
        out.update(_forecast(session, dashboard, tile))
        return out
    expression = expression_with(tile.get("expression"), filters)
    if kind == "anomalies":
        page = PageParams(offset=0, limit=tile.get("limit", 10))
        groups, total = anomalies.list_page(
            session=session,
            org_id=dashboard.org_id,
            page=page,
            filters=AnomalyFilter(start=lo, end=hi, q=expression or None),
            sort="-start",
        )
        out["total"] = total
        out["anomalies"] = [
            {
                "anomaly_id": a.id,
                "what": a.what,
                "start": a.start,
                "end": a.end,
                "peak_score": a.peak_score,
                "direction": a.direction,
                "state": a.state,
                "delta_pct": a.delta_pct,
            }
            for a in groups
        ]
        return out
    found, total = metrics.search(
        session=session, org_id=dashboard.org_id, page=PageParams(offset=0, limit=1), q=expression
    )
    out["matched"] = total
    out["expression"] = expression
    if not found:
        out["series"] = None
        if kind == "number":
            out["value"] = None
        return out
    s = metrics.timeseries(
        session=session,
        metric=found[0],
        start=lo,
        end=hi,
        resolution=tile.get("resolution", "auto"),
    )
    series = series_body(s, anomalies.chart_overlay(session, s))
    if kind == "number":
        out["value"] = stat(series["values"], tile.get("stat", "last"))
        out["stat"] = tile.get("stat", "last")
        out["name"] = s.metric.name
        out["metric_id"] = s.metric.id
        return out
    out["series"] = series
    return out


def series_body(s: metrics.Series, overlay: dict) -> dict:
    """A series as ``GET /metrics/{id}/timeseries`` answers it (what the UI draws)."""
    return {
        "metric_id": s.metric.id,
        "name": s.metric.name,
        "target_type": s.metric.target_type,
        "resolution": s.resolution,
        "start": s.start,
        "end": s.end,
        "timestamps": s.timestamps,
        "values": s.values,
        "min": s.minimums,
        "max": s.maximums,
        "count": s.counts,
        "partial": s.partial,
        **overlay,
    }


def stat(values: list[float | None], how: str) -> float | None:
    """One number out of a range's values (``None`` when it holds none)."""
    known = [v for v in values if v is not None]
    if not known:
        return None
    if how == "last":
        return known[-1]
    if how == "sum":
        return sum(known)
    if how == "min":
        return min(known)
    if how == "max":
        return max(known)
    return sum(known) / len(known)


def _forecast(session: Session, dashboard: Dashboard, tile: dict) -> dict:
    task = forecasts.get_task(session=session, org_id=dashboard.org_id, task_id=tile["forecast_id"])
    _run, rows = forecasts.latest_results(session, task)
    ok = [(r, m) for r, m in rows if r.status == "ok" and r.timestamps]
    if not ok:
        return {"forecast": None, "name": task.name, "series": None}
    result, metric = ok[0]
    stamps: list = result.timestamps or []
    n = len(stamps)
    step = result.step or (stamps[1] - stamps[0] if n > 1 else 60.0)
    origin = result.origin if result.origin is not None else stamps[0]
    lo = max(0.0, origin - (HISTORY_HORIZONS * n - 1) * step)
    s = metrics.timeseries(
        session=session, metric=metric, start=lo, end=stamps[-1] + 1, resolution="auto"
    )
    levels = [
        {
            "key": key,
            "level": float(key),
            "lower": (result.lower or {})[key],
            "upper": (result.upper or {}).get(key, []),
        }
        for key in sorted(result.lower or {}, key=float)
    ]
    return {
        "name": task.name,
        "series": series_body(s, {}),
        "forecast": {
            "metric_id": metric.id,
            "origin": result.origin,
            "step": step,
            "timestamps": result.timestamps,
            "mean": result.mean,
            "levels": levels,
        },
    }
