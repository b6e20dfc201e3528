""" "Seen before": anomalies like an anomaly, saved patterns and the anomalies they
labelled (docs/api.md, "Seen before")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from augury.client.base import JSON, Resource, _body, _query


class Patterns(Resource):
    """``client.patterns``: the past anomalies most like one, and named patterns that
    label later anomalies like them."""

    def similar(
        self,
        anomaly_id: int,
        *,
        metric_id: int | None = None,
        limit: int = 10,
        min_similarity: float = 0.5,
    ) -> JSON:
        """The past anomalies of the same metric and of metrics with the same ``what``
        most like ``anomaly_id`` (``items``, each with ``similarity`` 0-1 and ``link``),
        and the saved patterns it matched (``patterns``)."""
        params = _query({"metric_id": metric_id, "limit": limit, "min_similarity": min_similarity})
        return self._client.request("GET", f"/anomalies/{anomaly_id}/similar", params=params)

    def create(
        self,
        anomaly_id: int,
        name: str,
        *,
        metric_id: int | None = None,
        description: str | None = None,
        scope: str | None = None,
        threshold: float | None = None,
        enabled: bool | None = None,
        backfill_days: float | None = None,
    ) -> JSON:
        """Save the anomaly's episode (its strongest metric's, or ``metric_id``'s) as a
        pattern; ``scope``: ``metric``, ``what`` (default) or ``all``; ``threshold``: the
        similarity (0.5-1, default 0.8) from which anomalies are labelled;
        ``backfill_days``: also label those of that many past days (default 30)."""
        body = _body(
            anomaly_id=anomaly_id,
            name=name,
            metric_id=metric_id,
            description=description,
            scope=scope,
            threshold=threshold,
            enabled=enabled,
            backfill_days=backfill_days,
        )
        return self._client.request("POST", "/patterns", json=body)

    def list(
        self,
        *,
        metric_id: int | None = None,
        enabled: bool | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> JSON:
        filters = _query({"metric_id": metric_id, "enabled": enabled})
        return self._page("/patterns", offset, limit, **filters)

    def iter(self, *, page_size: int = 100, **filters: Any) -> Iterator[JSON]:
        return self._iter("/patterns", page_size, **_query(filters))

    def get(self, pattern_id: int) -> JSON:
        return self._client.request("GET", f"/patterns/{pattern_id}")

    def update(self, pattern_id: int, **changes: Any) -> JSON:
        """Change ``name``, ``description``, ``scope``, ``threshold`` or ``enabled``."""
        return self._client.request("PATCH", f"/patterns/{pattern_id}", json=changes)

    def delete(self, pattern_id: int) -> None:
        self._client.request("DELETE", f"/patterns/{pattern_id}")

    def matches(self, pattern_id: int, *, offset: int = 0, limit: int = 50) -> JSON:
        """One page of the anomalies labelled with the pattern, newest first."""
        return self._page(f"/patterns/{pattern_id}/matches", offset, limit)

    def iter_matches(self, pattern_id: int, *, page_size: int = 100) -> Iterator[JSON]:
        return self._iter(f"/patterns/{pattern_id}/matches", page_size)
