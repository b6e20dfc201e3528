"""HTTP route of the audit log (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from augury.api.deps import Admin, SessionDep
from augury.api.pagination import Page, PageDep, make_page
from augury.audit import schemas
from augury.audit import service as audit_service
from augury.schemas import UtcDatetime

router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=Page[schemas.AuditEventRead])
def list_audit_events(
    principal: Admin,
    session: SessionDep,
    page: PageDep,
    action: Annotated[
        str | None, Query(max_length=64, description="e.g. auth.login or auth.*")
    ] = None,
    outcome: Annotated[
        str | None, Query(max_length=16, description="success, failure, throttled")
    ] = None,
    actor_user_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    since: UtcDatetime | None = None,
    until: UtcDatetime | None = None,
):
    """Security-relevant actions in the organization, newest first."""
    rows, total = audit_service.list_page(
        session=session,
        org_id=principal.org_id,
        page=page,
        action=action,
        outcome=outcome,
        actor_user_id=actor_user_id,
        since=since,
        until=until,
    )
    return make_page(rows, total, page)
