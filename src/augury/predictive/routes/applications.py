"""HTTP routes of applications, the organization's subscriptions to them, and the
summaries of their use."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from augury.api.deps import Admin, ObjectId, Reader, SessionDep
from augury.predictive.models import SubscriptionStatus
from augury.predictive.schemas.applications import (
    ApplicationRead,
    SubscriptionCreate,
    SubscriptionRead,
    SubscriptionUpdate,
    Summary,
)
from augury.predictive.services import applications

router = APIRouter()


@router.get("/applications", response_model=list[ApplicationRead])
def list_applications(principal: Reader, session: SessionDep):
    """Forecast, Failure prediction, Classification and Regression, each with the
    organization's subscription (null when it never subscribed)."""
    return applications.list_applications(session, principal.org_id)


@router.get("/subscriptions", response_model=list[SubscriptionRead])
def list_subscriptions(
    principal: Reader,
    session: SessionDep,
    status: SubscriptionStatus | None = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
):
    """The organization's subscriptions (active, paused and cancelled)."""
    return applications.list_subscriptions(session, principal.org_id, status=status, search=search)


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED, response_model=SubscriptionRead)
def subscribe(body: SubscriptionCreate, principal: Admin, session: SessionDep):
    """Subscribe the organization to an application, so that it can train models of it;
    a cancelled subscription is made active again (409 when it is active or paused)."""
    return applications.subscribe(session, principal, body.application)


@router.patch("/subscriptions/{subscription_id}", response_model=SubscriptionRead)
def update_subscription(
    subscription_id: ObjectId, body: SubscriptionUpdate, principal: Admin, session: SessionDep
):
    """Pause (no new trainings; its models still predict) or resume a subscription."""
    found = applications.get_subscription(session, principal.org_id, subscription_id)
    return applications.set_status(session, principal, found, body.status)


@router.delete("/subscriptions/{subscription_id}", response_model=SubscriptionRead)
def cancel_subscription(subscription_id: ObjectId, principal: Admin, session: SessionDep):
    """Cancel a subscription: kept as cancelled (subscribe again to reactivate it)."""
    found = applications.get_subscription(session, principal.org_id, subscription_id)
    return applications.cancel(session, principal, found)


@router.get("/summaries", response_model=Summary)
def summaries(
    principal: Reader,
    session: SessionDep,
    start: datetime | None = None,
    end: datetime | None = None,
    bucket: Literal["day", "week", "month"] = "day",
):
    """Per application between `start` and `end` (default: the last 30 days): models,
    versions trained, rows predicted, what-ifs, jobs by status and their consumptions;
    trainings and predictions per day, week or month; subscriptions; jobs running."""
    return applications.summary(session, principal.org_id, start=start, end=end, bucket=bucket)
