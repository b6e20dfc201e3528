"""The delivery log: every message to every channel, with its outcome; a failed one can
be queued again."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury import clock
from augury.alerts.models import Channel, Delivery
from augury.errors import ValidationFailed
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate


def get(session: Session, org_id: int, delivery_id: int) -> Delivery:
    return get_owned(session, Delivery, org_id, delivery_id, "Delivery")


def list_page(
    session: Session,
    org_id: int,
    page: PageParams,
    channel_id: int | None = None,
    trigger_id: int | None = None,
    status: str | None = None,
) -> tuple[list[dict], int]:
    stmt = select(Delivery).where(Delivery.org_id == org_id)
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
