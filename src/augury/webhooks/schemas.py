"""Request and response bodies of the event webhooks API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from augury.schemas import StrictModel

EventName = Annotated[str, Field(min_length=1, max_length=40)]
Url = Annotated[str, Field(min_length=1, max_length=2000)]
Secret = Annotated[str, Field(min_length=1, max_length=500)]
Headers = Annotated[dict[str, str], Field(max_length=20)]

_EVENTS_HELP = 'Event types (GET /api/v1/webhooks/events), or ["*"] for all of them.'


class WebhookCreate(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    url: Url
    events: list[EventName] = Field(min_length=1, max_length=50, description=_EVENTS_HELP)
    secret: Secret | None = Field(
        None, description="Signs every delivery; a random one is made when none is given."
    )
    active: bool = True
    headers: Headers | None = Field(
        None, description="Extra HTTP headers (Authorization ...); augury's own cannot be set."
    )


class WebhookUpdate(StrictModel):
    """The fields given change; a masked value sent back as read (``abcd…``) keeps the
    stored secret or header."""

    name: str | None = Field(None, min_length=1, max_length=200)
    url: Url | None = None
    events: list[EventName] | None = Field(
        None, min_length=1, max_length=50, description=_EVENTS_HELP
    )
    secret: Secret | None = None
    active: bool | None = None
    headers: Headers | None = None


class WebhookRead(BaseModel):
    id: int
    name: str
    url: str = Field(description="Cut to scheme://host/… when the URL itself is a credential.")
    events: list[str]
    active: bool
    secret: str = Field(description="In full only in the answer that created the webhook.")
    headers: dict[str, str] = Field(description="Values masked.")
    created_at: datetime
    deliveries: dict[str, int] = Field(default_factory=dict, description="Count per status.")


class EventTypeRead(BaseModel):
    type: str
    description: str


class WebhookDeliveryRead(BaseModel):
    id: int
    event_type: str = Field(description="The platform event sent (webhook.test for a test).")
    event_id: str | None = Field(description="The event's id, as in the body's id.")
    status: Literal["pending", "sending", "sent", "failed", "silenced"]
    attempts: int
    next_attempt_at: float = Field(description="Epoch seconds: when a pending one is retried.")
    status_code: int | None
    error: str | None
    duration_ms: float | None
    created_at: datetime
    sent_at: datetime | None
