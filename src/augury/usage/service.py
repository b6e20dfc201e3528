"""Usage figures counted from what augury records, never from counters of their own.

- requests, API calls, response times, error rates and active people: ``api_usage``
  (the request middleware's minute rows); a person is active when they used the API or
  the UI signed in as themself (requests made with their API keys are API calls, not
  activity);
- questions asked: the requests to the routes that answer a question
  (:data:`QUESTION_ROUTES`), whatever their answer;
- charts: saved charts; datasets and data uploaded: datasets and their versions (the
  bytes received); points ingested: the ingest statistics; jobs: the job table;
  logins: the audit log's successful ``auth.login`` entries.

Everything is one organization's. ``today`` starts at 00:00 UTC; ``this_week`` and
``this_month`` are the last 7 and 30 days. A window (``start``, ``end``) bounds the
request figures, the jobs, the points and the daily series (the default: 30 days); a
minute's row counts when the minute starts in it (``end`` included: the current
minute's requests are in a window that ends now).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, distinct, func, or_, select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.models import Membership, User
from augury.accounts.principal import Principal
from augury.analytics.models import SavedChart
from augury.audit.models import AuditEvent
from augury.chat.services import tokens as chat_tokens
from augury.datasets.models import Dataset, DatasetVersion
from augury.errors import NotFound, ValidationFailed
from augury.jobs.models import Job, JobStatus
from augury.metrics.models import IngestStat
from augury.usage.models import ApiUsage

QUESTION_ROUTES = (
    ("POST", "/api/v1/analytics/chart"),
    ("POST", "/api/v1/ai/intelligent-analysis"),
)
"""The routes that answer a question about a dataset: each request is a question asked."""

DEFAULT_WINDOW = timedelta(days=30)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""The earliest ``from`` or ``to`` a window may name."""
MAX_WINDOW = timedelta(days=366)
MB = 1024 * 1024


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @classmethod
    def of(cls, start: datetime | None, end: datetime | None) -> Window:
        """The window asked for: ``end`` defaults to now, ``start`` to 30 days before it.
        Neither may be before :data:`EARLIEST` (422: nothing is recorded that early, and
        30 days before 0001-01-05 is no date at all)."""
        for field, moment in (("from", start), ("to", end)):
            if moment is not None and moment < EARLIEST:
                raise ValidationFailed(
                    f"'{field}' must be {EARLIEST.date().isoformat()} or later.",
                    details={"field": field},
                )
        end = end or clock.now()
        start = start or end - DEFAULT_WINDOW
        if start >= end:
            raise ValidationFailed("'from' must be before 'to'.", details={"field": "from"})
        if end - start > MAX_WINDOW:
            raise ValidationFailed(
                f"The window may span {MAX_WINDOW.days} days at most.", details={"field": "from"}
            )
        return cls(start, end)


def _periods() -> dict[str, datetime]:
    now = clock.now()
    return {
        "today": now.replace(hour=0, minute=0, second=0, microsecond=0),
        "this_week": now - timedelta(days=7),
        "this_month": now - timedelta(days=30),
    }


def _question() -> ColumnElement[bool]:
    return or_(*(and_(ApiUsage.method == m, ApiUsage.route == r) for m, r in QUESTION_ROUTES))


def _person() -> ColumnElement[bool]:
    """Requests a person made signed in as themself (not with an API key)."""
    return and_(ApiUsage.user_id != 0, ApiUsage.key_id == 0)


def _scalar(session: Session, stmt: Select) -> int:
    return int(session.scalar(stmt) or 0)


def _requests(session: Session, *where: ColumnElement[bool]) -> dict:
    """Requests, errors and response times of the ``api_usage`` rows ``where`` selects."""
    row = session.execute(
        select(
            func.coalesce(func.sum(ApiUsage.requests), 0),
            func.coalesce(func.sum(ApiUsage.client_errors), 0),
            func.coalesce(func.sum(ApiUsage.server_errors), 0),
            func.coalesce(func.sum(ApiUsage.duration_ms), 0.0),
            func.coalesce(func.max(ApiUsage.max_duration_ms), 0.0),
        ).where(*where)
    ).one()
    requests, client_errors, server_errors, duration_ms, slowest = row
    requests = int(requests)
    errors = int(client_errors) + int(server_errors)
    return {
        "requests": requests,
        "client_errors": int(client_errors),
        "server_errors": int(server_errors),
        "average_response_time_ms": round(float(duration_ms) / requests, 3) if requests else None,
        "max_response_time_ms": round(float(slowest), 3) if requests else None,
        "error_rate": round(errors / requests, 6) if requests else 0.0,
        "success_rate": round(1 - errors / requests, 6) if requests else None,
        "availability": round(1 - int(server_errors) / requests, 6) if requests else None,
    }


