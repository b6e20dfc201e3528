"""Event webhooks: subscriptions of a URL to platform events, and their delivery log.

A webhook owns an alert channel of type ``webhook`` (marked with
:data:`~augury.alerts.models.OWNER_KEY`, so alerting neither lists nor uses it): its URL,
secret and headers are that channel's config, checked by the webhook channel's own
validation (public addresses only, unless the operator allows more), and its deliveries
are that channel's rows of ``alert_delivery``, sent, signed and retried by the alert
dispatcher. Creating a webhook makes its channel; deleting it deletes the channel and,
with it, the delivery log. Every change is audited, secrets masked.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.alerts import channels
from augury.alerts.dispatch import send_now
from augury.alerts.models import OWNER_KEY, Channel, Delivery
from augury.alerts.services.auditing import channel_snapshot, mask_channel
from augury.audit import service as audit
from augury.config import Settings
from augury.errors import ValidationFailed
from augury.events.catalog import ALL, EVENTS
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate
from augury.webhooks.models import EventWebhook
from augury.webhooks.schemas import WebhookCreate, WebhookUpdate

OWNER = "webhooks"
"""The value of the owned channel's :data:`OWNER_KEY`."""
DELIVERY_EVENT = "event"
"""``alert_delivery.event`` of an event's delivery (the column holds 10 characters; the
type itself rides in the payload's ``"event"`` and heads the request)."""
TEST_EVENT = "webhook.test"


def get(session: Session, org_id: int, webhook_id: int) -> EventWebhook:
    return get_owned(session, EventWebhook, org_id, webhook_id, "Webhook")


def channel_of(session: Session, hook: EventWebhook) -> Channel:
    channel = session.get(Channel, hook.channel_id)
    assert channel is not None  # the webhook row goes with its channel (ON DELETE CASCADE)
    return channel


def list_page(session: Session, org_id: int, page: PageParams) -> tuple[list[EventWebhook], int]:
    stmt = select(EventWebhook).where(EventWebhook.org_id == org_id).order_by(EventWebhook.id)
    return paginate(session, stmt, page)


def checked_events(events: Sequence[str]) -> list[str]:
    """The subscribed types, each once, in the order given; ``*`` alone stands for all.
    An unknown name is refused (422) with the names known, so a typo never subscribes
    to nothing in silence."""
    unknown = sorted({e for e in events if e not in EVENTS and e != ALL})
    if unknown:
        raise ValidationFailed(
            f"Unknown event type(s): {', '.join(unknown)}.",
            details={"events": unknown, "known": [*EVENTS, ALL]},
        )
    if ALL in events:
        return [ALL]
    return list(dict.fromkeys(events))


def _checked_config(config: dict, allowed: Sequence[str]) -> dict:
    try:
        out = channels.validate_config("webhook", config, allowed=allowed)
    except ValueError as exc:
        raise ValidationFailed(f"Invalid webhook: {exc}", details={"url": str(exc)}) from exc
    return {**out, OWNER_KEY: OWNER}


def create(
    session: Session, principal: Principal, body: WebhookCreate, allowed: Sequence[str] = ()
) -> EventWebhook:
    """``allowed``: the operator's ``alerts.allowed_private_networks``."""
    events = checked_events(body.events)
    config = _checked_config(
        {"url": body.url, "secret": body.secret, "headers": body.headers}, allowed
    )
    channel = Channel(
        org_id=principal.org_id,
        name=_channel_name(body.name),
        type="webhook",
        config=config,
        enabled=body.active,
        created_by_id=principal.user_id,
    )
    session.add(channel)
    session.flush()
    hook = EventWebhook(
        org_id=principal.org_id,
        name=body.name,
        events=events,
        active=body.active,
        channel_id=channel.id,
        created_by_id=principal.user_id,
        created_at=clock.now(),  # compared with events' times (``events.service.emit``)
    )
    session.add(hook)
    session.flush()
    _audit(session, principal, "webhook.create", hook, after=snapshot(hook, channel))
    return hook


def update(
    session: Session,
    principal: Principal,
    hook: EventWebhook,
    body: WebhookUpdate,
    allowed: Sequence[str] = (),
) -> EventWebhook:
    channel = channel_of(session, hook)
    before = snapshot(hook, channel)
    if body.name is not None:
        hook.name = body.name
        channel.name = _channel_name(body.name)
    if body.events is not None:
        hook.events = checked_events(body.events)
    if body.active is not None:
        hook.active = channel.enabled = body.active
    given = {
        key: value
        for key, value in (("url", body.url), ("secret", body.secret), ("headers", body.headers))
        if value is not None
    }
    if given:
        channel.config = _checked_config(_merge(channel.config, given), allowed)
    _audit(session, principal, "webhook.update", hook, before=before, after=snapshot(hook, channel))
    return hook


