"""Platform events: what happened in an organization, for its event webhooks.

A service that creates a chart, uploads a dataset version, invites a member ... records
a :class:`PlatformEvent` in the same transaction as the change (``events.service.emit``),
so an event exists exactly when its change was committed. The webhooks domain fans each
new event out to the organization's subscribed webhooks as outbox deliveries and marks
it ``fanned_out``; a crash between the two leaves the event to the next round.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from augury.store.base import Base, CreatedMixin, IdMixin, OrgMixin


class PlatformEvent(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "platform_event"
    __table_args__ = (Index("ix_platform_event_pending", "fanned_out", "id"),)

    type: Mapped[str] = mapped_column(String(40))
    """``chart.created``, ``dataset.uploaded`` ...: one of ``events.catalog.EVENTS``."""
    data: Mapped[dict] = mapped_column(default=dict)
    """The event's JSON ``data``: ids and the few fields a receiver needs."""
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    """Who caused it, when a person did."""
    fanned_out: Mapped[bool] = mapped_column(Boolean, default=False)
