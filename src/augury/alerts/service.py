"""The alerting use cases by their former names, for the callers outside the alerts
domain that seed data or act without a request: the demo, the feedback benchmark.

The use cases themselves live in :mod:`augury.alerts.services`, one module per resource;
new code imports those.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from augury.accounts.principal import Principal
from augury.alerts.models import AlertConfig, Channel, Feedback, UserEvent
from augury.alerts.schemas import AlertConfigCreate, ChannelCreate, EventCreate, FeedbackCreate
from augury.alerts.services import channels, configs, events, feedback
from augury.alerts.services.preview import breach_runs, gaps, preview

__all__ = [
    "breach_runs",
    "create_channel",
    "create_config",
    "create_event",
    "gaps",
    "give_feedback",
    "preview",
]


def create_channel(
    *, session: Session, org_id: int, user_id: int | None, body: dict, allowed: Sequence[str] = ()
) -> Channel:
    """A channel augury makes itself (not audited, as no person made it)."""
    actor = Principal(org_id=org_id, user_id=user_id)
    return channels.create(
        session, actor, ChannelCreate.model_validate(body), allowed, audited=False
    )


def create_config(*, session: Session, org_id: int, user_id: int | None, body: dict) -> AlertConfig:
    """A configuration augury makes itself (not audited, as no person made it)."""
    actor = Principal(org_id=org_id, user_id=user_id)
    return configs.create(session, actor, AlertConfigCreate.model_validate(body), audited=False)


def create_event(*, session: Session, org_id: int, user_id: int | None, body: dict) -> UserEvent:
    return events.create(
        session, Principal(org_id=org_id, user_id=user_id), EventCreate.model_validate(body)
    )


def give_feedback(*, session: Session, org_id: int, user_id: int | None, body: dict) -> Feedback:
    actor = Principal(org_id=org_id, user_id=user_id)
    return feedback.give(session, actor, FeedbackCreate.model_validate(body))
