"""HTTP routes of dashboards: ``/api/v1/dashboards``, their share links, export
schedules and tiles' data; ``/shared/dashboards/{token}`` (no login); and
``/export/...`` (charts, metrics and dashboards as files).

Routes are sync: a chart tile reruns its question through DuckDB and images are
rendered by vl-convert, both in the threadpool.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from augury.analytics.deps import ChartDep
from augury.api.deps import ObjectId, Reader, SessionDep, SettingsDep, Writer
from augury.api.pagination import PageDep, make_page
from augury.dashboards import exports, render, schedules, service, shares, tiledata
from augury.dashboards.deps import DashboardDep, ShareToken, TileId
from augury.dashboards.schemas import (
    DashboardCreate,
    DashboardReplace,
    DashboardUpdate,
    ScheduleCreate,
    ScheduleUpdate,
    ShareCreate,
)
from augury.metrics.deps import MetricDep

router = APIRouter(tags=["dashboards"])

Epoch = Annotated[float | None, Query(ge=0, le=1e11, description="Epoch seconds.")]
Width = Annotated[int, Query(ge=100, le=3000)]
Height = Annotated[int, Query(ge=80, le=2000)]
Theme = Annotated[Literal["light", "dark"], Query()]
FILE = {"description": "The file.", "content": {m: {} for m in render.MEDIA.values()}}


def _body(session, settings, dashboard, include_data: bool) -> dict:
    body = service.fields(dashboard)
    if include_data:
        datas = exports.tile_datas(session, settings, dashboard)
        for item in body["layout"]:
            item["chart_data"] = datas.get(item["tile_id"], {}).get("chart_data")
        body["tiles"] = [{**t, "data": datas.get(t["id"])} for t in body["tiles"]]
    return body


@router.post("/dashboards", status_code=status.HTTP_201_CREATED)
def create_dashboard(body: DashboardCreate, principal: Writer, session: SessionDep) -> dict:
    """Create a dashboard: `tiles` (augury's: each `{type, x, y, w, h, ...}`) or Aicser's
    `layout` (`[{chart_id, position: {x, y, w, h}}]`), and `settings` (auto refresh,
    interval, theme, the time range and dimension filters its metric tiles follow).
    A tile that names another organization's chart, overlaps another or leaves the
    12-column grid is a 422 naming the tile."""
    return service.fields(service.create(session=session, principal=principal, body=body))


@router.get("/dashboards")
def list_dashboards(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200, description="In the name.")] = None,
) -> dict:
    """The organization's dashboards, most recently changed first, without their tiles
    (`tile_count`)."""
    items, total = service.list_page(session=session, org_id=principal.org_id, page=page, q=q)
    return make_page([service.summary(d) for d in items], total, page)


@router.get("/dashboards/{dashboard_id}")
def get_dashboard(
    dashboard: DashboardDep,
    session: SessionDep,
    settings: SettingsDep,
    include_data: Annotated[
        bool, Query(description="Each tile's data too (chart tiles' `chart_data`).")
    ] = False,
) -> dict:
    """A dashboard with its tiles. Their data comes tile by tile from
    `/dashboards/{id}/tiles/{tile_id}/data` (the UI draws each as it arrives), or all
    at once here with `include_data=true`."""
    return _body(session, settings, dashboard, include_data)


@router.patch("/dashboards/{dashboard_id}")
def update_dashboard(
    body: DashboardUpdate, principal: Writer, dashboard: DashboardDep, session: SessionDep
) -> dict:
    """Change what is given. Send the `version` you read: if someone saved since, 409
    `CONFLICT` (with the current `version` in `details`) instead of overwriting."""
    service.update(session=session, principal=principal, dashboard=dashboard, body=body)
    return service.fields(dashboard)


@router.put("/dashboards/{dashboard_id}")
def replace_dashboard(
    body: DashboardReplace, principal: Writer, dashboard: DashboardDep, session: SessionDep
) -> dict:
    """Replace the dashboard as a whole (as created); `version` as for PATCH."""
    service.update(session=session, principal=principal, dashboard=dashboard, body=body)
    return service.fields(dashboard)


@router.delete("/dashboards/{dashboard_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_dashboard(principal: Writer, dashboard: DashboardDep, session: SessionDep):
    """Delete the dashboard with its share links and schedules (the charts it shows stay)."""
    service.delete(session=session, principal=principal, dashboard=dashboard)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/dashboards/{dashboard_id}/tiles/{tile_id}/data")
def tile_data(
    tile_id: TileId,
    dashboard: DashboardDep,
    session: SessionDep,
    settings: SettingsDep,
    start: Annotated[Epoch, Query(alias="from")] = None,
    end: Annotated[Epoch, Query(alias="to")] = None,
) -> dict:
    """What one tile shows now, for the dashboard's range and filters (or `from`/`to`):
    `chart_data` (chart tiles: the saved chart rerun), `series` (metric tiles: points,
    learned band and anomalies, as `/metrics/{id}/timeseries`), `value` (number),
    `anomalies`, `forecast` (with `series`, its history), `text` (markdown)."""
    tile = service.tile_of(dashboard, tile_id)
    return tiledata.tile_data(session, settings, dashboard, tile, start, end)


# --- share links ---------------------------------------------------------------------------


@router.post("/dashboards/{dashboard_id}/shares", status_code=status.HTTP_201_CREATED)
def create_share(
    body: ShareCreate, principal: Writer, dashboard: DashboardDep, session: SessionDep
) -> dict:
    """A read-only link to the dashboard: `token` and `url` are in this answer only.
    Whoever holds it sees this dashboard (no login), nothing else, until it is revoked
    or `expires_at` passes."""
    share, token = shares.create(
        session=session, principal=principal, dashboard=dashboard, body=body
    )
    return shares.fields(share, token)


@router.get("/dashboards/{dashboard_id}/shares")
def list_shares(dashboard: DashboardDep, session: SessionDep) -> dict:
    """The dashboard's links, newest first, revoked ones too (never their tokens)."""
    items = [shares.fields(s) for s in shares.list_for(session, dashboard)]
    return {
        "items": items,
        "total": len(items),
        "offset": 0,
        "limit": len(items),
        "has_more": False,
    }


@router.delete(
    "/dashboards/{dashboard_id}/shares/{share_id}", status_code=status.HTTP_204_NO_CONTENT
)
def revoke_share(
    share_id: ObjectId, principal: Writer, dashboard: DashboardDep, session: SessionDep
):
    """Revoke the link: from now on it answers 404."""
    share = shares.get(session, dashboard, share_id)
    shares.revoke(session=session, principal=principal, share=share)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/shared/dashboards/{token}", tags=["shared"])
def shared_dashboard(token: ShareToken, session: SessionDep) -> dict:
    """The dashboard a share link opens (no login). 404 for a revoked, expired or
    unknown link."""
    dashboard = shares.open_shared(session, token)
    body = service.fields(dashboard)
    body.pop("created_by_id")
    return body


@router.get("/shared/dashboards/{token}/tiles/{tile_id}/data", tags=["shared"])
def shared_tile_data(
    token: ShareToken,
    tile_id: TileId,
    session: SessionDep,
    settings: SettingsDep,
    start: Annotated[Epoch, Query(alias="from")] = None,
    end: Annotated[Epoch, Query(alias="to")] = None,
) -> dict:
    """One tile's data through a share link, as `/dashboards/{id}/tiles/{tile_id}/data`."""
    dashboard = shares.open_shared(session, token)
    tile = service.tile_of(dashboard, tile_id)
    return tiledata.tile_data(session, settings, dashboard, tile, start, end)


# --- scheduled exports ---------------------------------------------------------------------


@router.post("/dashboards/{dashboard_id}/schedules", status_code=status.HTTP_201_CREATED)
def create_schedule(
    body: ScheduleCreate, principal: Writer, dashboard: DashboardDep, session: SessionDep
) -> dict:
    """Mail the dashboard as PDF (or HTML) to `recipients` whenever `cron` (5 fields, in
    `timezone`) fires. `next_run_at` says when that is."""
    row = schedules.create(session=session, principal=principal, dashboard=dashboard, body=body)
    return schedules.fields(row)


@router.get("/dashboards/{dashboard_id}/schedules")
def list_schedules(dashboard: DashboardDep, session: SessionDep) -> dict:
    """The dashboard's schedules with their last outcome (`last_status`, `last_error`)."""
    items = [schedules.fields(r) for r in schedules.list_for(session, dashboard)]
    return {
        "items": items,
        "total": len(items),
        "offset": 0,
        "limit": len(items),
        "has_more": False,
    }


@router.patch("/dashboards/{dashboard_id}/schedules/{schedule_id}")
def update_schedule(
    schedule_id: ObjectId,
    body: ScheduleUpdate,
    principal: Writer,
    dashboard: DashboardDep,
    session: SessionDep,
) -> dict:
    row = schedules.get(session, dashboard, schedule_id)
    schedules.update(session=session, principal=principal, row=row, body=body)
    return schedules.fields(row)


@router.delete(
    "/dashboards/{dashboard_id}/schedules/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT
)
def delete_schedule(
    schedule_id: ObjectId, principal: Writer, dashboard: DashboardDep, session: SessionDep
):
    row = schedules.get(session, dashboard, schedule_id)
    schedules.delete(session=session, principal=principal, row=row)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- export ----------------------------------------------------------------------------------


def _file(data: bytes, fmt: str, name: str) -> Response:
    return Response(
        data,
        media_type=render.MEDIA[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/export/chart/{chart_id}", tags=["export"], responses={200: FILE})
def export_chart(
    chart: ChartDep,
    session: SessionDep,
    settings: SettingsDep,
    format: Annotated[Literal["png", "svg", "pdf", "csv", "json", "html"], Query()] = "png",
    width: Width = 800,
    height: Height = 450,
    theme: Theme = "light",
) -> Response:
    """A saved chart (rerun on its dataset's newest version) as an image (PNG, SVG, PDF,
    `width` x `height` pixels in all), its rows (CSV, JSON), or one HTML page that draws
    it offline (the renderer inlined, nothing fetched)."""
    data = exports.chart_file(
        session, settings, chart, format, width=width, height=height, theme=theme
    )
    return _file(data, format, f"chart-{chart.id}")


@router.get("/export/metric/{metric_id}", tags=["export"], responses={200: FILE})
def export_metric(
    metric: MetricDep,
    session: SessionDep,
    format: Annotated[Literal["png", "svg", "pdf", "csv", "json", "html"], Query()] = "png",
    start: Annotated[Epoch, Query(alias="from")] = None,
    end: Annotated[Epoch, Query(alias="to")] = None,
    resolution: Annotated[Literal["auto", "native", "1m", "5m", "1h", "1d"], Query()] = "auto",
    width: Width = 900,
    height: Height = 300,
    theme: Theme = "light",
) -> Response:
    """A metric over `[from, to)` (default: its last day of data) with its learned band
    and anomalies, drawn as the UI draws it, or its points as CSV/JSON."""
    data = exports.metric_file(
        session,
        metric,
        format,
        start=start,
        end=end,
        resolution=resolution,
        width=width,
        height=height,
        theme=theme,
    )
    return _file(data, format, f"metric-{metric.id}")


@router.get("/export/dashboard/{dashboard_id}", tags=["export"], responses={200: FILE})
def export_dashboard(
    dashboard: DashboardDep,
    session: SessionDep,
    settings: SettingsDep,
    format: Annotated[Literal["pdf", "html"], Query()] = "pdf",
    page_size: Annotated[Literal["a4", "letter", "legal"], Query()] = "a4",
    include_charts: bool = True,
) -> Response:
    """The dashboard as PDF (landscape `page_size`, one page per screen of tiles, fonts
    embedded) or as one self-contained HTML file; `include_charts=false` leaves the
    charts out (their tiles keep their titles; numbers, anomalies and notes stay)."""
    data = exports.dashboard_file(
        session,
        settings,
        dashboard,
        format,
        page_size=page_size,
        include_charts=include_charts,
    )
    return _file(data, format, f"dashboard-{dashboard.id}")
