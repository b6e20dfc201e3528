"""Recording and reading the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury.api.pagination import PageParams, paginate
from augury.audit.models import AuditEvent


def record(
    *,
    session: Session,
    action: str,
    org_id: int | None,
    outcome: str = "success",
    actor_user_id: int | None = None,
    actor_key_id: int | None = None,
    actor_email: str | None = None,
    target_type: str | None = None,
    target_id: object | None = None,
    ip: str | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """Add one audit event to the session (committed with the action it records)."""
    event = AuditEvent(
        org_id=org_id,
        action=action,
        outcome=outcome,
        actor_user_id=actor_user_id,
        actor_key_id=actor_key_id,
        actor_email=actor_email,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        ip=ip,
        details=details or {},
    )
    session.add(event)
    return event


def list_page(
    *,
    session: Session,
    org_id: int,
    page: PageParams,
    action: str | None = None,
    outcome: str | None = None,
    actor_user_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[AuditEvent], int]:
    """Audit events of one organization, newest first, with filters."""
    stmt = select(AuditEvent).where(AuditEvent.org_id == org_id)
    if action:
        # "auth.*" selects a family of actions.
        if action.endswith("*"):
            stmt = stmt.where(AuditEvent.action.startswith(action[:-1]))
        else:
            stmt = stmt.where(AuditEvent.action == action)
    if outcome:
        stmt = stmt.where(AuditEvent.outcome == outcome)
    if actor_user_id is not None:
        stmt = stmt.where(AuditEvent.actor_user_id == actor_user_id)
    if since is not None:
        stmt = stmt.where(AuditEvent.created_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.created_at < until)
    stmt = stmt.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    return paginate(session, stmt, page)
