"""HTTP routes of alerting: configurations, triggered alerts, channels and deliveries,
alert actions, routing tables, user events, maintenance windows and feedback."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from augury.accounts.models import Organization
from augury.alerts import schemas, service
from augury.alerts.models import AlertAction, MaintenanceWindow, RoutingTable
from augury.api.deps import ObjectId, Reader, SessionDep, SettingsDep, Writer
from augury.api.pagination import Page, PageDep, make_page, paginate
from augury.audit import service as audit
from augury.errors import BadPayload, ValidationFailed

router = APIRouter(tags=["alerts"])

Epoch = Annotated[float | None, Query(ge=0, le=1e11, description="Epoch seconds.")]
CSV = Annotated[str | None, Query(max_length=2000, description="Comma-separated.")]


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _ints(value: str | None) -> list[int] | None:
    items = _csv(value)
    if items is None:
        return None
    try:
        return [int(v) for v in items]
    except ValueError as exc:
        raise ValidationFailed("config_ids must be comma-separated integers.") from exc


# ------------------------------------------------------------------ triggered alerts


def trigger_filters(
    severity: CSV = None,
    config_id: CSV = None,
    type_: Annotated[str | None, Query(alias="type", max_length=100)] = None,
    start: Annotated[Epoch, Query(alias="from")] = None,
    end: Annotated[Epoch, Query(alias="to")] = None,
    q: Annotated[str | None, Query(max_length=2000, description="Metric expression.")] = None,
    acknowledged: bool | None = None,
    anomaly_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Alerts raised by this Anomaly.")
    ] = None,
) -> dict:
    """The filters the list and the count of triggered alerts share."""
    return {
        "severities": _csv(severity),
        "config_ids": _ints(config_id),
        "types": _csv(type_),
        "start": start,
        "end": end,
        "q": q,
        "acknowledged": acknowledged,
        "anomaly_id": anomaly_id,
    }


TriggerFilters = Annotated[dict, Depends(trigger_filters)]


@router.get("/alerts/triggered", response_model=Page[schemas.TriggerRead])
def list_triggered(
    principal: Reader,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    filters: TriggerFilters,
    status_: Annotated[Literal["open", "closed"] | None, Query(alias="status")] = None,
    sort: Literal["start", "updated", "score", "metrics"] = "start",
    order: Literal["asc", "desc"] = "desc",
):
    """Triggered alerts, filtered by status, severities, configurations, types, the
    time range they overlap, a metric expression they involve, acknowledgement and
    the Anomaly that raised them."""
    rows, total = service.list_triggers(
        session=session,
        org_id=principal.org_id,
        page=page,
        sort=sort,
        order=order,
        status=status_,
        **filters,
    )
    return make_page(
        [service.trigger_read(session, t, settings.base_url) for t in rows], total, page
    )


@router.get("/alerts/triggered/count", response_model=schemas.TriggerCount)
def count_triggered(principal: Reader, session: SessionDep, filters: TriggerFilters):
    """How many triggered alerts match, open and closed."""
    return service.count_triggers(session=session, org_id=principal.org_id, **filters)


@router.get("/alerts/triggered/{trigger_id}", response_model=schemas.TriggerRead)
def get_triggered(
    trigger_id: ObjectId, principal: Reader, session: SessionDep, settings: SettingsDep
):
    """One triggered alert with its metrics (each linking to its anomaly)."""
    trigger = service.get_trigger(session=session, org_id=principal.org_id, trigger_id=trigger_id)
    return service.trigger_read(session, trigger, settings.base_url)


_ACK_FIELDS = ("acknowledged_by_id",)
_RESOLVE_FIELDS = ("status", "resolved_by_id")


def _acknowledge(trigger_id: int, principal, session, settings, on: bool) -> dict:
    trigger = service.get_trigger(session=session, org_id=principal.org_id, trigger_id=trigger_id)
    before = audit.snapshot(trigger, _ACK_FIELDS)
    trigger = service.acknowledge(
        session=session,
        org_id=principal.org_id,
        trigger_id=trigger_id,
        user_id=principal.user_id,
        on=on,
    )
    service.record_change(
        session=session,
        principal=principal,
        action="alert.acknowledge" if on else "alert.unacknowledge",
        target_id=trigger.id,
        target_type="triggered_alert",
        before=before,
        after=audit.snapshot(trigger, _ACK_FIELDS),
    )
    return service.trigger_read(session, trigger, settings.base_url)


@router.post("/alerts/triggered/{trigger_id}/acknowledge", response_model=schemas.TriggerRead)
def acknowledge(
    trigger_id: ObjectId, principal: Writer, session: SessionDep, settings: SettingsDep
):
    """Acknowledge: someone is on it (no more update messages; close still goes out)."""
    return _acknowledge(trigger_id, principal, session, settings, on=True)


@router.delete("/alerts/triggered/{trigger_id}/acknowledge", response_model=schemas.TriggerRead)
def unacknowledge(
    trigger_id: ObjectId, principal: Writer, session: SessionDep, settings: SettingsDep
):
    """Remove the acknowledgement."""
    return _acknowledge(trigger_id, principal, session, settings, on=False)


@router.post("/alerts/triggered/{trigger_id}/resolve", response_model=schemas.TriggerRead)
def resolve(trigger_id: ObjectId, principal: Writer, session: SessionDep, settings: SettingsDep):
    """Close the alert by hand; its close message goes out, and the anomalies it holds
    do not open it again."""
    trigger = service.get_trigger(session=session, org_id=principal.org_id, trigger_id=trigger_id)
    before = audit.snapshot(trigger, _RESOLVE_FIELDS)
    trigger = service.resolve(
        session=session,
        org_id=principal.org_id,
        trigger_id=trigger_id,
        user_id=principal.user_id,
        base_url=settings.base_url,
    )
    service.record_change(
        session=session,
        principal=principal,
        action="alert.resolve",
        target_id=trigger.id,
        target_type="triggered_alert",
        before=before,
        after=audit.snapshot(trigger, _RESOLVE_FIELDS),
    )
    return service.trigger_read(session, trigger, settings.base_url)


@router.get("/alerts/triggered/{trigger_id}/deliveries", response_model=Page[schemas.DeliveryRead])
def trigger_deliveries(trigger_id: ObjectId, principal: Reader, session: SessionDep, page: PageDep):
    """Every message about this alert, per channel, with its outcome."""
    service.get_trigger(session=session, org_id=principal.org_id, trigger_id=trigger_id)
    rows, total = service.deliveries(
        session=session, org_id=principal.org_id, page=page, trigger_id=trigger_id
    )
    return make_page(rows, total, page)


# ------------------------------------------------------------------- configurations


@router.post("/alerts/preview", response_model=schemas.PreviewRead)
def preview_alert(body: schemas.PreviewRequest, principal: Reader, session: SessionDep):
    """How often this configuration would have fired over the last `days` (default 7),
    from the stored anomalies or points; nothing is saved."""
    return service.preview(session=session, org_id=principal.org_id, body=body.model_dump())


@router.post("/alerts", status_code=status.HTTP_201_CREATED, response_model=schemas.AlertConfigRead)
def create_alert(body: schemas.AlertConfigCreate, principal: Writer, session: SessionDep):
    """Create an alert configuration; it watches anomalies from now on (and those open now)."""
    config = service.create_config(
        session=session,
        org_id=principal.org_id,
        user_id=principal.user_id,
        body=body.model_dump(),
    )
    service.record_change(
        session=session,
        principal=principal,
        action="alert.create",
        target_id=config.id,
        after=service.config_snapshot(config),
    )
    return service.config_read(session, config)


@router.get("/alerts", response_model=Page[schemas.AlertConfigRead])
def list_alerts(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200, description="Title contains.")] = None,
):
    """Alert configurations, newest first, with their open alert count."""
    rows, total = service.list_configs(session=session, org_id=principal.org_id, page=page, q=q)
    return make_page([service.config_read(session, c) for c in rows], total, page)


@router.get("/alerts/{config_id}", response_model=schemas.AlertConfigRead)
def get_alert(config_id: ObjectId, principal: Reader, session: SessionDep):
    config = service.get_config(session=session, org_id=principal.org_id, config_id=config_id)
    return service.config_read(session, config)


@router.put("/alerts/{config_id}", response_model=schemas.AlertConfigRead)
def update_alert(
    config_id: ObjectId, body: schemas.AlertConfigCreate, principal: Writer, session: SessionDep
):
    """Replace the configuration (open alerts are kept and re-evaluated)."""
    config = service.get_config(session=session, org_id=principal.org_id, config_id=config_id)
    before = service.config_snapshot(config)
    config = service.update_config(
        session=session, org_id=principal.org_id, config_id=config_id, body=body.model_dump()
    )
    service.record_change(
        session=session,
        principal=principal,
        action="alert.update",
        target_id=config.id,
        before=before,
        after=service.config_snapshot(config),
    )
    return service.config_read(session, config)


@router.delete("/alerts/{config_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_alert(config_id: ObjectId, principal: Writer, session: SessionDep):
    """Delete the configuration with its triggered alerts."""
    config = service.get_config(session=session, org_id=principal.org_id, config_id=config_id)
    service.record_change(
        session=session,
        principal=principal,
        action="alert.delete",
        target_id=config.id,
        before=service.config_snapshot(config),
    )
    session.delete(config)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/alerts/{config_id}/pause", response_model=schemas.AlertConfigRead)
def pause_alert(config_id: ObjectId, principal: Writer, session: SessionDep):
    """Stop evaluating it (open alerts stay as they are)."""
    return _change_config(session, principal, config_id, "alert.pause", paused=True)


@router.post("/alerts/{config_id}/resume", response_model=schemas.AlertConfigRead)
def resume_alert(config_id: ObjectId, principal: Writer, session: SessionDep):
    return _change_config(session, principal, config_id, "alert.resume", paused=False)


def _change_config(session, principal, config_id: int, action: str, **values) -> dict:
    """Set fields of a configuration, audited."""
    config = service.get_config(session=session, org_id=principal.org_id, config_id=config_id)
    before = service.config_snapshot(config)
    for key, value in values.items():
        setattr(config, key, value)
    service.record_change(
        session=session,
        principal=principal,
        action=action,
        target_id=config.id,
        before=before,
        after=service.config_snapshot(config),
    )
    return service.config_read(session, config)


@router.post("/alerts/{config_id}/snooze", response_model=schemas.AlertConfigRead)
def snooze_alert(config_id: ObjectId, body: schemas.Snooze, principal: Writer, session: SessionDep):
    """Mute: alerts are still opened and closed, but no message goes out until then
    (`until`, in the future and at most 90 days away, or `duration_s`)."""
    config = service.get_config(session=session, org_id=principal.org_id, config_id=config_id)
    before = service.config_snapshot(config)
    config = service.snooze(
        session=session,
        org_id=principal.org_id,
        config_id=config_id,
        until=body.until,
        duration_s=body.duration_s,
    )
    service.record_change(
        session=session,
        principal=principal,
        action="alert.snooze",
        target_id=config.id,
        before=before,
        after=service.config_snapshot(config),
    )
    return service.config_read(session, config)


@router.delete("/alerts/{config_id}/snooze", response_model=schemas.AlertConfigRead)
def unsnooze_alert(config_id: ObjectId, principal: Writer, session: SessionDep):
    return _change_config(session, principal, config_id, "alert.unsnooze", snoozed_until=None)


# ------------------------------------------------------------------------ channels


@router.post("/channels", status_code=status.HTTP_201_CREATED, response_model=schemas.ChannelRead)
def create_channel(
    body: schemas.ChannelCreate, principal: Writer, session: SessionDep, settings: SettingsDep
):
    """Create a channel (webhook, slack, email, pagerduty, teams). A webhook gets a
    signing secret when none is given; it is shown masked afterwards."""
    channel = service.create_channel(
        session=session,
        org_id=principal.org_id,
        user_id=principal.user_id,
        body=body.model_dump(),
        allowed=settings.alerts.allowed_private_networks,
    )
    service.record_change(
        session=session,
        principal=principal,
        action="channel.create",
        target_id=channel.id,
        after=service.channel_snapshot(channel),
    )
    out = service.channel_read(session, channel)
    if channel.type == "webhook":
        out["config"]["secret"] = channel.config["secret"]  # shown once, at creation
    return out


@router.get("/channels", response_model=Page[schemas.ChannelRead])
def list_channels(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    type: Annotated[str | None, Query(max_length=20)] = None,
    name: Annotated[str | None, Query(max_length=200, description="Name contains.")] = None,
):
    rows, total = service.list_channels(
        session=session, org_id=principal.org_id, page=page, type=type, name=name
    )
    return make_page([service.channel_read(session, c) for c in rows], total, page)


@router.get("/channels/{channel_id}", response_model=schemas.ChannelRead)
def get_channel(channel_id: ObjectId, principal: Reader, session: SessionDep):
    channel = service.get_channel(session=session, org_id=principal.org_id, channel_id=channel_id)
    return service.channel_read(session, channel)


@router.patch("/channels/{channel_id}", response_model=schemas.ChannelRead)
def update_channel(
    channel_id: ObjectId,
    body: schemas.ChannelUpdate,
    principal: Writer,
    session: SessionDep,
    settings: SettingsDep,
):
    """Rename, enable/disable, or change config keys (the others are kept)."""
    channel = service.get_channel(session=session, org_id=principal.org_id, channel_id=channel_id)
    before = service.channel_snapshot(channel)
    channel = service.update_channel(
        session=session,
        org_id=principal.org_id,
        channel_id=channel_id,
        body=body.model_dump(exclude_unset=True),
        allowed=settings.alerts.allowed_private_networks,
    )
    service.record_change(
        session=session,
        principal=principal,
        action="channel.update",
        target_id=channel.id,
        before=before,
        after=service.channel_snapshot(channel),
    )
    return service.channel_read(session, channel)


@router.delete("/channels/{channel_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_channel(channel_id: ObjectId, principal: Writer, session: SessionDep):
    """Delete the channel with its delivery log."""
    channel = service.get_channel(session=session, org_id=principal.org_id, channel_id=channel_id)
    service.record_change(
        session=session,
        principal=principal,
        action="channel.delete",
        target_id=channel.id,
        before=service.channel_snapshot(channel),
    )
    session.delete(channel)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/channels/{channel_id}/test", response_model=schemas.DeliveryRead)
def test_channel(
    channel_id: ObjectId, principal: Writer, session: SessionDep, settings: SettingsDep
):
    """Send a sample alert now; the answer says whether it arrived (it is also logged)."""
    org = session.get(Organization, principal.org_id)
    delivery = service.test_channel(
        session=session,
        settings=settings,
        org_id=principal.org_id,
        channel_id=channel_id,
        org_name=org.name if org else "",
    )
    audit.record(
        session=session,
        action="channel.test",
        org_id=principal.org_id,
        target_type="channel",
        target_id=channel_id,
        details={"delivery_id": delivery.id, "status": delivery.status},
        **principal.audit_actor(),
    )
    return service.delivery_read(session, delivery)


@router.get("/channels/{channel_id}/deliveries", response_model=Page[schemas.DeliveryRead])
def channel_deliveries(
    channel_id: ObjectId,
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    status_: Annotated[
        Literal["pending", "sending", "sent", "failed", "silenced"] | None, Query(alias="status")
    ] = None,
):
    """The channel's delivery log, newest first."""
    service.get_channel(session=session, org_id=principal.org_id, channel_id=channel_id)
    rows, total = service.deliveries(
        session=session, org_id=principal.org_id, page=page, channel_id=channel_id, status=status_
    )
    return make_page(rows, total, page)


