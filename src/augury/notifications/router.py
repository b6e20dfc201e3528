"""HTTP routes of notifications: a person's own, in the organization they act in.

An API key acts for the person who created it, so a script can poll its author's
notifications as the UI does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from augury.accounts.principal import Principal
from augury.api.deps import ObjectId, Reader, SessionDep
from augury.api.pagination import Page, PageDep, make_page
from augury.errors import PermissionDenied
from augury.notifications import schemas
from augury.notifications import service as notifications
from augury.notifications.models import Notification

router = APIRouter(prefix="/notifications", tags=["notifications"])


def _user_id(principal: Principal) -> int:
    if principal.user_id is None:
        raise PermissionDenied("Notifications belong to a person; this API key has none.")
    return principal.user_id


def _load(session, principal: Principal, notification_id: int) -> Notification:
    return notifications.get(
        session,
        org_id=principal.org_id,
        user_id=_user_id(principal),
        notification_id=notification_id,
    )


@router.get("", response_model=Page[schemas.NotificationRead])
def list_notifications(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    unread: Annotated[bool, Query(description="Only the unread ones.")] = False,
):
    """Your notifications, newest first."""
    rows, total = notifications.list_page(
        session, org_id=principal.org_id, user_id=_user_id(principal), page=page, unread=unread
    )
    return make_page(rows, total, page)


@router.get("/unread-count", response_model=schemas.UnreadCount)
def unread_count(principal: Reader, session: SessionDep):
    """How many of your notifications are unread."""
    count = notifications.unread_count(
        session, org_id=principal.org_id, user_id=_user_id(principal)
    )
    return {"unread": count}


@router.post("/read-all", response_model=schemas.MarkedAllRead)
def read_all(principal: Reader, session: SessionDep):
    """Mark all your notifications read."""
    marked = notifications.mark_all_read(
        session, org_id=principal.org_id, user_id=_user_id(principal)
    )
    return {"marked": marked}


@router.get("/{notification_id}", response_model=schemas.NotificationRead)
def get_notification(notification_id: ObjectId, principal: Reader, session: SessionDep):
    """One of your notifications."""
    return _load(session, principal, notification_id)


@router.post("/{notification_id}/read", response_model=schemas.NotificationRead)
def read_notification(notification_id: ObjectId, principal: Reader, session: SessionDep):
    """Mark one notification read."""
    return notifications.mark_read(_load(session, principal, notification_id))


@router.post("/{notification_id}/unread", response_model=schemas.NotificationRead)
def unread_notification(notification_id: ObjectId, principal: Reader, session: SessionDep):
    """Mark one notification unread again."""
    return notifications.mark_unread(_load(session, principal, notification_id))
