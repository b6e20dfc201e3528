"""Maintenance windows: while one is active, the messages of the alerts it covers are
held (detection goes on); once or recurring (RRULE or cron, in a time zone). Every
change is audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.alerts import notify, schedule
from augury.alerts.models import AlertConfig, MaintenanceWindow
from augury.alerts.schemas import WindowCreate
from augury.alerts.services.auditing import WINDOW_FIELDS, record_change, window_snapshot
from augury.alerts.services.common import check_ids
from augury.errors import ValidationFailed
from augury.metrics import service as metrics_service
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate


def get(session: Session, org_id: int, window_id: int) -> MaintenanceWindow:
    return get_owned(session, MaintenanceWindow, org_id, window_id, "Maintenance window")


def list_page(
    session: Session, org_id: int, page: PageParams
) -> tuple[list[MaintenanceWindow], int]:
    stmt = (
        select(MaintenanceWindow)
        .where(MaintenanceWindow.org_id == org_id)
        .order_by(MaintenanceWindow.id)
    )
    return paginate(session, stmt, page)


def create(session: Session, principal: Principal, body: WindowCreate) -> MaintenanceWindow:
    window = MaintenanceWindow(org_id=principal.org_id, created_by_id=principal.user_id)
    _apply(session, principal.org_id, window, body)
    session.add(window)
    session.flush()
    record_change(
        session=session,
        principal=principal,
        action="maintenance_window.create",
        target_id=window.id,
        after=window_snapshot(window),
    )
    return window


def update(
    session: Session, principal: Principal, window: MaintenanceWindow, body: WindowCreate
) -> MaintenanceWindow:
    before = window_snapshot(window)
    _apply(session, principal.org_id, window, body)
    session.flush()
    record_change(
        session=session,
        principal=principal,
        action="maintenance_window.update",
        target_id=window.id,
        before=before,
        after=window_snapshot(window),
    )
    return window


def delete(session: Session, principal: Principal, window: MaintenanceWindow) -> None:
    record_change(
        session=session,
        principal=principal,
        action="maintenance_window.delete",
        target_id=window.id,
        before=window_snapshot(window),
    )
    session.delete(window)


def _apply(session: Session, org_id: int, window: MaintenanceWindow, body: WindowCreate) -> None:
    metrics_service.parse_expression(body.expression)
    check_ids(session, AlertConfig, org_id, body.config_ids, "config_ids")
    spec = _spec(body)
    window.name = body.name
    window.expression = body.expression
    window.config_ids = body.config_ids
    for key in ("start", "end", "rrule", "cron", "dtstart", "duration_s", "timezone"):
        setattr(window, key, getattr(spec, key))


def _spec(body: WindowCreate) -> schedule.Window:
    try:
        return schedule.validate(
            schedule.Window(
                start=body.start,
                end=body.end,
                rrule=body.rrule,
                cron=body.cron,
                dtstart=body.dtstart,
                duration_s=body.duration_s,
                timezone=body.timezone or "UTC",
            )
        )
    except ValueError as exc:
        raise ValidationFailed(f"Invalid maintenance window: {exc}") from exc


def read(window: MaintenanceWindow, now: float | None = None) -> dict:
    """The window as the API answers it: whether it is active, and its next occurrences."""
    now = clock.now().timestamp() if now is None else now
    spec = notify.window_spec(window)
    active = schedule.active_at(spec, now)
    return {
        **{c: getattr(window, c) for c in ("id", *WINDOW_FIELDS, "created_at")},
        "active": active is not None,
        "active_until": active[1] if active else None,
        "next": [list(o) for o in schedule.next_occurrences(spec, now, 5)],
    }
