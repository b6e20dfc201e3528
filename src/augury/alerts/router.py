"""HTTP routes of alerting: configurations, triggered alerts, channels and deliveries,
alert actions, routing tables, user events, maintenance windows and feedback.

Each resource's routes live in :mod:`augury.alerts.routes`; this is the one router the
app includes. The order matters: ``/alerts/triggered`` comes before ``/alerts/{id}``.
"""

from __future__ import annotations

from fastapi import APIRouter

from augury.alerts.routes import (
    actions,
    channels,
    configs,
    events,
    feedback,
    routing,
    triggers,
    windows,
)

router = APIRouter(tags=["alerts"])
for part in (triggers, configs, channels, actions, routing, events, windows, feedback):
    router.include_router(part.router)
