"""Scheduled exports: a dashboard mailed as PDF (or HTML) on a cron schedule.

A schedule's cron is a 5-field expression read in its IANA ``timezone`` (the same
reading as maintenance windows: :mod:`augury.alerts.schedule`). ``next_run_at`` is
kept stored, so the periodic task (:class:`ScheduledExports`) finds what is due with
one indexed query and queues a job for each (:class:`SendScheduledExport`: rendering and
mailing run in a job process, never in the stream processor); a schedule sends once per
due time even when the task was down for several (it then moves to the next time after
now, not through every missed one). Mail goes through :mod:`augury.mail`: SMTP when
configured, else the outbox folder.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from augury import clock, mail
from augury.accounts.principal import Principal
from augury.alerts import schedule as cron
from augury.audit import service as audit
from augury.config import Settings
from augury.dashboards import exports
from augury.dashboards.models import Dashboard, ExportSchedule
from augury.dashboards.schemas import ScheduleCreate, ScheduleUpdate
from augury.errors import NotFound, ValidationFailed
from augury.jobs import service as jobs_service
from augury.store.owned import get_owned

log = logging.getLogger(__name__)
AUDITED = ("cron", "timezone", "recipients", "format", "page_size", "enabled")
BATCH = 20
"""Schedules sent per round at most (each renders a whole dashboard)."""


def next_run(expr: str, timezone: str, after: datetime) -> datetime:
    """The first time ``expr`` fires strictly after ``after``."""
    window = cron.Window(cron=expr, timezone=timezone, duration_s=60)
    t = after.timestamp()
    for start, _end in cron.next_occurrences(window, t, 2):
        if start > t:
            return datetime.fromtimestamp(start, UTC)
    raise ValidationFailed(f"cron {expr!r} never fires again.")


def _checked_next(expr: str, timezone: str) -> datetime:
    try:
        return next_run(expr, timezone, clock.now())
    except ValueError as exc:
        raise ValidationFailed(
            f"Invalid schedule: {exc}", details={"cron": expr, "timezone": timezone}
        ) from exc


def create(
    *, session: Session, principal: Principal, dashboard: Dashboard, body: ScheduleCreate
) -> ExportSchedule:
    row = ExportSchedule(
        org_id=dashboard.org_id,
        dashboard_id=dashboard.id,
        cron=" ".join(body.cron.split()),
        timezone=body.timezone,
        recipients=[str(r) for r in body.recipients],
        format=body.format,
        page_size=body.page_size,
        enabled=body.enabled,
        next_run_at=_checked_next(body.cron, body.timezone),
        created_by_id=principal.user_id,
    )
    session.add(row)
    session.flush()
    audit.record_change(
        session=session,
        principal=principal,
        action="dashboard.schedule.create",
        target_type="dashboard_schedule",
        target_id=row.id,
        after=audit.snapshot(row, AUDITED),
    )
    return row


def list_for(session: Session, dashboard: Dashboard) -> list[ExportSchedule]:
    stmt = select(ExportSchedule).where(ExportSchedule.dashboard_id == dashboard.id)
    return list(session.scalars(stmt.order_by(ExportSchedule.id)))


def get(session: Session, dashboard: Dashboard, schedule_id: int) -> ExportSchedule:
    row = get_owned(session, ExportSchedule, dashboard.org_id, schedule_id, "Schedule")
    if row.dashboard_id != dashboard.id:
        raise NotFound("Schedule not found.")
    return row


def update(
    *, session: Session, principal: Principal, row: ExportSchedule, body: ScheduleUpdate
) -> ExportSchedule:
    before = audit.snapshot(row, AUDITED)
    for name in ("cron", "timezone", "format", "page_size", "enabled"):
        value = getattr(body, name)
        if value is not None:
            setattr(row, name, " ".join(value.split()) if name == "cron" else value)
    if body.recipients is not None:
        row.recipients = [str(r) for r in body.recipients]
    row.next_run_at = _checked_next(row.cron, row.timezone)
    audit.record_change(
        session=session,
        principal=principal,
        action="dashboard.schedule.update",
        target_type="dashboard_schedule",
        target_id=row.id,
        before=before,
        after=audit.snapshot(row, AUDITED),
    )
    return row


def delete(*, session: Session, principal: Principal, row: ExportSchedule) -> None:
    audit.record_change(
        session=session,
        principal=principal,
        action="dashboard.schedule.delete",
        target_type="dashboard_schedule",
        target_id=row.id,
        before=audit.snapshot(row, AUDITED),
    )
    session.delete(row)


def fields(row: ExportSchedule) -> dict:
    return {
        name: getattr(row, name)
        for name in (
            "id",
            "dashboard_id",
            "cron",
            "timezone",
            "recipients",
            "format",
            "page_size",
            "enabled",
            "next_run_at",
            "last_run_at",
            "last_status",
            "last_error",
            "created_at",
        )
    }


def send(session: Session, settings: Settings, row: ExportSchedule) -> None:
    """Render the dashboard and mail it to each recipient (one mail each: no one sees
    the others' addresses)."""
    dashboard = session.get(Dashboard, row.dashboard_id)
    assert dashboard is not None  # the schedule goes with its dashboard
    data = exports.dashboard_file(session, settings, dashboard, row.format, page_size=row.page_size)
    stamp = clock.now().strftime("%Y-%m-%d")
    filename = f"{_slug(dashboard.name)}-{stamp}.{row.format}"
    subtype = "pdf" if row.format == "pdf" else "html"
    maintype = "application" if row.format == "pdf" else "text"
    link = f"{settings.base_url.rstrip('/')}/dashboards/{dashboard.id}"
    for to in row.recipients:
        msg = mail.build_message(
            settings,
            to=to,
            subject=f"Dashboard: {dashboard.name} ({stamp})",
            text=f"The dashboard “{dashboard.name}” as of {stamp} is attached.\n\n"
            f"Open it live: {link}\n",
        )
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
        if settings.smtp.host:
            mail.smtp_send(settings.smtp, msg)
        else:
            mail.write_outbox(settings.outbox_dir, msg)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")[:60] or "dashboard"


def queue_due(session: Session) -> int:
    """Queue a :class:`SendScheduledExport` job for each schedule that is due and set its
    next time; how many were queued. Rendering a dashboard takes seconds and an SMTP
    server may be slow: neither belongs in the stream processor that runs this."""
    now = clock.now()
    due = session.scalars(
        select(ExportSchedule)
        .where(ExportSchedule.enabled.is_(True), ExportSchedule.next_run_at <= now)
        .order_by(ExportSchedule.next_run_at)
        .limit(BATCH)
    ).all()
    for row in due:
        jobs_service.create(
            session=session,
            org_id=row.org_id,
            type=SendScheduledExport.name,
            params={"schedule_id": row.id},
            user_id=row.created_by_id,
        )
        row.last_run_at, row.last_status, row.last_error = now, "queued", None
        try:
            row.next_run_at = next_run(row.cron, row.timezone, now)
        except (ValueError, ValidationFailed):
            row.enabled = False
    return len(due)


class SendScheduledExport:
    """The job that renders a due schedule's dashboard and mails it; the schedule's
    ``last_status`` becomes ok, or failed with ``last_error`` (and the job fails)."""

    name = "dashboards.export"
    title = "Dashboards: mail a scheduled export"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        schedule_id: int = Field(ge=1, le=2**31 - 1)

    def run(self, ctx, params: Params) -> dict:
        failure: Exception | None = None
        with ctx.session() as session:  # reads only: the outcome is written below
            row = session.get(ExportSchedule, params.schedule_id)
            if row is None or row.org_id != ctx.org_id:  # deleted since it was queued
                return {"sent": 0}
            recipients = len(row.recipients)
            try:
                send(session, ctx.settings, row)
            except Exception as exc:  # recorded on the schedule, then the job fails
                failure = exc
        with ctx.session() as session:
            row = session.get(ExportSchedule, params.schedule_id)
            if row is not None:
                row.last_status = "ok" if failure is None else "failed"
                row.last_error = (
                    None if failure is None else f"{type(failure).__name__}: {failure}"[:2000]
                )
        if failure is not None:
            log.warning("scheduled export %s failed: %s", params.schedule_id, failure)
            raise failure
        return {"sent": recipients}


class ScheduledExports:
    """A periodic task (run by the stream processor): queue the due scheduled exports."""

    name = "dashboards.scheduled_exports"
    every_s = 60.0

    def __init__(self, settings: Settings):
        self.settings = settings

    def run(self, db) -> int:
        with db.session() as session:
            return queue_due(session)
