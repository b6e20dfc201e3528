"""The delivery log: every message to every alert channel, with its outcome; a failed
one can be queued again. Deliveries through a channel another domain owns (an event
webhook's) are that domain's to show."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from augury import clock
from augury.alerts.models import Channel, Delivery, ordinary_channel
from augury.errors import NotFound, ValidationFailed
from augury.store.pagination import PageParams, paginate


def get(session: Session, org_id: int, delivery_id: int) -> Delivery:
    delivery = session.scalar(
        select(Delivery).where(
            Delivery.id == delivery_id, Delivery.org_id == org_id, _of_alert_channels()
        )
    )
    if delivery is None:
        raise NotFound("Delivery not found.")
    return delivery


def _of_alert_channels() -> ColumnElement[bool]:
    """Deliveries through alert channels only: those of a channel another domain owns
    (an event webhook's) are that domain's log, not alerting's."""
    return Delivery.channel_id.in_(select(Channel.id).where(ordinary_channel()))


def list_page(
    session: Session,
    org_id: int,
    page: PageParams,
    channel_id: int | None = None,
    trigger_id: int | None = None,
    status: str | None = None,
) -> tuple[list[dict], int]:
    stmt = select(Delivery).where(Delivery.org_id == org_id, _of_alert_channels())
    if channel_id is not None:
        stmt = stmt.where(Delivery.channel_id == channel_id)
    if trigger_id is not None:
        stmt = stmt.where(Delivery.trigger_id == trigger_id)
    if status:
        stmt = stmt.where(Delivery.status == status)
    rows, total = paginate(session, stmt.order_by(Delivery.id.desc()), page)
    return [read(session, d) for d in rows], total


def read(session: Session, delivery: Delivery) -> dict:
    """The delivery as the API answers it, with its channel's name and type."""
    channel = session.get(Channel, delivery.channel_id)
    return {
        **{
            c: getattr(delivery, c)
            for c in (
                "id",
                "channel_id",
                "trigger_id",
                "event",
                "status",
                "attempts",
                "next_attempt_at",
                "status_code",
                "error",
                "duration_ms",
                "sent_at",
                "created_at",
            )
        },
        "channel_name": channel.name if channel else "",
        "channel_type": channel.type if channel else "",
    }


def retry(delivery: Delivery) -> Delivery:
    """Queue a failed delivery again (from its first attempt)."""
    if delivery.status != "failed":
        raise ValidationFailed("Only a failed delivery can be retried.")
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = clock.now().timestamp()
    return delivery
