"""Collectors (``client.collectors``): data sources (connections with encrypted
credentials) and the data streams that poll them into metrics, Anodot's "Data Sources
& Data Streams" (``src/augury/collectors/README.md``, "API").

    >>> src = client.collectors.sources.create(  # doctest: +SKIP
    ...     "shop", "sqlite", config={"path": "shop.db"})
    >>> client.collectors.sources.test(src["id"])["ok"]  # doctest: +SKIP
    True
    >>> stream = {"name": "orders", "dataSourceId": src["id"], "tableName": "orders",
    ...           "timestampColumn": "created_at", "pollingInterval": "hourly",
    ...           "schema": {"columns": [{"name": "revenue", "type": "metric",
    ...                                   "sourceColumn": "amount"}]}}
    >>> client.collectors.streams.preview(stream)["metrics"][0]["what"]  # doctest: +SKIP
    'revenue'
    >>> client.collectors.streams.create(stream)["status"]  # doctest: +SKIP
    'pending'
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from augury.client.base import JSON, Resource, _body

if TYPE_CHECKING:
    from augury.client.connection import Client

Moment = datetime | float | int | str
"""A time: a datetime, epoch seconds or ISO 8601 text."""


def _moment(value: Moment) -> float | str:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class DataSources(Resource):
    """``client.collectors.sources``: connections to databases, files, S3, Prometheus
    and HTTP endpoints. Creating, changing, testing and deleting need an admin."""

    def create(
        self,
        name: str,
        type: str,
        *,
        config: Mapping[str, Any] | None = None,
        secret: Mapping[str, Any] | None = None,
    ) -> JSON:
        """A new source: ``type`` (``psql``, ``mysql``, ``mariadb``, ``sqlite``,
        ``folder``, ``s3``, ``prometheus``, ``http``), where it is (``config``) and its
        credentials (``secret``: answered only as ``***``)."""
        body = {"name": name, "type": type, "config": dict(config or {})}
        if secret:
            body["secret"] = dict(secret)
        return self._client.request("POST", "/data-sources", json=body)

    def list(
        self,
        *,
        type: str | None = None,
        q: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> JSON:
        return self._page("/data-sources", offset, limit, type=type, q=q)

    def iter(
        self, *, type: str | None = None, q: str | None = None, page_size: int = 100
    ) -> Iterator[JSON]:
        return self._iter("/data-sources", page_size, type=type, q=q)

    def find(self, search_query: str = "") -> builtins.list[JSON]:
        """Anodot's find: sources whose name holds the text (any case)."""
        found: builtins.list[JSON] = self._client.request(
            "GET", "/data-sources/find", params={"searchQuery": search_query}
        )
        return found

    def get(self, source_id: int) -> JSON:
        """The source with the streams that read it."""
        return self._client.request("GET", f"/data-sources/{source_id}")

    def update(
        self,
        source_id: int,
        *,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
        secret: Mapping[str, Any | None] | None = None,
    ) -> JSON:
        """Change the name, replace the config, merge credentials (``None`` removes one)."""
        body = _body(
            name=name,
            config=None if config is None else dict(config),
            secret=None if secret is None else dict(secret),
        )
        return self._client.request("PATCH", f"/data-sources/{source_id}", json=body)

    def delete(self, source_id: int) -> None:
        """Delete a source no stream reads (ConflictError otherwise)."""
        self._client.request("DELETE", f"/data-sources/{source_id}")

    def test(self, source_id: int) -> JSON:
        """Test a saved source: ``{"ok": True, "detail", "objects"}`` or
        ``{"ok": False, "code", "message"}``."""
        return self._client.request("POST", f"/data-sources/{source_id}/test")

    def objects(self, source_id: int) -> JSON:
        """What a stream of the source could read (tables, files ...), for any member:
        ``{"ok": True, "objects", "detail"}`` or ``{"ok": False, "code", "message"}``."""
        return self._client.request("GET", f"/data-sources/{source_id}/objects")

    def test_new(
        self,
        type: str,
        *,
        config: Mapping[str, Any] | None = None,
        secret: Mapping[str, Any] | None = None,
        name: str = "test",
    ) -> JSON:
        """Test a source before saving it (nothing is saved)."""
        body = {"name": name, "type": type, "config": dict(config or {})}
        if secret:
            body["secret"] = dict(secret)
        return self._client.request("POST", "/data-sources/test", json=body)

    def divert(self, from_source: int, to_source: int, stream_ids: Sequence[int]) -> JSON:
        """Move streams to another source of the same type: ``{"moved": [ids]}``."""
        return self._client.request(
            "POST",
            "/data-sources/divertStreams",
            params={"fromDataSrc": from_source, "toDataSrc": to_source},
            json=list(stream_ids),
        )


