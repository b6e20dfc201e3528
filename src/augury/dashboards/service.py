"""Dashboards: create, read, change and delete them, with their tiles checked.

Tiles are checked against the organization on every save: a chart or forecast a tile
names must be the organization's (another's is refused like a missing one, 422 with
the tile's index), an expression must parse, and tiles must fit the 12-column grid
without overlapping; a tile given without ``x``/``y`` is placed in the first free spot
that fits (reading order). ``version`` grows on each save: a save that names an older
version than the stored one is a 409, so two editors never overwrite each other unseen.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.analytics.models import SavedChart
from augury.audit import service as audit
from augury.dashboards.models import Dashboard
from augury.dashboards.schemas import (
    COLUMNS,
    MAX_MARKDOWN,
    MAX_ROWS,
    DashboardCreate,
    DashboardReplace,
    DashboardSettings,
    DashboardUpdate,
    LayoutItem,
    Tile,
)
from augury.errors import Conflict, NotFound, ValidationFailed
from augury.events import service as events
from augury.forecasts.models import ForecastTask
from augury.metrics import expressions
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate
from augury.store.text import contains

AUDITED = ("name", "description", "tiles", "settings")
FILTER_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,99}$")
NEEDS = {
    "chart": "chart_id",
    "forecast": "forecast_id",
    "metric": "expression",
    "number": "expression",
    "markdown": "text",
}


# --- tiles --------------------------------------------------------------------------------


def _refuse(index: int, message: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(f"Tile {index}: {message}", details={"tile": index, **details})


def from_layout(layout: list[LayoutItem]) -> list[Tile]:
    """Aicser's ``layout`` (chart ids at positions) as chart tiles."""
    tiles = []
    for item in layout:
        p = item.position
        tiles.append(
            Tile(
                type="chart",
                chart_id=item.chart_id,
                x=p.x if p else None,
                y=p.y if p else None,
                w=p.w if p else 6,
                h=p.h if p else 4,
            )
        )
    return tiles


def _check_refs(session: Session, org_id: int, index: int, tile: Tile) -> None:
    field = NEEDS.get(tile.type)
    if field and not getattr(tile, field):
        raise _refuse(index, f"a {tile.type} tile needs '{field}'.", field=field)
    if tile.type == "chart":
        found = session.scalar(
            select(SavedChart.id).where(SavedChart.id == tile.chart_id, SavedChart.org_id == org_id)
        )
        if found is None:
            raise _refuse(index, f"no saved chart {tile.chart_id}.", chart_id=tile.chart_id)
    if tile.type == "forecast":
        found = session.scalar(
            select(ForecastTask.id).where(
                ForecastTask.id == tile.forecast_id, ForecastTask.org_id == org_id
            )
        )
        if found is None:
            raise _refuse(index, f"no forecast {tile.forecast_id}.", forecast_id=tile.forecast_id)
    if tile.expression:
        try:
            expressions.parse(tile.expression)
        except expressions.ExpressionError as exc:
            raise _refuse(index, f"the expression does not read: {exc}") from exc
    if tile.text is not None and len(tile.text) > MAX_MARKDOWN:
        raise _refuse(index, f"the text is over {MAX_MARKDOWN} characters.", length=len(tile.text))


def _cells(x: int, y: int, w: int, h: int) -> set[tuple[int, int]]:
    return {(cx, cy) for cx in range(x, x + w) for cy in range(y, y + h)}


def _ids(tiles: list[Tile]) -> list[str]:
    """Each tile's id: its own (twice the same is a 422), else the first free ``tN``."""
    given = [t.id for t in tiles]
    seen: set[str] = set()
    for i, tile_id in enumerate(given):
        if tile_id in seen:
            raise _refuse(i, f"the id {tile_id!r} is used twice.", id=tile_id)
        if tile_id:
            seen.add(tile_id)
    out, n = [], 0
    for tile_id in given:
        while not tile_id:
            n += 1
            tile_id = f"t{n}" if f"t{n}" not in seen else None
        out.append(tile_id)
    return out