def _daily(session: Session, window: Window, *where: ColumnElement[bool]) -> list[dict]:
    """One entry per day of the window (UTC), days without requests included."""
    day = func.date(ApiUsage.minute)
    rows = session.execute(
        select(
            day,
            func.sum(ApiUsage.requests),
            func.sum(ApiUsage.client_errors + ApiUsage.server_errors),
            func.sum(ApiUsage.duration_ms),
            func.count(distinct(ApiUsage.user_id)).filter(_person()),
            func.coalesce(func.sum(ApiUsage.requests).filter(_question()), 0),
        )
        .where(ApiUsage.minute >= window.start, ApiUsage.minute <= window.end, *where)
        .group_by(day)
    ).all()
    found = {str(r[0])[:10]: r for r in rows}
    first, last = window.start.date(), (window.end - timedelta(microseconds=1)).date()
    series = []
    for offset in range((last - first).days + 1):
        key = (first + timedelta(days=offset)).isoformat()
        _, requests, errors, duration_ms, people, questions = found.get(key, (key, 0, 0, 0.0, 0, 0))
        series.append(
            {
                "day": key,
                "requests": int(requests or 0),
                "errors": int(errors or 0),
                "average_response_time_ms": (
                    round(float(duration_ms) / requests, 3) if requests else None
                ),
                "active_users": int(people or 0),
                "ai_queries": int(questions or 0),
            }
        )
    return series


def _counts_since(session: Session, column, periods: dict[str, datetime], *where) -> dict:
    return {
        name: _scalar(session, select(func.count()).where(column >= since, *where))
        for name, since in periods.items()
    }


def platform(session: Session, *, org_id: int, window: Window, started_at: datetime) -> dict:
    """The organization's figures for its admins (``GET /metrics/platform``)."""
    periods = _periods()
    in_org = ApiUsage.org_id == org_id
    in_window = and_(ApiUsage.minute >= window.start, ApiUsage.minute <= window.end)
    members = _scalar(
        session,
        select(func.count()).where(Membership.org_id == org_id, Membership.disabled_at.is_(None)),
    )
    active = {
        f"active_{name}": _scalar(
            session,
            select(func.count(distinct(ApiUsage.user_id))).where(
                in_org, _person(), ApiUsage.minute >= since
            ),
        )
        for name, since in periods.items()
    }
    chart_in_org = SavedChart.org_id == org_id
    charts = {
        "total": _scalar(session, select(func.count()).where(chart_in_org)),
        **{
            f"created_{name}": n
            for name, n in _counts_since(
                session, SavedChart.created_at, periods, chart_in_org
            ).items()
        },
    }
    questions = {
        "total": _requests(session, in_org, _question())["requests"],
        **{
            name: _requests(session, in_org, _question(), ApiUsage.minute >= since)["requests"]
            for name, since in periods.items()
        },
    }
    requests = _requests(session, in_org, in_window)
    return {
        "organization_id": org_id,
        "from": window.start,
        "to": window.end,
        "users": {"total": members, **active},
        "charts": charts,
        "ai_queries": questions,
        "datasets": _datasets(session, org_id),
        "metrics": _points(session, org_id, window),
        "jobs": _jobs(session, org_id, window),
        "chat": chat_tokens.summary(session, org_id, window.start, window.end),
        "requests": {key: requests[key] for key in ("requests", "client_errors", "server_errors")},
        "performance": _performance(requests, started_at),
        "daily": _daily(session, window, in_org),
        "members": members_usage(session, org_id=org_id, window=window),
    }


def _datasets(session: Session, org_id: int) -> dict:
    versions = session.execute(
        select(func.count(), func.coalesce(func.sum(DatasetVersion.source_bytes), 0)).where(
            DatasetVersion.org_id == org_id
        )
    ).one()
    return {
        "total": _scalar(session, select(func.count()).where(Dataset.org_id == org_id)),
        "versions": int(versions[0]),
        "uploaded_bytes": int(versions[1]),
    }


def _points(session: Session, org_id: int, window: Window) -> dict:
    accepted, refused = session.execute(
        select(
            func.coalesce(func.sum(IngestStat.accepted), 0),
            func.coalesce(func.sum(IngestStat.refused), 0),
        ).where(
            IngestStat.org_id == org_id,
            IngestStat.minute >= _epoch(window.start),
            IngestStat.minute <= _epoch(window.end),
        )
    ).one()
    return {"points_ingested": int(accepted), "points_refused": int(refused)}


def _epoch(moment: datetime) -> int:
    """``moment`` as the epoch seconds of ``metric_ingest_stat.minute``, a 32-bit column:
    a time past 2038 (or before 1902) is read as its end of that range, where there are
    no rows (PostgreSQL refused the bigger number: a 500 for ``?to=2039-01-01``)."""
    return max(-(2**31), min(2**31 - 1, int(moment.timestamp())))


def _jobs(session: Session, org_id: int, window: Window, *where) -> dict:
    rows = session.execute(
        select(Job.status, func.count())
        .where(
            Job.org_id == org_id,
            Job.created_at >= window.start,
            Job.created_at < window.end,
            *where,
        )
        .group_by(Job.status)
    ).all()
    by_status = {status: int(n) for status, n in rows}
    return {
        "total": sum(by_status.values()),
        **{status.value: by_status.get(status.value, 0) for status in JobStatus},
    }