def _merge(stored: dict, given: dict) -> dict:
    """``given`` over ``stored``, except masked values (``abcd…``) sent back as read."""

    def masked(value: object) -> bool:
        return isinstance(value, str) and value.endswith("…")

    merged = {k: v for k, v in stored.items() if not k.startswith("_")}
    for key, value in given.items():
        if masked(value):
            continue
        if key == "headers":
            old = stored.get("headers") or {}
            value = {h: (old.get(h, v) if masked(v) else v) for h, v in value.items()}
        merged[key] = value
    return merged


def delete(session: Session, principal: Principal, hook: EventWebhook) -> None:
    """Delete the webhook, its channel and its delivery log (unsent deliveries too)."""
    channel = channel_of(session, hook)
    _audit(session, principal, "webhook.delete", hook, before=snapshot(hook, channel))
    session.delete(hook)
    session.flush()  # the row first: deleting the channel would cascade to it unseen
    session.delete(channel)


def _channel_name(name: str) -> str:
    return f"Event webhook: {name}"[:200]


def snapshot(hook: EventWebhook, channel: Channel) -> dict:
    """What the audit log compares (pass through :func:`mask_channel`: it has secrets)."""
    return {
        "name": hook.name,
        "events": list(hook.events),
        "active": hook.active,
        "config": channel_snapshot(channel)["config"],
    }


def _audit(session, principal, action, hook, *, before=None, after=None) -> None:
    audit.record_change(
        session=session,
        principal=principal,
        action=action,
        target_type="webhook",
        target_id=hook.id,
        before=before,
        after=after,
        mask=mask_channel,
    )


def read(session: Session, hook: EventWebhook, *, reveal_secret: bool = False) -> dict:
    """The webhook as the API answers it: secret and header values masked (the secret
    whole when ``reveal_secret``: the answer that created it), deliveries per status."""
    channel = channel_of(session, hook)
    public = channels.public_config("webhook", channel.config)
    counts = dict(
        session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.channel_id == channel.id)
            .group_by(Delivery.status)
        ).all()
    )
    return {
        "id": hook.id,
        "name": hook.name,
        "url": public["url"],
        "events": list(hook.events),
        "active": hook.active,
        "secret": channel.config["secret"] if reveal_secret else public.get("secret", ""),
        "headers": public.get("headers") or {},
        "created_at": hook.created_at,
        "deliveries": counts,
    }


# --- the delivery log and the test button --------------------------------------------------


def deliveries(
    session: Session, hook: EventWebhook, page: PageParams, status: str | None = None
) -> tuple[list[dict], int]:
    """The webhook's delivery log, newest first."""
    stmt = select(Delivery).where(
        Delivery.org_id == hook.org_id, Delivery.channel_id == hook.channel_id
    )
    if status:
        stmt = stmt.where(Delivery.status == status)
    rows, total = paginate(session, stmt.order_by(Delivery.id.desc()), page)
    return [read_delivery(d) for d in rows], total


def read_delivery(delivery: Delivery) -> dict:
    payload = delivery.payload or {}
    body = payload.get("json") or {}
    return {
        "id": delivery.id,
        "event_type": payload.get("event") or body.get("event") or delivery.event,
        "event_id": body.get("id"),
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "status_code": delivery.status_code,
        "error": delivery.error,
        "duration_ms": delivery.duration_ms,
        "created_at": delivery.created_at,
        "sent_at": delivery.sent_at,
    }


def body(*, event_id: str, type: str, timestamp: str, org_id: int, data: dict) -> dict:
    """The JSON an event webhook receives (see docs/webhooks.md)."""
    return {
        "id": event_id,
        "event": type,
        "timestamp": timestamp,
        "organization_id": org_id,
        "data": data,
    }


def test(
    session: Session, settings: Settings, principal: Principal, hook: EventWebhook
) -> Delivery:
    """Send a sample event (``webhook.test``) now, whatever the webhook subscribes to and
    even while it is inactive, and log it like any delivery (and in the audit log). A
    failure is reported at once, not retried."""
    channel = channel_of(session, hook)
    now = clock.now()
    sample = body(
        event_id=f"test-{uuid.uuid4().hex}",
        type=TEST_EVENT,
        timestamp=now.isoformat(),
        org_id=hook.org_id,
        data={
            "webhook_id": hook.id,
            "name": hook.name,
            "message": "If you can read this, the webhook works.",
        },
    )
    delivery = Delivery(
        org_id=hook.org_id,
        channel_id=channel.id,
        trigger_id=None,
        event="test",
        payload={"json": sample, "event": TEST_EVENT},
        status="sending",
        attempts=0,
        next_attempt_at=now.timestamp(),
        locked_until=now.timestamp() + 2 * settings.alerts.timeout_s + 30.0,  # a claim's lease
    )
    session.add(delivery)
    session.flush()
    send_now(session, settings, delivery, channel)
    audit.record_by(
        session=session,
        principal=principal,
        action="webhook.test",
        target_type="webhook",
        target_id=hook.id,
        details={"delivery_id": delivery.id, "status": delivery.status},
    )
    return delivery
