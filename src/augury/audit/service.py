"""Recording and reading the audit log.

Security events (logins, keys, members) are recorded with :func:`record`, or with
:func:`record_by` when the acting principal does something in its own organization;
configuration changes with :func:`record_change`, which keeps the changed fields before
and after in ``details`` (``{"before": {...}, "after": {...}}``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury.audit.models import AuditEvent
from augury.store.pagination import PageParams, paginate

if TYPE_CHECKING:
    from augury.accounts.principal import Principal


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


def record_by(
    *,
    session: Session,
    principal: Principal,
    action: str,
    target_type: str | None = None,
    target_id: object | None = None,
    details: dict | None = None,
    outcome: str = "success",
) -> AuditEvent:
    """:func:`record` an action of ``principal`` in its own organization: the org and the
    actor (person, key, email, ip) come from the principal, so no site can mix them up.
    An event that belongs to another organization (switching to it) uses :func:`record`."""
    return record(
        session=session,
        action=action,
        org_id=principal.org_id,
        outcome=outcome,
        target_type=target_type,
        target_id=target_id,
        details=details,
        **principal.audit_actor(),
    )


def jsonable(value: object) -> object:
    """``value`` as JSON holds it: datetimes as ISO text, tuples as lists."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return value


def jsonable_dict(value: dict) -> dict:
    """A dict with its keys as text and its values as :func:`jsonable` makes them."""
    return {str(k): jsonable(v) for k, v in value.items()}


def snapshot(obj: object, fields: Iterable[str]) -> dict:
    """The ``fields`` of ``obj`` (a row) as JSON values, to compare before and after."""
    return {f: jsonable(getattr(obj, f)) for f in fields}


def diff(before: dict, after: dict) -> tuple[dict, dict]:
    """The fields that differ, as ``(before, after)``; a field that is an object in both
    keeps only its changed keys (a channel's ``config``)."""
    old: dict = {}
    new: dict = {}
    for key in list(before) + [k for k in after if k not in before]:
        a, b = before.get(key), after.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            old[key], new[key] = diff(a, b)
        else:
            old[key], new[key] = a, b
    return old, new


def record_change(
    *,
    session: Session,
    principal: Principal,
    action: str,
    target_type: str,
    target_id: object,
    before: dict | None = None,
    after: dict | None = None,
    mask: Callable[[dict], dict] | None = None,
) -> AuditEvent | None:
    """Record a configuration change: ``before`` is ``None`` for a creation, ``after``
    for a deletion; for an update only the fields that differ are kept, and nothing is
    recorded when none does. ``mask`` hides secrets, after the comparison (so a secret
    that changed shows as changed, but not its value)."""
    details: dict = {}
    if before is not None and after is not None:
        before, after = diff(before, after)
        if not before and not after:
            return None
    mask = mask or (lambda d: d)
    if before is not None:
        details["before"] = mask(jsonable_dict(before))
    if after is not None:
        details["after"] = mask(jsonable_dict(after))
    return record_by(
        session=session,
        principal=principal,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details,
    )


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