def _place(tiles: list[Tile]) -> list[dict]:
    """Tiles as stored: the given places checked (inside the grid, no overlaps), then
    the unplaced put in the first free spot, top to bottom, left to right."""
    taken: set[tuple[int, int]] = set()
    for i, t in enumerate(tiles):
        if t.x is None or t.y is None:
            continue
        if t.x + t.w > COLUMNS:
            raise _refuse(i, f"x + w is {t.x + t.w}, over the {COLUMNS} columns.", x=t.x, w=t.w)
        if t.y + t.h > MAX_ROWS:
            raise _refuse(i, f"y + h is over {MAX_ROWS} rows.", y=t.y, h=t.h)
        cells = _cells(t.x, t.y, t.w, t.h)
        if cells & taken:
            raise _refuse(i, "it overlaps another tile.", x=t.x, y=t.y, w=t.w, h=t.h)
        taken |= cells
    out = []
    for i, (t, tile_id) in enumerate(zip(tiles, _ids(tiles), strict=True)):
        x, y = t.x, t.y
        if x is None or y is None:
            x, y = _free_spot(taken, t.w, t.h, i)
            taken |= _cells(x, y, t.w, t.h)
        out.append({**t.model_dump(exclude_none=True), "id": tile_id, "x": x, "y": y})
    return out


def _free_spot(taken: set[tuple[int, int]], w: int, h: int, index: int) -> tuple[int, int]:
    for y in range(MAX_ROWS - h + 1):
        for x in range(COLUMNS - w + 1):
            if not _cells(x, y, w, h) & taken:
                return x, y
    raise _refuse(index, "no free place left on the grid.")


def checked_tiles(session: Session, org_id: int, tiles: list[Tile]) -> list[dict]:
    """The tiles as stored, each checked against the organization and the grid."""
    for i, tile in enumerate(tiles):
        _check_refs(session, org_id, i, tile)
    return _place(tiles)


def _checked_settings(settings: DashboardSettings) -> dict:
    for key in settings.filters:
        if not FILTER_KEY.match(key):
            raise ValidationFailed(
                f"Filter {key!r} is not a dimension name.", details={"filter": key}
            )
    return settings.model_dump()


def _tiles_of(body: DashboardCreate | DashboardUpdate) -> list[Tile] | None:
    if body.tiles is not None and body.layout is not None:
        raise ValidationFailed("Send either 'tiles' or 'layout', not both.")
    if body.layout is not None:
        return from_layout(body.layout)
    return body.tiles


# --- dashboards ---------------------------------------------------------------------------


def _emit(session: Session, principal: Principal, type: str, dashboard: Dashboard) -> None:
    """A platform event about a dashboard (for the organization's event webhooks)."""
    events.emit(
        session,
        org_id=dashboard.org_id,
        type=type,
        data={
            "dashboard_id": dashboard.id,
            "name": dashboard.name,
            "tiles": len(dashboard.tiles or []),
            "version": dashboard.version,
            "user_id": principal.user_id,
        },
        user_id=principal.user_id,
    )


def create(*, session: Session, principal: Principal, body: DashboardCreate) -> Dashboard:
    tiles = checked_tiles(session, principal.org_id, _tiles_of(body) or [])
    dashboard = Dashboard(
        org_id=principal.org_id,
        name=body.name,
        description=body.description,
        tiles=tiles,
        settings=_checked_settings(body.settings),
        version=1,
        created_by_id=principal.user_id,
    )
    session.add(dashboard)
    session.flush()
    audit.record_change(
        session=session,
        principal=principal,
        action="dashboard.create",
        target_type="dashboard",
        target_id=dashboard.id,
        after=audit.snapshot(dashboard, AUDITED),
    )
    _emit(session, principal, "dashboard.created", dashboard)
    return dashboard


