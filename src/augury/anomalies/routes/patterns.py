"""HTTP routes of "seen before": ``/anomalies/{id}/similar`` and ``/patterns``.

Viewers read; members and above save, change and delete patterns. A pattern or an
anomaly of another organization is a 404, as if it did not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from augury.anomalies import pattern_schemas as schemas
from augury.anomalies import patterns as service
from augury.anomalies.deps import AnomalyDep
from augury.anomalies.models import AnomalyPattern
from augury.api.deps import ObjectId, Reader, SessionDep, Writer
from augury.api.pagination import Page, PageDep, make_page

router = APIRouter(tags=["patterns"])


def _pattern(pattern_id: ObjectId, principal: Reader, session: SessionDep) -> AnomalyPattern:
    return service.get_or_raise(session=session, org_id=principal.org_id, pattern_id=pattern_id)


PatternDep = Annotated[AnomalyPattern, Depends(_pattern)]
"""The pattern ``{pattern_id}`` of the principal's organization (404 otherwise)."""


def _one(session, row: AnomalyPattern) -> dict:
    return service.read(row, service.match_counts(session, [row.id]).get(row.id, 0))


@router.get("/anomalies/{anomaly_id}/similar", response_model=schemas.SimilarRead)
def similar_anomalies(
    group: AnomalyDep,
    principal: Reader,
    session: SessionDep,
    metric_id: Annotated[
        int | None,
        Query(ge=1, le=2**31 - 1, description="Which of its metrics; unset: the strongest."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    min_similarity: Annotated[float, Query(ge=0, le=1)] = 0.5,
):
    """Seen before: the past anomalies of the same metric and of metrics with the same
    `what` (same time scale) most like this one, with a similarity 0-1 and a link, and
    the saved patterns it matched."""
    return service.similar_episodes(
        session=session,
        org_id=principal.org_id,
        group=group,
        metric_id=metric_id,
        limit=limit,
        min_similarity=min_similarity,
    )


@router.post("/patterns", status_code=status.HTTP_201_CREATED, response_model=schemas.PatternRead)
def create_pattern(body: schemas.PatternCreate, principal: Writer, session: SessionDep):
    """Save an anomaly's episode as a named pattern: anomalies recorded from now on that
    match it (similarity at least `threshold`) are labelled with it."""
    return _one(session, service.create(session=session, principal=principal, body=body))


@router.get("/patterns", response_model=Page[schemas.PatternRead])
def list_patterns(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    metric_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    enabled: bool | None = None,
):
    """Saved patterns, newest first."""
    rows, total = service.list_page(
        session=session, org_id=principal.org_id, page=page, metric_id=metric_id, enabled=enabled
    )
    counts = service.match_counts(session, [r.id for r in rows])
    return make_page([service.read(r, counts.get(r.id, 0)) for r in rows], total, page)


@router.get("/patterns/{pattern_id}", response_model=schemas.PatternRead)
def get_pattern(row: PatternDep, session: SessionDep):
    return _one(session, row)


@router.patch("/patterns/{pattern_id}", response_model=schemas.PatternRead)
def update_pattern(
    body: schemas.PatternUpdate, principal: Writer, row: PatternDep, session: SessionDep
):
    """Change the name, description, scope, threshold or enabled; a higher threshold
    drops the matches below it."""
    return _one(session, service.update(session=session, principal=principal, row=row, body=body))


@router.delete("/patterns/{pattern_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_pattern(principal: Writer, row: PatternDep, session: SessionDep):
    """Delete the pattern and its matches (the anomalies stay)."""
    service.delete_pattern(session=session, principal=principal, row=row)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/patterns/{pattern_id}/matches", response_model=Page[schemas.MatchRead])
def pattern_matches(row: PatternDep, session: SessionDep, page: PageDep):
    """The later anomalies labelled with the pattern, newest first, with their similarity."""
    items, total = service.matches_page(session=session, pattern=row, page=page)
    return make_page(items, total, page)
