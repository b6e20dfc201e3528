"""Routing tables: an alert whose dimension has a listed value goes to that value's
channels too. Tables are also read and written as CSV, as Anodot's are uploaded; every
change is audited, with the email channels a CSV made."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.alerts.models import Channel, RoutingTable, ordinary_channel
from augury.alerts.schemas import ChannelCreate, Route, RoutingTableCreate
from augury.alerts.services import channels
from augury.alerts.services.auditing import record_change, table_snapshot
from augury.alerts.services.common import check_ids
from augury.errors import ValidationFailed
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate


def get(session: Session, org_id: int, table_id: int) -> RoutingTable:
    return get_owned(session, RoutingTable, org_id, table_id, "Routing table")


def list_page(session: Session, org_id: int, page: PageParams) -> tuple[list[RoutingTable], int]:
    stmt = select(RoutingTable).where(RoutingTable.org_id == org_id).order_by(RoutingTable.id)
    return paginate(session, stmt, page)


def save(
    session: Session,
    principal: Principal,
    body: RoutingTableCreate,
    table: RoutingTable | None = None,
    created: Sequence[Channel] = (),
) -> RoutingTable:
    """Create a table (``table`` is None) or replace one, audited with the channels made
    for it (``created``)."""
    for channel in created:
        channels.record_created(session, principal, channel)
    org_id = principal.org_id
    # One query for every route's channels: a table may list thousands of values.
    wanted = sorted({channel_id for route in body.routes for channel_id in route.channel_ids})
    check_ids(session, Channel, org_id, wanted, "channel_ids", ordinary_channel())
    before = None if table is None else table_snapshot(table)
    if table is None:
        table = RoutingTable(org_id=org_id)
        session.add(table)
    table.title = body.title
    table.dimension = body.dimension
    table.routes = [route.model_dump() for route in body.routes]
    table.updated_at = clock.now()
    session.flush()
    record_change(
        session=session,
        principal=principal,
        action="routing_table.create" if before is None else "routing_table.update",
        target_id=table.id,
        before=before,
        after=table_snapshot(table),
    )
    return table


def create_from_csv(
    session: Session, principal: Principal, title: str, dimension: str, text: str
) -> RoutingTable:
    created: list[Channel] = []
    routes = routes_from_csv(session, principal, text, created)
    body = RoutingTableCreate.model_construct(title=title, dimension=dimension, routes=routes)
    return save(session, principal, body, created=created)


def replace_from_csv(
    session: Session, principal: Principal, table: RoutingTable, text: str
) -> RoutingTable:
    """Replace the routes of a table with those of a CSV."""
    created: list[Channel] = []
    routes = routes_from_csv(session, principal, text, created)
    body = RoutingTableCreate.model_construct(
        title=table.title, dimension=table.dimension, routes=routes
    )
    return save(session, principal, body, table, created=created)


def delete(session: Session, principal: Principal, table: RoutingTable) -> None:
    record_change(
        session=session,
        principal=principal,
        action="routing_table.delete",
        target_id=table.id,
        before=table_snapshot(table),
    )
    session.delete(table)


def routes_from_csv(
    session: Session, principal: Principal, text: str, created: list[Channel]
) -> list[Route]:
    """Routes from a CSV as Anodot's routing tables are uploaded: one row per dimension
    value, then its destinations (more columns, or ``;``-separated). A destination is a
    channel id, or an email address: the email channel named after it is used, and
    created when missing (and added to ``created``)."""
    org_id = principal.org_id
    routes: list[Route] = []
    email_channels = {
        c.name: c.id
        for c in session.scalars(
            select(Channel).where(Channel.org_id == org_id, Channel.type == "email")
        )
    }
    for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row if c.strip()]
        if not cells:
            continue
        if n == 1 and cells[0].lower() in ("value", "dimension value", "dimension_value"):
            continue  # a header
        value, destinations = cells[0], [d.strip() for c in cells[1:] for d in c.split(";")]
        ids: list[int] = []
        for dest in filter(None, destinations):
            if dest.isdecimal():
                ids.append(int(dest))
            elif "@" in dest:
                if dest not in email_channels:
                    # Not validated as a request body: an address may be longer than
                    # a typed channel name, as it always could here.
                    body = ChannelCreate.model_construct(
                        name=dest, type="email", config={"to": [dest]}, enabled=True
                    )
                    channel = channels.create(session, principal, body, audited=False)
                    email_channels[dest] = channel.id
                    created.append(channel)
                ids.append(email_channels[dest])
            else:
                raise ValidationFailed(
                    f"Row {n}: {dest!r} is neither a channel id nor an email address.",
                    details={"row": n},
                )
        if not ids:
            raise ValidationFailed(f"Row {n}: no destination for {value!r}.", details={"row": n})
        if len(value) > 400:
            raise ValidationFailed(f"Row {n}: the value is longer than 400 characters.")
        routes.append(Route.model_construct(value=value, channel_ids=ids))
    if not routes:
        raise ValidationFailed("The CSV has no routes.")
    return routes


def routes_as_rows(session: Session, table: RoutingTable) -> list[list[str]]:
    """The table as Anodot answers it: ``[value, destination, ...]`` rows, email
    channels named after their address shown as that address."""
    ids = {i for r in table.routes for i in r.get("channel_ids", [])}
    names = (
        {
            c.id: c.name
            for c in session.scalars(select(Channel).where(Channel.id.in_(ids)))
            if c.type == "email" and c.config.get("to") == [c.name]
        }
        if ids
        else {}
    )
    return [
        [r["value"], *(names.get(i, str(i)) for i in r.get("channel_ids", []))]
        for r in table.routes
    ]
