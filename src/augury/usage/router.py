"""HTTP routes of usage metrics: ``/api/v1/metrics/platform`` and
``/api/v1/metrics/user/{user_id}``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from augury.api.deps import Admin, ObjectId, Reader, SessionDep
from augury.usage import service

router = APIRouter(tags=["usage"])

Moment = Annotated[
    datetime | None,
    Query(description="ISO 8601 time or epoch seconds; without a zone, UTC."),
]


def _window(start: datetime | None, end: datetime | None) -> service.Window:
    def utc(moment: datetime | None) -> datetime | None:
        if moment is None or moment.tzinfo is not None:
            return moment
        return moment.replace(tzinfo=UTC)

    return service.Window.of(utc(start), utc(end))


@router.get("/metrics/platform")
def platform_metrics(
    principal: Admin,
    session: SessionDep,
    request: Request,
    start: Annotated[Moment, Query(alias="from")] = None,
    end: Annotated[Moment, Query(alias="to")] = None,
) -> dict:
    """Your organization's usage (admins): people (total, active today, this week, this
    month), charts, questions asked, datasets, points ingested, jobs, requests with their
    response times and error rate, uptime, a daily series and each member's requests.
    `from`/`to` bound the request figures, jobs, points and the series (default: the
    last 30 days). Counted from what augury records (requests, audit, jobs), so the
    request figures trail by the few seconds a server holds them in memory."""
    return service.platform(
        session,
        org_id=principal.org_id,
        window=_window(start, end),
        started_at=request.app.state.usage.started_at,
    )


@router.get("/metrics/user/{user_id}")
def user_metrics(
    user_id: ObjectId,
    principal: Reader,
    session: SessionDep,
    start: Annotated[Moment, Query(alias="from")] = None,
    end: Annotated[Moment, Query(alias="to")] = None,
) -> dict:
    """One member's usage in the window: charts created, questions, data uploaded, API
    calls, jobs; last login and logins this month; response times and success rate.
    Yours to read, anyone's in the organization for admins (404 outside it)."""
    member = service.visible_member(session, principal=principal, user_id=user_id)
    return service.user(session, org_id=principal.org_id, member=member, window=_window(start, end))
