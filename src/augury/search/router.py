"""HTTP route of the global search: ``GET /api/v1/search``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from augury.api.deps import Reader, SessionDep
from augury.api.pagination import PageDep
from augury.errors import ValidationFailed
from augury.search import schemas
from augury.search import service as search

router = APIRouter(prefix="/search", tags=["search"])

ALIASES = {
    "charts": "chart",
    "dashboards": "dashboard",
    "datasets": "dataset",
    "data_sources": "dataset",
    "metrics": "metric",
    "alerts": "alert",
    "anomalies": "anomaly",
    "forecasts": "forecast",
    "use_cases": "use_case",
    "use-cases": "use_case",
    "chatbots": "use_case",
    "members": "member",
    "users": "member",
    "data_streams": "data_stream",
    "data-streams": "data_stream",
}


def _kinds(value: str | None) -> list[str] | None:
    if not value:
        return None
    kinds = []
    for raw in value.split(","):
        name = ALIASES.get(raw.strip().lower(), raw.strip().lower())
        if name not in search.KINDS:
            raise ValidationFailed(
                f"Unknown type {raw.strip()!r}; types are {', '.join(search.KINDS)}.",
                details={"reason": "UNKNOWN_TYPE", "types": list(search.KINDS)},
            )
        kinds.append(name)
    return kinds


@router.get("", response_model=schemas.SearchPage)
def search_everything(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="Words to find.")],
    type: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Only these types, comma-separated: chart, dashboard, dataset, "
            "metric, alert, anomaly, forecast, member, use_case, data_source (a collector's "
            "source), data_stream (plurals and Aicser's data_sources, meaning datasets, "
            "and users are accepted).",
        ),
    ] = None,
):
    """Charts, dashboards, datasets, metrics, alerts, anomalies (by their metric),
    forecasts, members, chatbots and collectors' data sources and streams of the
    caller's organization whose words match every word of ``q`` (the last as a prefix),
    most relevant first, with the matches highlighted."""
    hits = search.search(session, principal, q, kinds=_kinds(type))
    best = max((h.score for h in hits), default=0.0)
    counts: dict[str, int] = {}
    for h in hits:
        counts[h.kind] = counts.get(h.kind, 0) + 1
    shown = hits[page.offset : page.offset + page.limit]
    return {
        "query": q,
        "items": [
            {
                "type": h.kind,
                "id": h.object_id,
                "title": h.title,
                "description": h.body,
                "link": h.link,
                "relevance_score": round(h.score / best, 4) if best > 0 else 0.0,
                "title_html": h.title_html,
                "snippet_html": h.snippet_html,
                "created_at": h.created_at,
                "updated_at": h.updated_at,
            }
            for h in shown
        ],
        "total": len(hits),
        "offset": page.offset,
        "limit": page.limit,
        "has_more": page.offset + len(shown) < len(hits),
        "counts": counts,
    }