class DataStreams(Resource):
    """``client.collectors.streams``: what a source is polled for, as Anodot's stream
    object (camelCase keys: ``dataSourceId``, ``tableName``, ``timestampColumn``,
    ``schema``, ``pollingInterval``, ``historicalDateRange`` ...)."""

    def create(self, stream: Mapping[str, Any]) -> JSON:
        """A new stream (checked: a ValidationError names the field)."""
        return self._client.request("POST", "/data-streams", json=dict(stream))

    def preview(self, stream: Mapping[str, Any], *, rows: int = 100) -> JSON:
        """The source's latest rows and the metrics they make, without saving;
        a source's failure is ``{"error": {"code", "message"}}``."""
        return self._client.request(
            "POST", "/data-streams/preview", params={"rows": rows}, json=dict(stream)
        )

    def list(
        self,
        *,
        q: str | None = None,
        source_id: int | None = None,
        status: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> JSON:
        return self._page("/data-streams", offset, limit, q=q, source_id=source_id, status=status)

    def iter(
        self,
        *,
        q: str | None = None,
        source_id: int | None = None,
        status: str | None = None,
        page_size: int = 100,
    ) -> Iterator[JSON]:
        return self._iter("/data-streams", page_size, q=q, source_id=source_id, status=status)

    def find(self, search_query: str = "") -> builtins.list[JSON]:
        """Anodot's find: streams whose name holds the text (any case), full objects."""
        found: builtins.list[JSON] = self._client.request(
            "GET", "/data-streams/find", params={"searchQuery": search_query}
        )
        return found

    def get(self, stream_id: int) -> JSON:
        return self._client.request("GET", f"/data-streams/{stream_id}")

    def edit(self, stream_id: int, stream: Mapping[str, Any], *, rewind: bool = False) -> JSON:
        """Replace the definition (Anodot's edit); ``rewind`` collects the historical
        range again."""
        return self._client.request(
            "PUT",
            f"/data-streams/{stream_id}",
            params={"shouldRewind": rewind} if rewind else None,
            json=dict(stream),
        )

    def update(self, stream_id: int, *, rewind: bool = False, **changes: Any) -> JSON:
        """Change some fields: the stream is read, changed and sent back whole."""
        current = self.get(stream_id)
        return self.edit(stream_id, {**current, **changes}, rewind=rewind)

    def pause(self, stream_id: int) -> JSON:
        return self._client.request("PUT", f"/data-streams/{stream_id}/state/pause")

    def resume(self, stream_id: int) -> JSON:
        return self._client.request("PUT", f"/data-streams/{stream_id}/state/resume")

    def rewind(self, stream_id: int, start: Moment, end: Moment | None = None) -> JSON:
        """Collect from ``start`` again (a datetime, epoch seconds or ISO 8601)."""
        body: dict[str, Any] = {"from": _moment(start)}
        if end is not None:
            body["to"] = _moment(end)
        return self._client.request("POST", f"/data-streams/{stream_id}/rewind", json=body)

    def delete(self, stream_id: int, *, delete_metrics: bool = True) -> None:
        """Delete the stream, and (by default) the metrics it created."""
        self._client.request(
            "DELETE", f"/data-streams/{stream_id}", params={"deleteMetrics": delete_metrics}
        )

    def metrics_total(
        self,
        stream_id: int | None = None,
        *,
        stream_name: str | None = None,
        time_range: str = "day",
    ) -> int:
        """Metrics the stream created in the last ``day`` or ``week``."""
        answer = self._client.request(
            "GET",
            "/data-streams/metrics/total",
            params={"streamId": stream_id, "streamName": stream_name, "timeRange": time_range},
        )
        return int(answer["total"])

    def totals(self, stream_id: int) -> JSON:
        """The alerts (dashboards, composites) that watch the stream's metrics."""
        return self._client.request("GET", "/data-streams/totals", params={"streamId": stream_id})

    def runs(self, stream_id: int, *, offset: int = 0, limit: int = 50) -> JSON:
        """A page of the stream's polls, newest first."""
        return self._page(f"/data-streams/{stream_id}/runs", offset, limit)

    def to_dataset(
        self,
        stream_id: int,
        name: str,
        *,
        rows: int | None = None,
        description: str | None = None,
        tags: Sequence[str] | None = None,
    ) -> JSON:
        """Save the stream's latest rows as a dataset (or its next version)."""
        body = _body(name=name, description=description, tags=None if tags is None else list(tags))
        return self._client.request(
            "POST", f"/data-streams/{stream_id}/dataset", params={"rows": rows}, json=body
        )


class Collectors(Resource):
    """``client.collectors``: ``sources`` and ``streams``."""

    def __init__(self, client: Client) -> None:
        super().__init__(client)
        self.sources = DataSources(client)
        self.streams = DataStreams(client)
