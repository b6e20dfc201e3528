"""Bodies of the applications, subscriptions and summaries API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from augury.predictive.models import Application
from augury.schemas import StrictModel


class SubscriptionCreate(StrictModel):
    """Subscribe the organization to an application (again, when it was cancelled)."""

    application: Application


class SubscriptionUpdate(StrictModel):
    """Pause an active subscription or resume a paused one."""

    status: Literal["active", "paused"]


class SubscriptionRead(BaseModel):
    id: int
    application: str
    status: str
    subscribed_at: datetime
    paused_at: datetime | None
    cancelled_at: datetime | None


class ApplicationRead(BaseModel):
    """An application the organization may subscribe to, and its subscription (null
    when it never subscribed)."""

    name: str
    title: str
    description: str
    tasks: list[str]
    subscription: SubscriptionRead | None


class SubscriptionCounts(BaseModel):
    subscribed: int
    paused: int
    cancelled: int
    available: int


class ApplicationSummary(BaseModel):
    """One application's use in the period: models made, versions trained, rows
    predicted, what-ifs, its jobs by status and what they consumed."""

    application: str
    models: int
    versions: int
    predictions: int
    what_ifs: int
    jobs: dict[str, int]
    consumptions: dict[str, float]


class SummaryBucket(BaseModel):
    bucket: str
    application: str
    trainings: int
    predictions: int


class Summary(BaseModel):
    """Anaimo's summaries: subscriptions, per-application use, and trainings and
    predictions per ``bucket`` (day, week or month, UTC) between ``start`` and ``end``."""

    start: datetime
    end: datetime
    bucket: str
    applications: SubscriptionCounts
    per_application: list[ApplicationSummary]
    over_time: list[SummaryBucket]
    jobs: dict[str, Any]
