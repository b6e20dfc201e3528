"""Routes of feedback on anomalies and triggered alerts, and what it taught a metric."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from augury.alerts import schemas
from augury.alerts.deps import FeedbackDep
from augury.alerts.routes.params import Epoch
from augury.alerts.services import feedback
from augury.api.deps import ObjectId, Reader, SessionDep, Writer
from augury.api.pagination import Page, PageDep, make_page

router = APIRouter()


@router.post("/feedback", status_code=status.HTTP_201_CREATED, response_model=schemas.FeedbackRead)
def give_feedback(body: schemas.FeedbackCreate, principal: Writer, session: SessionDep):
    """Good catch / not interesting on an anomaly or a triggered alert. *Not
    interesting* makes deviations of that size and shape on those metrics stop alerting;
    clearly larger, longer or opposite ones still do."""
    return feedback.give(session, principal, body)


@router.get("/feedback", response_model=Page[schemas.FeedbackRead])
def list_feedback(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    start: Annotated[Epoch, Query(alias="from")] = None,
    end: Annotated[Epoch, Query(alias="to")] = None,
    type: Literal["good_catch", "not_interesting"] | None = None,
    anomaly_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    trigger_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
):
    """Feedback, newest first; `anomaly_id` (given on the anomaly itself) or
    `trigger_id` narrow it to one target."""
    rows, total = feedback.list_page(
        session,
        principal.org_id,
        page,
        start=start,
        end=end,
        type=type,
        anomaly_id=anomaly_id,
        trigger_id=trigger_id,
    )
    return make_page(rows, total, page)


@router.delete("/feedback/{feedback_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_feedback(principal: Writer, row: FeedbackDep, session: SessionDep):
    """Withdraw feedback (what it taught is forgotten)."""
    feedback.delete(session, row)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/metrics/{metric_id}/feedback-profile")
def feedback_profile(metric_id: ObjectId, principal: Reader, session: SessionDep) -> dict:
    """What feedback taught about this metric: the deviations marked benign or real."""
    return feedback.metric_profile(session, principal.org_id, metric_id)
