"""Files made from charts and dashboards (the export routes and the scheduled mails).

Every tile's data is computed as the UI would draw it (:mod:`augury.dashboards.tiledata`);
a tile whose data cannot be had now (its chart's dataset gone, a bad expression) shows
why in its place rather than failing the whole file.
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from augury.analytics import service as analytics
from augury.analytics.models import SavedChart
from augury.anomalies import service as anomalies
from augury.config import Settings
from augury.dashboards import render, service, tiledata
from augury.dashboards.models import Dashboard
from augury.errors import AuguryError
from augury.metrics import service as metrics
from augury.metrics.models import Metric


def chart_file(
    session: Session,
    settings: Settings,
    chart: SavedChart,
    fmt: str,
    *,
    width: int,
    height: int,
    theme: str,
) -> bytes:
    """A saved chart, live, as ``fmt``: an image or page of its spec, or its rows."""
    body = analytics.live(session=session, settings=settings, chart=chart)
    if fmt in ("csv", "json"):
        return analytics.export_rows(body, fmt).encode()
    spec = render.themed(body.get("chart") or {}, width, height, theme)
    return render.render_spec(spec, fmt)


def metric_file(
    session: Session,
    metric: Metric,
    fmt: str,
    *,
    start: float | None,
    end: float | None,
    resolution: str,
    width: int,
    height: int,
    theme: str,
) -> bytes:
    """A metric's series over ``[start, end)`` with its band and anomalies, drawn as the
    UI draws it (or its points as CSV/JSON)."""
    s = metrics.timeseries(
        session=session, metric=metric, start=start, end=end, resolution=resolution
    )
    series = tiledata.series_body(s, anomalies.chart_overlay(session, s))
    if fmt == "json":
        return json.dumps(series).encode()
    if fmt == "csv":
        lines = ["timestamp,value,lower,upper"]
        lower, upper = series.get("lower"), series.get("upper")
        for i, t in enumerate(series["timestamps"]):
            lo = "" if lower is None or lower[i] is None else repr(lower[i])
            hi = "" if upper is None or upper[i] is None else repr(upper[i])
            value = series["values"][i]
            lines.append(f"{t!r},{'' if value is None else repr(value)},{lo},{hi}")
        return ("\n".join(lines) + "\n").encode()
    return render.render_spec(
        render.metric_spec(series, width=width, height=height, theme=theme), fmt
    )


def tile_datas(session: Session, settings: Settings, dashboard: Dashboard) -> dict[str, dict]:
    """Every tile's data, by tile id; a tile that fails says why as a note."""
    out = {}
    for tile in dashboard.tiles or []:
        try:
            out[tile["id"]] = tiledata.tile_data(session, settings, dashboard, tile)
        except AuguryError as exc:
            out[tile["id"]] = {"type": "markdown", "text": f"Not available: {exc.message}"}
    return out


def dashboard_file(
    session: Session,
    settings: Settings,
    dashboard: Dashboard,
    fmt: str,
    *,
    page_size: str = "a4",
    include_charts: bool = True,
) -> bytes:
    """The dashboard as a PDF (``page_size``, landscape) or one HTML file."""
    datas = tile_datas(session, settings, dashboard)
    tiles = list(dashboard.tiles or [])
    theme = service.settings_of(dashboard)["theme"]
    if fmt == "pdf":
        return render.dashboard_pdf(dashboard.name, tiles, datas, page_size, theme, include_charts)
    return render.dashboard_html(
        dashboard.name, dashboard.description, tiles, datas, include_charts, theme
    ).encode()