def _performance(requests: dict, started_at: datetime) -> dict:
    """Response times in seconds as Aicser has them (and in ms); ``uptime_percentage``
    is the share of requests answered without a server error (availability as the
    users saw it: a server that is down answers nobody, an idle one fails nobody), and
    ``uptime_s`` how long this server process has been up."""
    mean = requests["average_response_time_ms"]
    return {
        "average_response_time": round(mean / 1000, 6) if mean is not None else None,
        "average_response_time_ms": mean,
        "max_response_time_ms": requests["max_response_time_ms"],
        "error_rate": requests["error_rate"],
        "uptime_percentage": (
            round(requests["availability"] * 100, 4)
            if requests["availability"] is not None
            else 100.0
        ),
        "uptime_s": int((clock.now() - started_at).total_seconds()),
        "started_at": started_at,
    }


def visible_member(session: Session, *, principal: Principal, user_id: int) -> Membership:
    """The member whose usage ``principal`` may read: themself, or anyone of the
    organization for its admins. Someone outside the organization does not exist here
    (404); another member is an admin's business (403)."""
    member = session.scalar(
        select(Membership).where(
            Membership.org_id == principal.org_id, Membership.user_id == user_id
        )
    )
    if member is None:
        raise NotFound("No such user in this organization.")
    if user_id != principal.user_id:
        principal.require("admin")
    return member


def user(session: Session, *, org_id: int, member: Membership, window: Window) -> dict:
    """One member's usage in the organization (``GET /metrics/user/{user_id}``)."""
    user_id = member.user_id
    mine = and_(ApiUsage.org_id == org_id, ApiUsage.user_id == user_id)
    in_window = and_(ApiUsage.minute >= window.start, ApiUsage.minute <= window.end)
    calls = _requests(session, mine, in_window)
    questions = _requests(session, mine, in_window, _question())
    uploaded = _scalar(
        session,
        select(func.coalesce(func.sum(DatasetVersion.source_bytes), 0)).where(
            DatasetVersion.org_id == org_id,
            DatasetVersion.created_by_id == user_id,
            DatasetVersion.created_at >= window.start,
            DatasetVersion.created_at < window.end,
        ),
    )
    charts = _scalar(
        session,
        select(func.count()).where(
            SavedChart.org_id == org_id,
            SavedChart.created_by_id == user_id,
            SavedChart.created_at >= window.start,
            SavedChart.created_at < window.end,
        ),
    )
    person: User = member.user
    return {
        "user_id": user_id,
        "organization_id": org_id,
        "email": person.email,
        "name": person.name,
        "from": window.start,
        "to": window.end,
        "usage": {
            "charts_created": charts,
            "ai_queries": questions["requests"],
            "data_uploaded_bytes": uploaded,
            "data_uploaded_mb": round(uploaded / MB, 3),
            "api_calls": calls["requests"],
            "jobs": _jobs(session, org_id, window, Job.user_id == user_id)["total"],
        },
        "activity": {
            "last_login": person.last_login_at,
            "login_count_this_month": _scalar(
                session,
                select(func.count()).where(
                    AuditEvent.action == "auth.login",
                    AuditEvent.outcome == "success",
                    AuditEvent.actor_user_id == user_id,
                    AuditEvent.created_at >= _periods()["this_month"],
                ),
            ),
            "last_active": session.scalar(select(func.max(ApiUsage.minute)).where(mine, _person())),
        },
        "performance": {
            "average_query_time": (
                round(questions["average_response_time_ms"] / 1000, 6)
                if questions["average_response_time_ms"] is not None
                else None
            ),
            "average_response_time_ms": calls["average_response_time_ms"],
            "error_rate": calls["error_rate"],
            "success_rate": calls["success_rate"],
        },
        "daily": _daily(session, window, mine),
    }


def members_usage(session: Session, *, org_id: int, window: Window) -> list[dict]:
    """Requests, questions and last activity of every member in the window, for the
    admin page's table (one query, not one per member)."""
    rows = session.execute(
        select(
            ApiUsage.user_id,
            func.sum(ApiUsage.requests),
            func.sum(ApiUsage.client_errors + ApiUsage.server_errors),
            func.coalesce(func.sum(ApiUsage.requests).filter(_question()), 0),
            func.max(ApiUsage.minute).filter(_person()),
        )
        .where(
            ApiUsage.org_id == org_id,
            ApiUsage.user_id != 0,
            ApiUsage.minute >= window.start,
            ApiUsage.minute <= window.end,
        )
        .group_by(ApiUsage.user_id)
    ).all()
    by_user = {r[0]: r for r in rows}
    members = session.scalars(
        select(Membership).where(Membership.org_id == org_id).order_by(Membership.id)
    )
    out = []
    for m in members:
        _, requests, errors, questions, last_active = by_user.get(m.user_id, (0, 0, 0, 0, None))
        out.append(
            {
                "user_id": m.user_id,
                "email": m.user.email,
                "name": m.user.name,
                "role": m.role,
                "api_calls": int(requests or 0),
                "errors": int(errors or 0),
                "ai_queries": int(questions or 0),
                "last_active": last_active,
                "last_login": m.user.last_login_at,
            }
        )
    return out
