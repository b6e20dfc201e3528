"""Anomalies found by streaming detection, and the controls of what it learns."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from augury.client.base import JSON, Resource, _anomaly_filters, _body


class Anomalies(Resource):
    """Anomalies found by streaming detection, and the detection controls."""

    def list(
        self, *, sort: str = "-start", offset: int = 0, limit: int = 50, **filters: Any
    ) -> JSON:
        """One page; ``filters``: ``start``/``end`` (epoch s), ``min_score``,
        ``min_duration``, ``min_delta``, ``min_delta_pct``, ``direction``, ``state``,
        ``timescale``, ``q`` (metric expression)."""
        return self._page("/anomalies", offset, limit, sort=sort, **_anomaly_filters(filters))

    def iter(self, *, sort: str = "-start", page_size: int = 100, **filters: Any) -> Iterator[JSON]:
        return self._iter("/anomalies", page_size, sort=sort, **_anomaly_filters(filters))

    def count(self, **filters: Any) -> JSON:
        return self._client.request("GET", "/anomalies/count", params=_anomaly_filters(filters))

    def get(self, anomaly_id: int, *, context_points: int = 60) -> JSON:
        """One anomaly with its metrics, its ``explanation`` and their points around
        it (with the band)."""
        params = {"context_points": context_points}
        return self._client.request("GET", f"/anomalies/{anomaly_id}", params=params)

    def explanation(self, anomaly_id: int) -> JSON:
        """Which dimension values drive the anomaly: ``sentence``, ``drivers``,
        ``share`` and the token map (``tokens``: per ``key``/``value``, the metrics of
        the anomaly and of its ``what`` carrying it, its ``share`` of the deviation and
        its ``lift``)."""
        return self.get(anomaly_id, context_points=0)["explanation"]

    def stop_learning(
        self,
        q: str | None = None,
        *,
        metric_ids: Sequence[int] | None = None,
        duration_s: float | None = None,
    ) -> JSON:
        body = _body(q=q, metric_ids=metric_ids, duration_s=duration_s)
        return self._client.request("POST", "/metrics/learning/stop", json=body)

    def resume_learning(
        self, q: str | None = None, *, metric_ids: Sequence[int] | None = None
    ) -> JSON:
        body = _body(q=q, metric_ids=metric_ids)
        return self._client.request("POST", "/metrics/learning/resume", json=body)
