"""Anomalies in the global search: found by their metric (a query that matches a
metric also lists its latest anomalies), not indexed one by one."""

from __future__ import annotations

import datetime as dt
import html

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury.anomalies.models import MetricAnomaly
from augury.search.service import Hit, Related

PER_METRIC = 3
"""Latest anomalies listed per matching metric."""


def _find(session: Session, org_id: int, metrics: list[Hit]) -> list[Hit]:
    by_id = {h.object_id: h for h in metrics}
    rows = session.scalars(
        select(MetricAnomaly)
        .where(MetricAnomaly.org_id == org_id, MetricAnomaly.metric_id.in_(list(by_id)))
        .order_by(MetricAnomaly.start.desc())
        .limit(PER_METRIC * len(by_id))
    ).all()
    seen: dict[int, int] = {}
    out = []
    for a in rows:
        seen[a.metric_id] = seen.get(a.metric_id, 0) + 1
        if seen[a.metric_id] > PER_METRIC:
            continue
        metric = by_id[a.metric_id]
        kind = "Spike" if a.direction == "up" else "Drop"
        start = dt.datetime.fromtimestamp(a.start, dt.UTC)
        state = "open" if a.state == "open" else "closed"
        out.append(
            Hit(
                kind="anomaly",
                object_id=a.id,
                title=f"{kind} in {metric.title}",
                body=f"{state}, peak score {a.peak_score:.0f}",
                link=f"/anomalies/{a.id}",
                # just below its metric, newer first
                score=metric.score * (0.99 - 0.01 * seen[a.metric_id]),
                title_html=f"{kind} in {metric.title_html}",
                snippet_html=html.escape(f"{state}, peak score {a.peak_score:.0f}"),
                created_at=a.created_at,
                updated_at=start,
            )
        )
    return out


RELATED = [Related(kind="anomaly", through="metric", find=_find)]
