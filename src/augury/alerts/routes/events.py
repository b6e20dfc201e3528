"""Routes of user events: deploys, campaigns, holidays, suppress events."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from augury.alerts import schemas
from augury.alerts.deps import EventDep
from augury.alerts.routes.params import Epoch
from augury.alerts.services import events
from augury.api.deps import Reader, SessionDep, Writer
from augury.api.pagination import Page, PageDep, make_page

router = APIRouter()


@router.post("/events", status_code=status.HTTP_201_CREATED, response_model=schemas.EventRead)
def create_event(body: schemas.EventCreate, principal: Writer, session: SessionDep):
    """Record a deploy, campaign or holiday (shown on metric charts). A `suppress` event
    holds the messages of alerts on the metrics its properties match, from `start` to
    `end` (or until a matching `action: end` event)."""
    return events.create(session, principal, body)


@router.get("/events", response_model=Page[schemas.EventRead])
def list_events(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    start: Annotated[Epoch, Query(alias="from")] = None,
    end: Annotated[Epoch, Query(alias="to")] = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    source: Annotated[str | None, Query(max_length=100)] = None,
    type: Literal["display", "influence", "suppress"] | None = None,
):
    """Events overlapping `[from, to)`, newest first."""
    rows, total = events.list_page(
        session,
        principal.org_id,
        page,
        start=start,
        end=end,
        category=category,
        source=source,
        type=type,
    )
    return make_page(rows, total, page)


@router.get("/events/categories", response_model=list[str])
def event_categories(principal: Reader, session: SessionDep):
    return events.distinct_values(session, principal.org_id, "category")


@router.get("/events/sources", response_model=list[str])
def event_sources(principal: Reader, session: SessionDep):
    return events.distinct_values(session, principal.org_id, "source")


@router.get("/events/{event_id}", response_model=schemas.EventRead)
def get_event(event: EventDep):
    return event


@router.put("/events/{event_id}", response_model=schemas.EventRead)
def update_event(body: schemas.EventCreate, principal: Writer, event: EventDep):
    return events.update(event, body)


@router.delete("/events/{event_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_event(principal: Writer, event: EventDep, session: SessionDep):
    events.delete(session, event)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
