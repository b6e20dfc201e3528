"""Alert actions: links (runbooks, dashboards) shown as buttons on the alerts they are
attached to; every change audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury.accounts.principal import Principal
from augury.alerts.models import AlertAction
from augury.alerts.schemas import ActionCreate
from augury.alerts.services.auditing import action_snapshot, record_change
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate


def get(session: Session, org_id: int, action_id: int) -> AlertAction:
    return get_owned(session, AlertAction, org_id, action_id, "Alert action")


def list_page(session: Session, org_id: int, page: PageParams) -> tuple[list[AlertAction], int]:
    stmt = select(AlertAction).where(AlertAction.org_id == org_id).order_by(AlertAction.id)
    return paginate(session, stmt, page)


def create(session: Session, principal: Principal, body: ActionCreate) -> AlertAction:
    action = AlertAction(org_id=principal.org_id, **body.model_dump())
    session.add(action)
    session.flush()
    record_change(
        session=session,
        principal=principal,
        action="alert_action.create",
        target_id=action.id,
        after=action_snapshot(action),
    )
    return action


def update(
    session: Session, principal: Principal, action: AlertAction, body: ActionCreate
) -> AlertAction:
    before = action_snapshot(action)
    for key, value in body.model_dump().items():
        setattr(action, key, value)
    record_change(
        session=session,
        principal=principal,
        action="alert_action.update",
        target_id=action.id,
        before=before,
        after=action_snapshot(action),
    )
    return action


def delete(session: Session, principal: Principal, action: AlertAction) -> None:
    record_change(
        session=session,
        principal=principal,
        action="alert_action.delete",
        target_id=action.id,
        before=action_snapshot(action),
    )
    session.delete(action)
