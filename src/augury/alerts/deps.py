"""Loaders of alerting objects for routes: the object of the path's id, in the caller's
organization, else the same RESOURCE_NOT_FOUND another organization's id gets.

A loader needs only the ``read`` permission; a route that changes the object still
declares ``Writer`` itself, before the loaded object, so a missing role answers 403
before any lookup. FastAPI resolves the principal once per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from augury.alerts.models import (
    AlertAction,
    AlertConfig,
    AlertTrigger,
    Channel,
    Delivery,
    Feedback,
    MaintenanceWindow,
    RoutingTable,
    UserEvent,
)
from augury.alerts.services import (
    actions,
    channels,
    configs,
    deliveries,
    events,
    feedback,
    routing,
    triggers,
    windows,
)
from augury.api.deps import ObjectId, Reader, SessionDep


def _config(config_id: ObjectId, principal: Reader, session: SessionDep) -> AlertConfig:
    return configs.get(session, principal.org_id, config_id)


def _trigger(trigger_id: ObjectId, principal: Reader, session: SessionDep) -> AlertTrigger:
    return triggers.get(session, principal.org_id, trigger_id)


def _channel(channel_id: ObjectId, principal: Reader, session: SessionDep) -> Channel:
    return channels.get(session, principal.org_id, channel_id)


def _delivery(delivery_id: ObjectId, principal: Reader, session: SessionDep) -> Delivery:
    return deliveries.get(session, principal.org_id, delivery_id)


def _action(action_id: ObjectId, principal: Reader, session: SessionDep) -> AlertAction:
    return actions.get(session, principal.org_id, action_id)


def _table(table_id: ObjectId, principal: Reader, session: SessionDep) -> RoutingTable:
    return routing.get(session, principal.org_id, table_id)


def _event(event_id: ObjectId, principal: Reader, session: SessionDep) -> UserEvent:
    return events.get(session, principal.org_id, event_id)


def _window(window_id: ObjectId, principal: Reader, session: SessionDep) -> MaintenanceWindow:
    return windows.get(session, principal.org_id, window_id)


def _feedback(feedback_id: ObjectId, principal: Reader, session: SessionDep) -> Feedback:
    return feedback.get(session, principal.org_id, feedback_id)


ConfigDep = Annotated[AlertConfig, Depends(_config)]
TriggerDep = Annotated[AlertTrigger, Depends(_trigger)]
ChannelDep = Annotated[Channel, Depends(_channel)]
DeliveryDep = Annotated[Delivery, Depends(_delivery)]
ActionDep = Annotated[AlertAction, Depends(_action)]
RoutingTableDep = Annotated[RoutingTable, Depends(_table)]
EventDep = Annotated[UserEvent, Depends(_event)]
WindowDep = Annotated[MaintenanceWindow, Depends(_window)]
FeedbackDep = Annotated[Feedback, Depends(_feedback)]