@router.get("/deliveries", response_model=Page[schemas.DeliveryRead])
def list_deliveries(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    channel_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    trigger_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    status_: Annotated[
        Literal["pending", "sending", "sent", "failed", "silenced"] | None, Query(alias="status")
    ] = None,
):
    """The organization's delivery log (every channel), newest first."""
    rows, total = service.deliveries(
        session=session,
        org_id=principal.org_id,
        page=page,
        channel_id=channel_id,
        trigger_id=trigger_id,
        status=status_,
    )
    return make_page(rows, total, page)


@router.post("/deliveries/{delivery_id}/retry", response_model=schemas.DeliveryRead)
def retry_delivery(delivery_id: ObjectId, principal: Writer, session: SessionDep):
    """Queue a failed delivery again."""
    delivery = service.retry_delivery(
        session=session, org_id=principal.org_id, delivery_id=delivery_id
    )
    return service.delivery_read(session, delivery)


# ------------------------------------------------------------------ alert actions


@router.post(
    "/alert-actions", status_code=status.HTTP_201_CREATED, response_model=schemas.ActionRead
)
def create_action(body: schemas.ActionCreate, principal: Writer, session: SessionDep):
    """A link (runbook, dashboard) shown as a button on the alerts it is attached to."""
    action = service.create_action(session=session, org_id=principal.org_id, body=body.model_dump())
    service.record_change(
        session=session,
        principal=principal,
        action="alert_action.create",
        target_id=action.id,
        after=service.action_snapshot(action),
    )
    return action


