"""Channels: where alerts go (webhook, Slack, email, PagerDuty, Teams), with their
settings checked by :mod:`augury.alerts.channels` and every change audited, secrets
masked.

A channel another domain made for itself (an event webhook's: see
:data:`~augury.alerts.models.OWNER_KEY`) is not one of these: :func:`get` and
:func:`list_page` do not find it, so the channel routes cannot show, change or delete it
behind its owner's back."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.models import Organization
from augury.accounts.principal import Principal
from augury.alerts import channels
from augury.alerts.dispatch import send_now
from augury.alerts.models import Channel, Delivery, ordinary_channel
from augury.alerts.notification import Notification, NotificationMetric
from augury.alerts.schemas import ChannelCreate, ChannelUpdate
from augury.alerts.services.auditing import channel_snapshot, record_change
from augury.audit import service as audit
from augury.config import Settings
from augury.errors import NotFound, ValidationFailed
from augury.store.pagination import PageParams, paginate
from augury.store.text import contains


def get(session: Session, org_id: int, channel_id: int) -> Channel:
    channel = session.scalar(
        select(Channel).where(
            Channel.id == channel_id, Channel.org_id == org_id, ordinary_channel()
        )
    )
    if channel is None:
        raise NotFound("Channel not found.")
    return channel


def list_page(
    session: Session,
    org_id: int,
    page: PageParams,
    type: str | None = None,
    name: str | None = None,
) -> tuple[list[Channel], int]:
    stmt = select(Channel).where(Channel.org_id == org_id, ordinary_channel())
    if type:
        stmt = stmt.where(Channel.type == type)
    if name:
        stmt = stmt.where(contains(Channel.name, name))
    return paginate(session, stmt.order_by(Channel.id), page)


def create(
    session: Session,
    principal: Principal,
    body: ChannelCreate,
    allowed: Sequence[str] = (),
    *,
    audited: bool = True,
) -> Channel:
    """``allowed``: the operator's ``alerts.allowed_private_networks``. ``audited=False``:
    the caller records the creation itself (with what it made it for), or augury seeds
    the channel (the demo)."""
    channel = Channel(
        org_id=principal.org_id,
        name=body.name,
        type=body.type,
        config=_checked(body.type, body.config, allowed),
        enabled=body.enabled,
        created_by_id=principal.user_id,
    )
    session.add(channel)
    session.flush()
    if audited:
        record_created(session, principal, channel)
    return channel


def record_created(session: Session, principal: Principal, channel: Channel) -> None:
    record_change(
        session=session,
        principal=principal,
        action="channel.create",
        target_id=channel.id,
        after=channel_snapshot(channel),
    )


def _checked(kind: str, config: dict, allowed: Sequence[str] = ()) -> dict:
    try:
        return channels.validate_config(kind, config, allowed=allowed)
    except ValueError as exc:
        raise ValidationFailed(
            f"Invalid {kind} channel: {exc}", details={"config": str(exc)}
        ) from exc


def update(
    session: Session,
    principal: Principal,
    channel: Channel,
    body: ChannelUpdate,
    allowed: Sequence[str] = (),
) -> Channel:
    """Rename, enable/disable, or change config keys (the others are kept)."""
    before = channel_snapshot(channel)
    if body.name is not None:
        channel.name = body.name
    if body.enabled is not None:
        channel.enabled = body.enabled
    if body.config is not None:
        channel.config = _checked(channel.type, _merge_config(channel.config, body.config), allowed)
    record_change(
        session=session,
        principal=principal,
        action="channel.update",
        target_id=channel.id,
        before=before,
        after=channel_snapshot(channel),
    )
    return channel


def _merge_config(stored: dict, given: dict) -> dict:
    """``given`` over ``stored``, except masked values (``abcd…``) that a client sent
    back as it read them: those keep the stored secret."""

    def masked(value) -> bool:
        return isinstance(value, str) and value.endswith("…")

    merged = dict(stored)
    for key, value in given.items():
        if masked(value):
            continue
        if key == "headers" and isinstance(value, dict):
            old = stored.get("headers") or {}
            value = {h: (old.get(h, v) if masked(v) else v) for h, v in value.items()}
        merged[key] = value
    return merged


def delete(session: Session, principal: Principal, channel: Channel) -> None:
    """Delete the channel with its delivery log."""
    record_change(
        session=session,
        principal=principal,
        action="channel.delete",
        target_id=channel.id,
        before=channel_snapshot(channel),
    )
    session.delete(channel)


def read(session: Session, channel: Channel) -> dict:
    """The channel as the API answers it: secrets masked, deliveries counted per status."""
    rows = session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.channel_id == channel.id)
        .group_by(Delivery.status)
    ).all()
    counts = {status: n for status, n in rows}
    return {
        "id": channel.id,
        "name": channel.name,
        "type": channel.type,
        "config": channels.public_config(channel.type, channel.config),
        "enabled": channel.enabled,
        "created_at": channel.created_at,
        "deliveries": counts,
    }


def test(session: Session, settings: Settings, principal: Principal, channel: Channel) -> Delivery:
    """Send a sample alert now and log it like any delivery (and in the audit log)."""
    org_id = principal.org_id
    org = session.get(Organization, org_id)
    org_name = org.name if org else ""
    now = clock.now().timestamp()
    base = settings.base_url.rstrip("/")
    sample = Notification(
        event="test",
        trigger_id=0,
        group_key=f"augury:{org_id}:test:{channel.id}",
        config_id=0,
        title=f"Test message from augury to {channel.name}",
        description="If you can read this, the channel works.",
        severity="info",
        type="anomaly",
        status="open",
        start=now - 300,
        updated=now,
        end=None,
        timescale="native",
        score=87.5,
        direction="up",
        metrics=[
            NotificationMetric(
                id=0,
                name="what=example.host=web-1",
                what="example",
                dimensions={"host": "web-1"},
                state="open",
                start=now - 300,
                end=now,
                value=42.0,
                expected=20.0,
                delta=22.0,
                delta_pct=110.0,
                score=87.5,
                direction="up",
                url=f"{base}/metrics/explore",
            )
        ],
        url=f"{base}/alerts",
        organization=org_name,
    )
    delivery = Delivery(
        org_id=org_id,
        channel_id=channel.id,
        trigger_id=None,
        event="test",
        payload=sample.to_dict(),
        status="sending",
        attempts=0,
        next_attempt_at=now,
        locked_until=now + 2 * settings.alerts.timeout_s + 30.0,  # as a claim's lease
    )
    session.add(delivery)
    session.flush()
    send_now(session, settings, delivery, channel)
    audit.record_by(
        session=session,
        principal=principal,
        action="channel.test",
        target_type="channel",
        target_id=channel.id,
        details={"delivery_id": delivery.id, "status": delivery.status},
    )
    return delivery
