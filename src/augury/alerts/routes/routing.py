"""Routes of routing tables, as JSON and as CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from augury.alerts import schemas
from augury.alerts.deps import RoutingTableDep
from augury.alerts.services import routing
from augury.api.deps import ObjectId, Reader, SessionDep, Writer
from augury.api.pagination import Page, PageDep, make_page
from augury.errors import BadPayload

router = APIRouter()


@router.post(
    "/routing-tables", status_code=status.HTTP_201_CREATED, response_model=schemas.RoutingTableRead
)
def create_routing_table(body: schemas.RoutingTableCreate, principal: Writer, session: SessionDep):
    """Dynamic routing: an alert whose `dimension` has a listed value goes to that
    value's channels too (value `*`: any value not listed)."""
    return routing.save(session, principal, body)


async def _csv_text(request: Request) -> str:
    body = await request.body()
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadPayload("The body is not UTF-8 CSV.") from exc


@router.post(
    "/routing-tables/csv",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.RoutingTableRead,
)
async def upload_routing_table(
    request: Request,
    principal: Writer,
    session: SessionDep,
    title: Annotated[str, Query(min_length=1, max_length=200)],
    dimension: Annotated[str, Query(min_length=1, max_length=200)],
):
    """Create a routing table from a CSV body (`Content-Type: text/csv`), one row per
    dimension value: `US,us_team@example.com` or `US,3;4` (channel ids). An email
    address routes to the email channel named after it, created when missing."""
    text = await _csv_text(request)
    return await run_in_threadpool(
        routing.create_from_csv, session, principal, title, dimension, text
    )


@router.put("/routing-tables/{table_id}/csv", response_model=schemas.RoutingTableRead)
async def replace_routing_table_csv(
    table_id: ObjectId, request: Request, principal: Writer, session: SessionDep
):
    """Replace the routes of a table with those of a CSV body."""
    # The table is loaded after the body is read (not by a dependency), so a body that
    # is not UTF-8 is refused as such, whatever the id.
    text = await _csv_text(request)

    def work():
        table = routing.get(session, principal.org_id, table_id)
        return routing.replace_from_csv(session, principal, table, text)

    return await run_in_threadpool(work)


@router.get("/routing-tables/{table_id}/csv", response_model=list[list[str]])
def routing_table_rows(table: RoutingTableDep, session: SessionDep):
    """The table's rows: `[value, destination, ...]` (an email address for an email
    channel named after it, else the channel id)."""
    return routing.routes_as_rows(session, table)


@router.get("/routing-tables", response_model=Page[schemas.RoutingTableRead])
def list_routing_tables(principal: Reader, session: SessionDep, page: PageDep):
    rows, total = routing.list_page(session, principal.org_id, page)
    return make_page(rows, total, page)


@router.get("/routing-tables/{table_id}", response_model=schemas.RoutingTableRead)
def get_routing_table(table: RoutingTableDep):
    return table


@router.put("/routing-tables/{table_id}", response_model=schemas.RoutingTableRead)
def update_routing_table(
    body: schemas.RoutingTableCreate, principal: Writer, table: RoutingTableDep, session: SessionDep
):
    return routing.save(session, principal, body, table)


@router.delete("/routing-tables/{table_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_routing_table(principal: Writer, table: RoutingTableDep, session: SessionDep):
    routing.delete(session, principal, table)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