@router.get("/alert-actions", response_model=Page[schemas.ActionRead])
def list_actions(principal: Reader, session: SessionDep, page: PageDep):
    stmt = (
        select(AlertAction).where(AlertAction.org_id == principal.org_id).order_by(AlertAction.id)
    )
    rows, total = paginate(session, stmt, page)
    return make_page(rows, total, page)


@router.get("/alert-actions/{action_id}", response_model=schemas.ActionRead)
def get_action(action_id: ObjectId, principal: Reader, session: SessionDep):
    return service.get_action(session=session, org_id=principal.org_id, action_id=action_id)


@router.put("/alert-actions/{action_id}", response_model=schemas.ActionRead)
def update_action(
    action_id: ObjectId, body: schemas.ActionCreate, principal: Writer, session: SessionDep
):
    action = service.get_action(session=session, org_id=principal.org_id, action_id=action_id)
    before = service.action_snapshot(action)
    for key, value in body.model_dump().items():
        setattr(action, key, value)
    service.record_change(
        session=session,
        principal=principal,
        action="alert_action.update",
        target_id=action.id,
        before=before,
        after=service.action_snapshot(action),
    )
    return action


@router.delete("/alert-actions/{action_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_action(action_id: ObjectId, principal: Writer, session: SessionDep):
    action = service.get_action(session=session, org_id=principal.org_id, action_id=action_id)
    service.record_change(
        session=session,
        principal=principal,
        action="alert_action.delete",
        target_id=action.id,
        before=service.action_snapshot(action),
    )
    session.delete(action)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ------------------------------------------------------------------ routing tables


@router.post(
    "/routing-tables", status_code=status.HTTP_201_CREATED, response_model=schemas.RoutingTableRead
)
def create_routing_table(body: schemas.RoutingTableCreate, principal: Writer, session: SessionDep):
    """Dynamic routing: an alert whose `dimension` has a listed value goes to that
    value's channels too (value `*`: any value not listed)."""
    return _save_table(session, principal, body.model_dump())


def _save_table(session, principal, body: dict, table_id: int | None = None, created=()):
    """Save a routing table, audited with the channels made for it (``created``)."""
    for channel in created:
        service.record_change(
            session=session,
            principal=principal,
            action="channel.create",
            target_id=channel.id,
            after=service.channel_snapshot(channel),
        )
    before = None
    if table_id is not None:
        before = service.table_snapshot(
            service.get_routing_table(session=session, org_id=principal.org_id, table_id=table_id)
        )
    table = service.save_routing_table(
        session=session, org_id=principal.org_id, body=body, table_id=table_id
    )
    service.record_change(
        session=session,
        principal=principal,
        action="routing_table.create" if table_id is None else "routing_table.update",
        target_id=table.id,
        before=before,
        after=service.table_snapshot(table),
    )
    return table


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

    def work():
        created: list = []
        routes = service.routes_from_csv(
            session=session,
            org_id=principal.org_id,
            user_id=principal.user_id,
            text=text,
            created=created,
        )
        body = {"title": title, "dimension": dimension, "routes": routes}
        return _save_table(session, principal, body, created=created)

    return await run_in_threadpool(work)


@router.put("/routing-tables/{table_id}/csv", response_model=schemas.RoutingTableRead)
async def replace_routing_table_csv(
    table_id: ObjectId, request: Request, principal: Writer, session: SessionDep
):
    """Replace the routes of a table with those of a CSV body."""
    text = await _csv_text(request)

    def work():
        table = service.get_routing_table(
            session=session, org_id=principal.org_id, table_id=table_id
        )
        created: list = []
        routes = service.routes_from_csv(
            session=session,
            org_id=principal.org_id,
            user_id=principal.user_id,
            text=text,
            created=created,
        )
        body = {"title": table.title, "dimension": table.dimension, "routes": routes}
        return _save_table(session, principal, body, table_id=table_id, created=created)

    return await run_in_threadpool(work)


@router.get("/routing-tables/{table_id}/csv", response_model=list[list[str]])
def routing_table_rows(table_id: ObjectId, principal: Reader, session: SessionDep):
    """The table's rows: `[value, destination, ...]` (an email address for an email
    channel named after it, else the channel id)."""
    table = service.get_routing_table(session=session, org_id=principal.org_id, table_id=table_id)
    return service.routes_as_rows(session, table)


@router.get("/routing-tables", response_model=Page[schemas.RoutingTableRead])
def list_routing_tables(principal: Reader, session: SessionDep, page: PageDep):
    stmt = (
        select(RoutingTable)
        .where(RoutingTable.org_id == principal.org_id)
        .order_by(RoutingTable.id)
    )
    rows, total = paginate(session, stmt, page)
    return make_page(rows, total, page)


@router.get("/routing-tables/{table_id}", response_model=schemas.RoutingTableRead)
def get_routing_table(table_id: ObjectId, principal: Reader, session: SessionDep):
    return service.get_routing_table(session=session, org_id=principal.org_id, table_id=table_id)


@router.put("/routing-tables/{table_id}", response_model=schemas.RoutingTableRead)
def update_routing_table(
    table_id: ObjectId, body: schemas.RoutingTableCreate, principal: Writer, session: SessionDep
):
    return _save_table(session, principal, body.model_dump(), table_id=table_id)


@router.delete("/routing-tables/{table_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_routing_table(table_id: ObjectId, principal: Writer, session: SessionDep):
    table = service.get_routing_table(session=session, org_id=principal.org_id, table_id=table_id)
    service.record_change(
        session=session,
        principal=principal,
        action="routing_table.delete",
        target_id=table.id,
        before=service.table_snapshot(table),
    )
    session.delete(table)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------- user events


@router.post("/events", status_code=status.HTTP_201_CREATED, response_model=schemas.EventRead)
def create_event(body: schemas.EventCreate, principal: Writer, session: SessionDep):
    """Record a deploy, campaign or holiday (shown on metric charts). A `suppress` event
    holds the messages of alerts on the metrics its properties match, from `start` to
    `end` (or until a matching `action: end` event)."""
    return service.create_event(
        session=session,
        org_id=principal.org_id,
        user_id=principal.user_id,
        body=body.model_dump(),
    )


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
    rows, total = service.list_events(
        session=session,
        org_id=principal.org_id,
        page=page,
        start=start,
        end=end,
        category=category,
        source=source,
        type=type,
    )
    return make_page(rows, total, page)


@router.get("/events/categories", response_model=list[str])
def event_categories(principal: Reader, session: SessionDep):
    return service.distinct_values(session=session, org_id=principal.org_id, column="category")


@router.get("/events/sources", response_model=list[str])
def event_sources(principal: Reader, session: SessionDep):
    return service.distinct_values(session=session, org_id=principal.org_id, column="source")


@router.get("/events/{event_id}", response_model=schemas.EventRead)
def get_event(event_id: ObjectId, principal: Reader, session: SessionDep):
    return service.get_event(session=session, org_id=principal.org_id, event_id=event_id)


@router.put("/events/{event_id}", response_model=schemas.EventRead)
def update_event(
    event_id: ObjectId, body: schemas.EventCreate, principal: Writer, session: SessionDep
):
    return service.update_event(
        session=session, org_id=principal.org_id, event_id=event_id, body=body.model_dump()
    )


@router.delete("/events/{event_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_event(event_id: ObjectId, principal: Writer, session: SessionDep):
    session.delete(service.get_event(session=session, org_id=principal.org_id, event_id=event_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -------------------------------------------------------------- maintenance windows


@router.post(
    "/maintenance-windows", status_code=status.HTTP_201_CREATED, response_model=schemas.WindowRead
)
def create_window(body: schemas.WindowCreate, principal: Writer, session: SessionDep):
    """Hold the messages of matching alerts while active: once (`start`, `end`) or
    recurring (`rrule` or `cron`, with `dtstart`, `duration_s` and `timezone`). Detection
    goes on and alerts are recorded; an alert still open when the window ends is sent
    then."""
    window = service.save_window(
        session=session,
        org_id=principal.org_id,
        user_id=principal.user_id,
        body=body.model_dump(),
    )
    service.record_change(
        session=session,
        principal=principal,
        action="maintenance_window.create",
        target_id=window.id,
        after=service.window_snapshot(window),
    )
    return service.window_read(window)


@router.get("/maintenance-windows", response_model=Page[schemas.WindowRead])
def list_windows(principal: Reader, session: SessionDep, page: PageDep):
    stmt = (
        select(MaintenanceWindow)
        .where(MaintenanceWindow.org_id == principal.org_id)
        .order_by(MaintenanceWindow.id)
    )
    rows, total = paginate(session, stmt, page)
    return make_page([service.window_read(w) for w in rows], total, page)


@router.get("/maintenance-windows/{window_id}", response_model=schemas.WindowRead)
def get_window(window_id: ObjectId, principal: Reader, session: SessionDep):
    return service.window_read(
        service.get_window(session=session, org_id=principal.org_id, window_id=window_id)
    )


@router.put("/maintenance-windows/{window_id}", response_model=schemas.WindowRead)
def update_window(
    window_id: ObjectId, body: schemas.WindowCreate, principal: Writer, session: SessionDep
):
    before = service.window_snapshot(
        service.get_window(session=session, org_id=principal.org_id, window_id=window_id)
    )
    window = service.save_window(
        session=session,
        org_id=principal.org_id,
        user_id=principal.user_id,
        body=body.model_dump(),
        window_id=window_id,
    )
    service.record_change(
        session=session,
        principal=principal,
        action="maintenance_window.update",
        target_id=window.id,
        before=before,
        after=service.window_snapshot(window),
    )
    return service.window_read(window)


@router.delete("/maintenance-windows/{window_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_window(window_id: ObjectId, principal: Writer, session: SessionDep):
    window = service.get_window(session=session, org_id=principal.org_id, window_id=window_id)
    service.record_change(
        session=session,
        principal=principal,
        action="maintenance_window.delete",
        target_id=window.id,
        before=service.window_snapshot(window),
    )
    session.delete(window)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ------------------------------------------------------------------------- feedback


@router.post("/feedback", status_code=status.HTTP_201_CREATED, response_model=schemas.FeedbackRead)
def give_feedback(body: schemas.FeedbackCreate, principal: Writer, session: SessionDep):
    """Good catch / not interesting on an anomaly or a triggered alert. *Not
    interesting* makes deviations of that size and shape on those metrics stop alerting;
    clearly larger, longer or opposite ones still do."""
    return service.give_feedback(
        session=session,
        org_id=principal.org_id,
        user_id=principal.user_id,
        body=body.model_dump(),
    )


@router.get("/feedback", response_model=Page[schemas.FeedbackRead])
def list_feedback(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    start: Annotated[Epoch, Query(alias="from")] = None,
    end: Annotated[Epoch, Query(alias="to")] = None,
    type: Literal["good_catch", "not_interesting"] | None = None,
    anomaly_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    trigger_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
):
    """Feedback, newest first; `anomaly_id` (given on the anomaly itself) or
    `trigger_id` narrow it to one target."""
    rows, total = service.list_feedback(
        session=session,
        org_id=principal.org_id,
        page=page,
        start=start,
        end=end,
        type=type,
        anomaly_id=anomaly_id,
        trigger_id=trigger_id,
    )
    return make_page(rows, total, page)


@router.delete("/feedback/{feedback_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_feedback(feedback_id: ObjectId, principal: Writer, session: SessionDep):
    """Withdraw feedback (what it taught is forgotten)."""
    service.delete_feedback(session=session, org_id=principal.org_id, feedback_id=feedback_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/metrics/{metric_id}/feedback-profile")
def feedback_profile(metric_id: ObjectId, principal: Reader, session: SessionDep) -> dict:
    """What feedback taught about this metric: the deviations marked benign or real."""
    return service.metric_profile(session=session, org_id=principal.org_id, metric_id=metric_id)
