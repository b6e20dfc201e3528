"""User events: deploys, campaigns and holidays shown on metric charts; suppress events
hold the messages of the alerts they match."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from augury.accounts.principal import Principal
from augury.alerts.models import UserEvent
from augury.alerts.schemas import EventCreate
from augury.errors import NotFound
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate


def get(session: Session, org_id: int, event_id: int) -> UserEvent:
    return get_owned(session, UserEvent, org_id, event_id, "Event")


def list_page(
    session: Session,
    org_id: int,
    page: PageParams,
    start: float | None = None,
    end: float | None = None,
    category: str | None = None,
    source: str | None = None,
    type: str | None = None,
) -> tuple[list[UserEvent], int]:
    stmt = select(UserEvent).where(UserEvent.org_id == org_id)
    if start is not None:
        stmt = stmt.where(func.coalesce(UserEvent.end, UserEvent.start) >= start)
    if end is not None:
        stmt = stmt.where(UserEvent.start < end)
    if category:
        stmt = stmt.where(UserEvent.category == category)
    if source:
        stmt = stmt.where(UserEvent.source == source)
    if type:
        stmt = stmt.where(UserEvent.type == type)
    return paginate(session, stmt.order_by(UserEvent.start.desc(), UserEvent.id.desc()), page)


def distinct_values(session: Session, org_id: int, column: str) -> list[str]:
    """The categories or sources in use, sorted."""
    col = getattr(UserEvent, column)
    return list(
        session.scalars(select(col).where(UserEvent.org_id == org_id).distinct().order_by(col))
    )


def create(session: Session, principal: Principal, body: EventCreate) -> UserEvent:
    """A new event; a suppress event with ``action: end`` closes the matching open one
    (as Anodot's START/END suppress events) and is returned instead."""
    org_id = principal.org_id
    if body.type == "suppress" and body.action == "end":
        open_one = session.scalar(
            select(UserEvent)
            .where(
                UserEvent.org_id == org_id,
                UserEvent.type == "suppress",
                UserEvent.end.is_(None),
                UserEvent.title == body.title,
                UserEvent.category == body.category,
                UserEvent.source == body.source,
            )
            .order_by(UserEvent.id.desc())
        )
        if open_one is None or (open_one.properties or {}) != body.properties:
            raise NotFound(
                "No open suppress event with this title, category, source and properties."
            )
        open_one.end = body.end if body.end is not None else body.start
        return open_one
    event = UserEvent(
        org_id=org_id, created_by_id=principal.user_id, **body.model_dump(exclude={"action"})
    )
    session.add(event)
    session.flush()
    return event


def update(event: UserEvent, body: EventCreate) -> UserEvent:
    for key, value in body.model_dump(exclude={"action"}).items():
        setattr(event, key, value)
    return event


def delete(session: Session, event: UserEvent) -> None:
    session.delete(event)
