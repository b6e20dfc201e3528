"""Applications (Forecast, Failure prediction, Classification, Regression), the
organization's subscriptions to them, and the summaries of their use.

An application is what the engine offers (``augury.engines.tabular.automl.APPLICATIONS``);
a subscription is the organization's choice to use it. Only an active subscription lets
an organization train (:func:`require_active`, 409 ``NOT_SUBSCRIBED``); a paused or
cancelled one keeps its models predicting, so pausing never breaks what runs on them.
Cancelling keeps the row (``cancelled_at``) and subscribing again reactivates it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.errors import Conflict, ValidationFailed
from augury.jobs.models import Job, JobStatus
from augury.predictive.models import (
    ModelUsage,
    ModelVersion,
    PredictiveModel,
    Subscription,
    SubscriptionStatus,
)
from augury.store.owned import get_owned

JOB_TYPES = ("models.train", "models.predict")
BUCKETS = ("day", "week", "month")
MAX_SUMMARY_DAYS = 3660
AUDITED = ("application", "status")


class NotSubscribed(Conflict):
    """409 ``NOT_SUBSCRIBED``: the organization's subscription to the application is not
    active (none, paused or cancelled)."""

    code = "NOT_SUBSCRIBED"


def catalog() -> dict[str, dict[str, Any]]:
    """The engine's applications: name -> title, description, tasks."""
    from augury.engines.tabular.automl import APPLICATIONS

    return APPLICATIONS


def list_applications(session: Session, org_id: int) -> list[dict[str, Any]]:
    """Every application, with the organization's subscription to it (or null)."""
    subs = {
        s.application: s
        for s in session.scalars(select(Subscription).where(Subscription.org_id == org_id))
    }
    return [
        {
            "name": name,
            "title": info["title"],
            "description": info["description"],
            "tasks": list(info["tasks"]),
            "subscription": subs.get(name),
        }
        for name, info in catalog().items()
    ]


def get_subscription(session: Session, org_id: int, subscription_id: int) -> Subscription:
    return get_owned(session, Subscription, org_id, subscription_id, "Subscription")


def list_subscriptions(
    session: Session, org_id: int, *, status: str | None = None, search: str | None = None
) -> list[Subscription]:
    """The organization's subscriptions in the applications' order; ``search`` matches
    the application's name or title."""
    stmt = select(Subscription).where(Subscription.org_id == org_id)
    if status:
        stmt = stmt.where(Subscription.status == status)
    rows = list(session.scalars(stmt))
    apps = catalog()
    if search:
        needle = search.lower()
        rows = [
            s
            for s in rows
            if needle in s.application.lower()
            or needle in str(apps.get(s.application, {}).get("title", "")).lower()
        ]
    order = {name: i for i, name in enumerate(apps)}
    return sorted(rows, key=lambda s: (order.get(s.application, len(order)), s.id))


def subscribe(session: Session, principal: Principal, application: str) -> Subscription:
    """Subscribe the organization to ``application``; a cancelled subscription is made
    active again (409 when it is active or paused)."""
    if application not in catalog():
        raise ValidationFailed(
            f"application: there is no application '{application}'.",
            details={"known": list(catalog())},
        )
    now = clock.now()
    found = session.scalar(
        select(Subscription).where(
            Subscription.org_id == principal.org_id, Subscription.application == application
        )
    )
    if found is not None and found.status != SubscriptionStatus.CANCELLED:
        hint = "" if found.status == SubscriptionStatus.ACTIVE else ": resume it instead"
        raise Conflict(
            f"The organization's subscription to {application} is {found.status}{hint}.",
            details={"reason": "ALREADY_SUBSCRIBED", "subscription_id": found.id},
        )
    before = audit.snapshot(found, AUDITED) if found is not None else None
    if found is None:
        found = Subscription(
            org_id=principal.org_id,
            application=application,
            created_by_id=principal.user_id,
        )
        session.add(found)
    found.status = SubscriptionStatus.ACTIVE
    found.subscribed_at = now
    found.paused_at = None
    found.cancelled_at = None
    found.updated_at = now
    session.flush()
    audit.record_change(
        session=session,
        principal=principal,
        action="models.subscription.create",
        target_type="model_subscription",
        target_id=found.id,
        before=before,
        after=audit.snapshot(found, AUDITED),
    )
    return found


