"""Routes of alert actions: links shown as buttons on alerts."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from augury.alerts import schemas
from augury.alerts.deps import ActionDep
from augury.alerts.services import actions
from augury.api.deps import Reader, SessionDep, Writer
from augury.api.pagination import Page, PageDep, make_page

router = APIRouter()


@router.post(
    "/alert-actions", status_code=status.HTTP_201_CREATED, response_model=schemas.ActionRead
)
def create_action(body: schemas.ActionCreate, principal: Writer, session: SessionDep):
    """A link (runbook, dashboard) shown as a button on the alerts it is attached to."""
    return actions.create(session, principal, body)


@router.get("/alert-actions", response_model=Page[schemas.ActionRead])
def list_actions(principal: Reader, session: SessionDep, page: PageDep):
    rows, total = actions.list_page(session, principal.org_id, page)
    return make_page(rows, total, page)


@router.get("/alert-actions/{action_id}", response_model=schemas.ActionRead)
def get_action(action: ActionDep):
    return action


@router.put("/alert-actions/{action_id}", response_model=schemas.ActionRead)
def update_action(
    body: schemas.ActionCreate, principal: Writer, action: ActionDep, session: SessionDep
):
    return actions.update(session, principal, action, body)


@router.delete("/alert-actions/{action_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_action(principal: Writer, action: ActionDep, session: SessionDep):
    actions.delete(session, principal, action)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
