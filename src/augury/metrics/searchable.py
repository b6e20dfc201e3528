"""How metrics appear in the global search: their name (``what=cpu.host=web-1``),
then what they measure and their dimensions' keys and values. The ingestion writer
indexes the metrics it creates in bulk (:func:`entry`); the ORM keeps the rest current."""

from __future__ import annotations

from collections.abc import Mapping

from augury.metrics.models import Metric
from augury.search.service import Entry, Searchable


def entry(metric_id: int, name: str, what: str, dimensions: Mapping[str, str]) -> Entry:
    pairs = " ".join(f"{k} {v}" for k, v in sorted(dimensions.items()))
    return Entry(title=name, body=f"{what} {pairs}".strip(), link=f"/metrics/explore/{metric_id}")


def _metric(metric: Metric, _conn) -> Entry:
    return entry(metric.id, metric.name, metric.what, metric.dimensions or {})


SEARCHABLE = [Searchable(Metric, "metric", ("name", "dimensions"), _metric)]