def set_status(
    session: Session, principal: Principal, subscription: Subscription, status: str
) -> Subscription:
    """Pause an active subscription or resume a paused one (409 for a cancelled one:
    subscribe again)."""
    if subscription.status == SubscriptionStatus.CANCELLED:
        raise Conflict(
            "The subscription is cancelled: subscribe again to use the application.",
            details={"reason": "CANCELLED", "status": subscription.status},
        )
    if subscription.status == status:
        return subscription
    before = audit.snapshot(subscription, AUDITED)
    now = clock.now()
    subscription.status = status
    if status == SubscriptionStatus.PAUSED:
        subscription.paused_at = now
    else:
        subscription.subscribed_at = now
        subscription.paused_at = None
    subscription.updated_at = now
    session.flush()
    audit.record_change(
        session=session,
        principal=principal,
        action="models.subscription.update",
        target_type="model_subscription",
        target_id=subscription.id,
        before=before,
        after=audit.snapshot(subscription, AUDITED),
    )
    return subscription


def cancel(session: Session, principal: Principal, subscription: Subscription) -> Subscription:
    """Cancel the subscription (kept, with ``cancelled_at``); its models still predict
    but no longer train. Cancelling a cancelled one changes nothing."""
    if subscription.status == SubscriptionStatus.CANCELLED:
        return subscription
    before = audit.snapshot(subscription, AUDITED)
    now = clock.now()
    subscription.status = SubscriptionStatus.CANCELLED
    subscription.cancelled_at = now
    subscription.updated_at = now
    session.flush()
    audit.record_change(
        session=session,
        principal=principal,
        action="models.subscription.cancel",
        target_type="model_subscription",
        target_id=subscription.id,
        before=before,
        after=audit.snapshot(subscription, AUDITED),
    )
    return subscription


def require_active(session: Session, org_id: int, application: str) -> Subscription:
    """The organization's active subscription to ``application``, else 409
    ``NOT_SUBSCRIBED`` saying what to do."""
    found = session.scalar(
        select(Subscription).where(
            Subscription.org_id == org_id, Subscription.application == application
        )
    )
    if found is not None and found.status == SubscriptionStatus.ACTIVE:
        return found
    state = found.status if found is not None else "none"
    what = {
        "none": "is not subscribed to it: an admin subscribes it under Applications",
        SubscriptionStatus.PAUSED: "has paused its subscription: an admin resumes it",
        SubscriptionStatus.CANCELLED: "cancelled its subscription: an admin subscribes again",
    }[state]
    raise NotSubscribed(
        f"Training a {application} model needs an active subscription; the organization {what}.",
        details={"reason": "NOT_SUBSCRIBED", "application": application, "subscription": state},
    )


# --- summaries -----------------------------------------------------------------------------


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _bounded(name: str, value: datetime) -> datetime:
    """``value`` in UTC, refused (422) outside 1970..9000: a summary's buckets reach
    past its ends, and year 1 or 9999 overflows Python's dates."""
    try:
        utc = _utc(value)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise ValidationFailed(f"{name}: a date between 1970 and 9000.")
    return utc


def bucket_of(when: datetime, bucket: str) -> str:
    """The bucket a moment falls in (UTC): its day, its week's Monday, or its month."""
    day = _utc(when).date()
    if bucket == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    if bucket == "month":
        return day.strftime("%Y-%m")
    return day.isoformat()


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
"""The dates a summary may span: room for its buckets' arithmetic on either side."""


