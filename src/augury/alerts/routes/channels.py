"""Routes of channels and their delivery log: create, list, read, update, delete, send a
test, deliveries, retry a failed one."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from augury.alerts import schemas
from augury.alerts.deps import ChannelDep, DeliveryDep
from augury.alerts.services import channels, deliveries
from augury.api.deps import Reader, SessionDep, SettingsDep, Writer
from augury.api.pagination import Page, PageDep, make_page

router = APIRouter()

DeliveryStatus = Annotated[
    Literal["pending", "sending", "sent", "failed", "silenced"] | None, Query(alias="status")
]


@router.post("/channels", status_code=status.HTTP_201_CREATED, response_model=schemas.ChannelRead)
def create_channel(
    body: schemas.ChannelCreate, principal: Writer, session: SessionDep, settings: SettingsDep
):
    """Create a channel (webhook, slack, email, pagerduty, teams). A webhook gets a
    signing secret when none is given; it is shown masked afterwards."""
    allowed = settings.alerts.allowed_private_networks
    channel = channels.create(session, principal, body, allowed)
    out = channels.read(session, channel)
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
    rows, total = channels.list_page(session, principal.org_id, page, type=type, name=name)
    return make_page([channels.read(session, c) for c in rows], total, page)


@router.get("/channels/{channel_id}", response_model=schemas.ChannelRead)
def get_channel(channel: ChannelDep, session: SessionDep):
    return channels.read(session, channel)


@router.patch("/channels/{channel_id}", response_model=schemas.ChannelRead)
def update_channel(
    body: schemas.ChannelUpdate,
    principal: Writer,
    channel: ChannelDep,
    session: SessionDep,
    settings: SettingsDep,
):
    """Rename, enable/disable, or change config keys (the others are kept)."""
    allowed = settings.alerts.allowed_private_networks
    return channels.read(session, channels.update(session, principal, channel, body, allowed))


@router.delete("/channels/{channel_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_channel(principal: Writer, channel: ChannelDep, session: SessionDep):
    """Delete the channel with its delivery log."""
    channels.delete(session, principal, channel)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/channels/{channel_id}/test", response_model=schemas.DeliveryRead)
def test_channel(
    principal: Writer, channel: ChannelDep, session: SessionDep, settings: SettingsDep
):
    """Send a sample alert now; the answer says whether it arrived (it is also logged)."""
    delivery = channels.test(session, settings, principal, channel)
    return deliveries.read(session, delivery)


@router.get("/channels/{channel_id}/deliveries", response_model=Page[schemas.DeliveryRead])
def channel_deliveries(
    channel: ChannelDep, session: SessionDep, page: PageDep, status_: DeliveryStatus = None
):
    """The channel's delivery log, newest first."""
    rows, total = deliveries.list_page(
        session, channel.org_id, page, channel_id=channel.id, status=status_
    )
    return make_page(rows, total, page)


@router.get("/deliveries", response_model=Page[schemas.DeliveryRead])
def list_deliveries(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    channel_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    trigger_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    status_: DeliveryStatus = None,
):
    """The organization's delivery log (every channel), newest first."""
    rows, total = deliveries.list_page(
        session,
        principal.org_id,
        page,
        channel_id=channel_id,
        trigger_id=trigger_id,
        status=status_,
    )
    return make_page(rows, total, page)


@router.post("/deliveries/{delivery_id}/retry", response_model=schemas.DeliveryRead)
def retry_delivery(principal: Writer, delivery: DeliveryDep, session: SessionDep):
    """Queue a failed delivery again."""
    return deliveries.read(session, deliveries.retry(delivery))
