"""HTTP dependencies of the dashboard routes: the dashboard (or share link, or export
schedule) a path names, from the principal's organization only (another's is a 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from augury.api.deps import ObjectId, Reader, SessionDep
from augury.dashboards import service
from augury.dashboards.models import Dashboard

TileId = Annotated[str, Path(min_length=1, max_length=40, description="Id of the tile.")]
ShareToken = Annotated[str, Path(min_length=1, max_length=200, description="The link's token.")]


def _dashboard(dashboard_id: ObjectId, principal: Reader, session: SessionDep) -> Dashboard:
    return service.get(session=session, org_id=principal.org_id, dashboard_id=dashboard_id)


DashboardDep = Annotated[Dashboard, Depends(_dashboard)]
