"""Recording platform events: :func:`emit`, called by the service that made the change.

The event is added to the caller's session, so it is committed with the change it
reports or not at all; the webhooks domain's fan-out picks it up after the commit.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from augury import clock
from augury.events.catalog import EVENTS
from augury.events.models import PlatformEvent


def emit(
    session: Session, *, org_id: int, type: str, data: dict, user_id: int | None = None
) -> PlatformEvent:
    """Add one event of ``org_id`` to the session (nothing is flushed or committed here).

    ``data`` is the event's JSON ``data`` as receivers get it: keep it to ids and the few
    fields a receiver needs. An unknown ``type`` is a programming error
    (:class:`ValueError`), not the user's: every type is listed in ``EVENTS``.
    """
    if type not in EVENTS:
        raise ValueError(f"unknown platform event type {type!r}; add it to events.catalog")
    event = PlatformEvent(
        org_id=org_id, type=type, data=dict(data), user_id=user_id, created_at=clock.now()
    )
    session.add(event)
    return event
