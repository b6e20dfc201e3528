"""Event webhooks: a URL (with a secret) subscribed to platform events.

A subscription owns a webhook channel of alerting (``channel_id``): the URL, the
secret and any headers live in its config, and deliveries go through the same signed,
durable outbox (``alert_delivery``) with retries and a delivery log as alert webhooks.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from augury.store.base import Base, CreatedMixin, IdMixin, OrgMixin


class EventWebhook(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "event_webhook"

    name: Mapped[str] = mapped_column(String(200))
    events: Mapped[list] = mapped_column(default=list)
    """Event types it receives (``events.catalog.EVENTS``); ``["*"]``: all of them."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("alert_channel.id", ondelete="CASCADE"), unique=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
