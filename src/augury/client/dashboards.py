"""Dashboards: grids of tiles, their share links, exports and mailed schedules
(docs/api.md, "Dashboards and export")."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from augury.client.base import JSON, Resource


class Dashboards(Resource):
    """``client.dashboards``: build a dashboard, share it read-only, export it."""

    def create(
        self,
        name: str,
        tiles: Sequence[Mapping[str, Any]] = (),
        *,
        description: str = "",
        settings: Mapping[str, Any] | None = None,
    ) -> JSON:
        """A dashboard of ``tiles`` (``{"type": "chart", "chart_id": 4, "w": 6, "h": 4}``,
        ``{"type": "metric", "expression": "what=cpu"}`` ...; a tile without ``x``/``y``
        takes the first free place)."""
        body: dict[str, Any] = {"name": name, "description": description, "tiles": list(tiles)}
        if settings is not None:
            body["settings"] = dict(settings)
        return self._client.request("POST", "/dashboards", json=body)

    def list(self, *, q: str | None = None, offset: int = 0, limit: int = 50) -> JSON:
        return self._page("/dashboards", offset, limit, q=q)

    def iter(self, *, page_size: int = 100) -> Iterator[JSON]:
        return self._iter("/dashboards", page_size)

    def get(self, dashboard_id: int, *, include_data: bool = False) -> JSON:
        params = {"include_data": "true"} if include_data else None
        return self._client.request("GET", f"/dashboards/{dashboard_id}", params=params)

    def update(self, dashboard_id: int, *, version: int | None = None, **changes: Any) -> JSON:
        """Change ``name``, ``description``, ``tiles`` or ``settings``; with ``version``
        (the one read) a save over someone else's raises ConflictError."""
        body = {**changes, **({"version": version} if version is not None else {})}
        return self._client.request("PATCH", f"/dashboards/{dashboard_id}", json=body)

    def delete(self, dashboard_id: int) -> None:
        self._client.request("DELETE", f"/dashboards/{dashboard_id}")

    def tile_data(self, dashboard_id: int, tile_id: str) -> JSON:
        """What one tile shows now (the dashboard's range and filters)."""
        return self._client.request("GET", f"/dashboards/{dashboard_id}/tiles/{tile_id}/data")

    def share(self, dashboard_id: int, *, label: str = "", expires_at: str | None = None) -> JSON:
        """A read-only link: ``token`` and ``url`` are in this answer only."""
        body: dict[str, Any] = {"label": label}
        if expires_at is not None:
            body["expires_at"] = expires_at
        return self._client.request("POST", f"/dashboards/{dashboard_id}/shares", json=body)

    def shares(self, dashboard_id: int) -> JSON:
        return self._client.request("GET", f"/dashboards/{dashboard_id}/shares")

    def revoke_share(self, dashboard_id: int, share_id: int) -> None:
        self._client.request("DELETE", f"/dashboards/{dashboard_id}/shares/{share_id}")

    def schedule(
        self,
        dashboard_id: int,
        cron: str,
        recipients: Sequence[str],
        *,
        timezone: str = "UTC",
        format: str = "pdf",
        page_size: str = "a4",
    ) -> JSON:
        """Mail the dashboard to ``recipients`` whenever ``cron`` fires in ``timezone``."""
        body = {
            "cron": cron,
            "recipients": list(recipients),
            "timezone": timezone,
            "format": format,
            "page_size": page_size,
        }
        return self._client.request("POST", f"/dashboards/{dashboard_id}/schedules", json=body)

    def schedules(self, dashboard_id: int) -> JSON:
        return self._client.request("GET", f"/dashboards/{dashboard_id}/schedules")

    def delete_schedule(self, dashboard_id: int, schedule_id: int) -> None:
        self._client.request("DELETE", f"/dashboards/{dashboard_id}/schedules/{schedule_id}")

    def export(
        self,
        dashboard_id: int,
        path: str | os.PathLike[str] | None = None,
        *,
        format: str = "pdf",
        page_size: str = "a4",
        include_charts: bool = True,
    ) -> bytes | Path:
        """The dashboard as PDF or HTML: its bytes, or written to ``path``."""
        params = {"format": format, "page_size": page_size, "include_charts": include_charts}
        return self._download(f"/export/dashboard/{dashboard_id}", params, path)

    def export_chart(
        self,
        chart_id: int,
        path: str | os.PathLike[str] | None = None,
        *,
        format: str = "png",
        width: int = 800,
        height: int = 450,
        theme: str = "light",
    ) -> bytes | Path:
        """A saved chart as PNG, SVG, PDF, CSV, JSON or self-contained HTML."""
        params = {"format": format, "width": width, "height": height, "theme": theme}
        return self._download(f"/export/chart/{chart_id}", params, path)
