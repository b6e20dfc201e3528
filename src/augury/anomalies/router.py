"""HTTP routes of anomalies and of the detection controls."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from augury.anomalies import schemas
from augury.anomalies import service as anomalies_service
from augury.anomalies.deps import AnomalyDep, ExclusionDep, SensitivityRuleDep
from augury.anomalies.models import TIMESCALES, AnomalyGroup, MetricAnomaly
from augury.api.deps import Reader, SessionDep, Writer
from augury.api.pagination import Page, PageDep, make_page
from augury.engines.detect.explain import Explanation
from augury.metrics.models import Metric

router = APIRouter(tags=["anomalies"])


def _metric_part(anomaly: MetricAnomaly, metric: Metric) -> dict:
    return {
        "id": anomaly.id,
        "metric_id": metric.id,
        "name": metric.name,
        "what": metric.what,
        "dimensions": metric.dimensions,
        "state": anomaly.state,
        "type": anomaly.type,
        "start": anomaly.start,
        "end": anomaly.end,
        "duration": anomaly.end - anomaly.start + anomaly.interval,
        "points": anomaly.points,
        "peak_score": anomaly.peak_score,
        "peak_ts": anomaly.peak_ts,
        "peak_value": anomaly.peak_value,
        "expected": anomaly.expected,
        "delta": anomaly.delta,
        "delta_pct": anomaly.delta_pct,
        "direction": anomaly.direction,
    }


def _group(group: AnomalyGroup, parts: list[tuple[MetricAnomaly, Metric]]) -> dict:
    metrics = [_metric_part(a, m) for a, m in parts]
    return {
        "id": group.id,
        "what": group.what,
        "timescale": TIMESCALES[group.timescale],
        "state": group.state,
        "start": group.start,
        "end": group.end,
        "duration": max(m["start"] + m["duration"] for m in metrics) - group.start
        if metrics
        else 0.0,
        "score": group.peak_score,
        "delta": group.delta,
        "delta_pct": group.delta_pct,
        "direction": group.direction,
        "metric_count": group.metric_count,
        "metrics": metrics,
        "created_at": group.created_at,
        "updated_at": group.updated_at,
    }


def _explanation(e: Explanation) -> dict:
    return {
        "sentence": e.sentence,
        "spread": e.spread,
        "drivers": [{"key": k, "value": v} for k, v in e.drivers],
        "share": e.share,
        "matched": e.matched,
        "matched_total": e.matched_total,
        "metrics": e.metrics,
        "population": e.population,
        "tokens": [
            {
                "key": t.key,
                "value": t.value,
                "anomalous": t.anomalous,
                "total": t.total,
                "share": t.share,
                "expected_share": t.expected_share,
                "lift": t.lift,
            }
            for t in e.tokens
        ],
        "token_count": e.token_count,
    }


def _filters(
    start: Annotated[float | None, Query(alias="from", ge=0, description="Epoch s.")] = None,
    end: Annotated[float | None, Query(alias="to", ge=0, description="Epoch s.")] = None,
    min_score: Annotated[float | None, Query(ge=0, le=100)] = None,
    min_duration: Annotated[float | None, Query(ge=0, description="Seconds.")] = None,
    min_delta: Annotated[float | None, Query(ge=0, description="Absolute delta.")] = None,
    min_delta_pct: Annotated[float | None, Query(ge=0, description="Delta in % of expected.")] = (
        None
    ),
    direction: Annotated[Literal["up", "down"] | None, Query()] = None,
    state: Annotated[Literal["open", "closed"] | None, Query()] = None,
    timescale: Annotated[Literal["native", "1h", "1d"] | None, Query()] = None,
    q: Annotated[
        str | None, Query(max_length=2000, description="Metric expression of its metrics.")
    ] = None,
) -> anomalies_service.AnomalyFilter:
    return anomalies_service.AnomalyFilter(
        start=start,
        end=end,
        min_score=min_score,
        min_duration=min_duration,
        min_delta=min_delta,
        min_delta_pct=min_delta_pct,
        direction=direction,
        state=state,
        timescale=timescale,
        q=q,
    )


Filters = Annotated[anomalies_service.AnomalyFilter, Depends(_filters)]


@router.get("/anomalies", response_model=Page[schemas.AnomalyRead])
def list_anomalies(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    filters: Filters,
    sort: Annotated[Literal["-score", "score", "-start", "start", "-duration"], Query()] = "-start",
):
    """Anomalies (grouped per `what` and time), filtered and sorted, with their metrics."""
    groups, total = anomalies_service.list_page(
        session=session, org_id=principal.org_id, page=page, filters=filters, sort=sort
    )
    parts = anomalies_service.members(session, groups)
    return make_page([_group(g, parts[g.id]) for g in groups], total, page)


@router.get("/anomalies/count", response_model=schemas.AnomalyCount)
def count_anomalies(principal: Reader, session: SessionDep, filters: Filters):
    """How many anomalies match the same filters as the list (and how many are open)."""
    return anomalies_service.count(session=session, org_id=principal.org_id, filters=filters)


@router.get("/anomalies/{anomaly_id}", response_model=schemas.AnomalyDetail)
def get_anomaly(
    group: AnomalyDep,
    session: SessionDep,
    context_points: Annotated[
        int, Query(ge=0, le=2000, description="Points shown before and after.")
    ] = 60,
):
    """One anomaly with its metrics, which dimension values drive it and, per metric,
    the points around it with the band."""
    parts = anomalies_service.members(session, [group])[group.id]
    explained = anomalies_service.explanation(
        session=session, org_id=group.org_id, group=group, parts=parts
    )
    series = anomalies_service.series_around(session, parts, context_points)
    return {**_group(group, parts), "explanation": _explanation(explained), "series": series}


# ------------------------------------------------------------------------ controls


@router.post("/metrics/learning/stop", response_model=schemas.LearningChange)
def stop_learning(body: schemas.LearningStop, principal: Writer, session: SessionDep):
    """Stop learning for metrics (ids or an expression): their points are still scored,
    but do not change what the detector thinks is normal (Anodot's snooze learning)."""
    n, until = anomalies_service.stop_learning(session=session, principal=principal, selection=body)
    return {"metrics": n, "until": until}


@router.post("/metrics/learning/resume", response_model=schemas.LearningChange)
def resume_learning(body: schemas.MetricSelection, principal: Writer, session: SessionDep):
    """Resume learning for metrics."""
    n = anomalies_service.resume_learning(session=session, principal=principal, selection=body)
    return {"metrics": n}


@router.get("/metrics/learning", response_model=list[schemas.PausedRead])
def paused_learning(principal: Reader, session: SessionDep):
    """Metrics whose learning is stopped now."""
    return anomalies_service.paused(session, principal.org_id)


@router.get("/exclusions", response_model=list[schemas.ExclusionRead])
def list_exclusions(principal: Reader, session: SessionDep):
    """Metrics and periods that detection ignores."""
    return anomalies_service.list_exclusions(session=session, org_id=principal.org_id)


@router.post(
    "/exclusions", status_code=status.HTTP_201_CREATED, response_model=schemas.ExclusionRead
)
def create_exclusion(body: schemas.ExclusionCreate, principal: Writer, session: SessionDep):
    """Ignore points of matching metrics (in a period, if given): not scored, not learned."""
    return anomalies_service.create_exclusion(session=session, principal=principal, body=body)


@router.delete("/exclusions/{exclusion_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_exclusion(principal: Writer, row: ExclusionDep, session: SessionDep):
    anomalies_service.delete_exclusion(session=session, principal=principal, row=row)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/sensitivity-rules", response_model=list[schemas.SensitivityRead])
def list_sensitivity_rules(principal: Reader, session: SessionDep):
    """Sensitivity per metric expression; the newest matching rule applies."""
    return anomalies_service.list_rules(session=session, org_id=principal.org_id)


@router.post(
    "/sensitivity-rules",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.SensitivityRead,
)
def create_sensitivity_rule(
    body: schemas.SensitivityCreate, principal: Writer, session: SessionDep
):
    """Set `low`, `medium` (default) or `high` sensitivity for matching metrics."""
    return anomalies_service.create_rule(session=session, principal=principal, body=body)


@router.delete("/sensitivity-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_sensitivity_rule(principal: Writer, row: SensitivityRuleDep, session: SessionDep):
    anomalies_service.delete_rule(session=session, principal=principal, row=row)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