def get(*, session: Session, org_id: int, dashboard_id: int) -> Dashboard:
    return get_owned(session, Dashboard, org_id, dashboard_id, "Dashboard")


def list_page(
    *, session: Session, org_id: int, page: PageParams, q: str | None = None
) -> tuple[list[Dashboard], int]:
    """The organization's dashboards, most recently changed first; ``q`` in the name."""
    stmt = select(Dashboard).where(Dashboard.org_id == org_id)
    if q:
        stmt = stmt.where(contains(Dashboard.name, q))
    return paginate(session, stmt.order_by(Dashboard.updated_at.desc(), Dashboard.id.desc()), page)


def update(
    *,
    session: Session,
    principal: Principal,
    dashboard: Dashboard,
    body: DashboardUpdate | DashboardReplace,
) -> Dashboard:
    """Change what ``body`` gives (PUT gives everything). A stale ``version``: 409."""
    if body.version is not None and body.version != dashboard.version:
        raise Conflict(
            "The dashboard was saved by someone else meanwhile: reload it and try again.",
            details={"version": dashboard.version, "sent": body.version},
        )
    before = audit.snapshot(dashboard, AUDITED)
    tiles = _tiles_of(body)
    if tiles is not None:
        dashboard.tiles = checked_tiles(session, dashboard.org_id, tiles)
    elif isinstance(body, DashboardReplace):
        dashboard.tiles = []
    if body.name is not None:
        dashboard.name = body.name
    if body.description is not None:
        dashboard.description = body.description
    if body.settings is not None:
        dashboard.settings = _checked_settings(body.settings)
    dashboard.version += 1
    dashboard.updated_at = clock.now()
    audit.record_change(
        session=session,
        principal=principal,
        action="dashboard.update",
        target_type="dashboard",
        target_id=dashboard.id,
        before=before,
        after=audit.snapshot(dashboard, AUDITED),
    )
    _emit(session, principal, "dashboard.updated", dashboard)
    session.flush()
    return dashboard


def delete(*, session: Session, principal: Principal, dashboard: Dashboard) -> None:
    audit.record_change(
        session=session,
        principal=principal,
        action="dashboard.delete",
        target_type="dashboard",
        target_id=dashboard.id,
        before=audit.snapshot(dashboard, AUDITED),
    )
    _emit(session, principal, "dashboard.deleted", dashboard)
    session.delete(dashboard)
    session.flush()


def settings_of(dashboard: Dashboard) -> dict:
    """The dashboard's settings with every default filled in (older rows lack some)."""
    return DashboardSettings.model_validate(dashboard.settings or {}).model_dump()


def fields(dashboard: Dashboard) -> dict:
    """A dashboard as the API returns it: augury's ``tiles`` and Aicser's ``layout`` (the
    chart tiles as ``chart_id`` + ``position``)."""
    tiles = list(dashboard.tiles or [])
    return {
        "id": dashboard.id,
        "dashboard_id": dashboard.id,
        "name": dashboard.name,
        "description": dashboard.description,
        "tiles": tiles,
        "layout": [
            {
                "tile_id": t["id"],
                "chart_id": t["chart_id"],
                "position": {k: t[k] for k in ("x", "y", "w", "h")},
            }
            for t in tiles
            if t.get("type") == "chart"
        ],
        "settings": settings_of(dashboard),
        "version": dashboard.version,
        "created_at": dashboard.created_at,
        "updated_at": dashboard.updated_at,
        "created_by_id": dashboard.created_by_id,
    }


def summary(dashboard: Dashboard) -> dict:
    body = fields(dashboard)
    body["tile_count"] = len(body.pop("tiles"))
    body.pop("layout")
    return body


def tile_of(dashboard: Dashboard, tile_id: str) -> dict:
    for tile in dashboard.tiles or []:
        if tile.get("id") == tile_id:
            return tile
    raise NotFound("Tile not found.")