def summary(
    session: Session,
    org_id: int,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    bucket: str = "day",
) -> dict[str, Any]:
    """Per application, in ``[start, end)`` (default: the last 30 days): models made,
    versions trained, rows predicted, what-ifs, its jobs by status and their
    consumptions; trainings and predictions per bucket; the subscriptions' counts and
    the models' jobs running now."""
    if bucket not in BUCKETS:
        raise ValidationFailed(f"bucket: one of {', '.join(BUCKETS)}.")
    end = _bounded("end", end) if end is not None else clock.now()
    start = _bounded("start", start) if start is not None else end - timedelta(days=30)
    if start >= end:
        raise ValidationFailed("start: before end.")
    if end - start > timedelta(days=MAX_SUMMARY_DAYS):
        raise ValidationFailed(f"end: at most {MAX_SUMMARY_DAYS} days after start.")

    statuses = Counter(
        session.scalars(select(Subscription.status).where(Subscription.org_id == org_id))
    )
    apps = list(catalog())
    per: dict[str, dict[str, Any]] = {
        a: {
            "application": a,
            "models": 0,
            "versions": 0,
            "predictions": 0,
            "what_ifs": 0,
            "jobs": {},
            "consumptions": {
                "cpu_s": 0.0,
                "peak_rss_mb": 0.0,
                "disk_written_mb": 0.0,
                "wall_s": 0.0,
            },
        }
        for a in apps
    }
    over: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {"trainings": 0, "predictions": 0}
    )
    job_app: dict[int, str] = {}

    models = session.execute(
        select(PredictiveModel.application, func.count())
        .where(
            PredictiveModel.org_id == org_id,
            PredictiveModel.created_at >= start,
            PredictiveModel.created_at < end,
        )
        .group_by(PredictiveModel.application)
    )
    for application, n in models:
        if application in per:
            per[application]["models"] = int(n)

    versions = session.execute(
        select(PredictiveModel.application, ModelVersion.created_at, ModelVersion.job_id)
        .join(PredictiveModel, PredictiveModel.id == ModelVersion.model_id)
        .where(
            ModelVersion.org_id == org_id,
            ModelVersion.created_at >= start,
            ModelVersion.created_at < end,
        )
    )
    for application, created, job_id in versions:
        if application not in per:
            continue
        per[application]["versions"] += 1
        over[(bucket_of(created, bucket), application)]["trainings"] += 1
        if job_id is not None:
            job_app[job_id] = application

    usage = session.execute(
        select(
            ModelUsage.application,
            ModelUsage.kind,
            ModelUsage.rows,
            ModelUsage.created_at,
            ModelUsage.job_id,
        ).where(
            ModelUsage.org_id == org_id,
            ModelUsage.created_at >= start,
            ModelUsage.created_at < end,
        )
    )
    for application, kind, rows, created, job_id in usage:
        if application not in per:
            continue
        if kind == "what_if":
            per[application]["what_ifs"] += 1
        else:
            per[application]["predictions"] += int(rows or 0)
            over[(bucket_of(created, bucket), application)]["predictions"] += int(rows or 0)
        if job_id is not None:
            job_app[job_id] = application

    if job_app:
        for job in session.scalars(select(Job).where(Job.id.in_(list(job_app)))):
            entry = per[job_app[job.id]]
            entry["jobs"][job.status] = entry["jobs"].get(job.status, 0) + 1
            used = entry["consumptions"]
            used["cpu_s"] += float(job.cpu_seconds or 0.0)
            used["peak_rss_mb"] = max(used["peak_rss_mb"], float(job.peak_memory_mb or 0.0))
            used["disk_written_mb"] += float(job.disk_written_mb or 0.0)
            if job.started_at is not None:
                finished = job.finished_at or clock.now()
                used["wall_s"] += max(0.0, (finished - job.started_at).total_seconds())
    for entry in per.values():
        entry["consumptions"] = {k: round(v, 3) for k, v in entry["consumptions"].items()}

    active = Counter(
        session.scalars(
            select(Job.status).where(
                Job.org_id == org_id,
                Job.type.in_(JOB_TYPES),
                Job.status.in_([JobStatus.pending, JobStatus.running]),
            )
        )
    )
    return {
        "start": start,
        "end": end,
        "bucket": bucket,
        "applications": {
            "subscribed": statuses.get(SubscriptionStatus.ACTIVE, 0),
            "paused": statuses.get(SubscriptionStatus.PAUSED, 0),
            "cancelled": statuses.get(SubscriptionStatus.CANCELLED, 0),
            "available": len(apps),
        },
        "per_application": list(per.values()),
        "over_time": [
            {"bucket": b, "application": a, **counts} for (b, a), counts in sorted(over.items())
        ],
        "jobs": {
            "running": active.get(JobStatus.running, 0),
            "waiting": active.get(JobStatus.pending, 0),
        },
    }
