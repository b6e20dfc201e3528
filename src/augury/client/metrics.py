"""Metrics: samples sent and imported, searched by expression, read as series and graphs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from augury.client.base import JSON, Resource


class Metrics(Resource):
    """Metrics: send samples, search by expression, read series and graphs."""

    def send(self, samples: Iterable[Mapping[str, Any]]) -> JSON:
        """Send samples in Anodot 2.0 form: ``{"properties": {"what": ..., dim: value},
        "timestamp": epoch_s, "value": number}``; answers ``{"errors", "accepted",
        "rejected"}`` (refused samples do not raise)."""
        return self._client.request(
            "POST", "/metrics", params={"protocol": "anodot20"}, json=list(samples)
        )

    def import_csv(self, data: bytes | str) -> JSON:
        """Backfill history from CSV text; returns the ``metrics.backfill`` job."""
        body = data.encode() if isinstance(data, str) else data
        return self._client.request(
            "POST", "/metrics/import", content=body, headers={"Content-Type": "text/csv"}
        )

    def list(
        self, q: str | None = None, *, sort: str = "name", offset: int = 0, limit: int = 50
    ) -> JSON:
        """One page of metrics matching the expression ``q`` (``what=cpu* AND host=a``)."""
        return self._page("/metrics", offset, limit, q=q, sort=sort)

    def iter(
        self, q: str | None = None, *, sort: str = "name", page_size: int = 500
    ) -> Iterator[JSON]:
        """Every metric matching ``q``."""
        return self._iter("/metrics", page_size, q=q, sort=sort)

    def get(self, metric_id: int) -> JSON:
        return self._client.request("GET", f"/metrics/{metric_id}")

    def delete(self, metric_id: int) -> None:
        self._client.request("DELETE", f"/metrics/{metric_id}")

    def overview(self) -> JSON:
        """Metric counts and the ingestion rate."""
        return self._client.request("GET", "/metrics/overview")

    def timeseries(
        self,
        metric_id: int,
        *,
        start: float | None = None,
        end: float | None = None,
        resolution: str = "auto",
    ) -> JSON:
        """Points in ``[start, end)`` (epoch seconds) at ``resolution``."""
        params = {"from": start, "to": end, "resolution": resolution}
        return self._client.request("GET", f"/metrics/{metric_id}/timeseries", params=params)

    def graph(
        self,
        metric_id: int,
        *,
        start: float | None = None,
        end: float | None = None,
        resolution: str = "auto",
        width: int = 900,
        height: int = 300,
    ) -> bytes:
        """The series as PNG bytes."""
        params = {
            "from": start,
            "to": end,
            "resolution": resolution,
            "width": width,
            "height": height,
        }
        return self._client.request(
            "GET", f"/metrics/{metric_id}/graph.png", params=params, raw=True
        )
