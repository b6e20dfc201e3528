"""Loader of the webhook a path names: the caller's organization's, else the same
RESOURCE_NOT_FOUND another organization's id gets.

Every webhook route is for admins (a webhook sends the organization's events, with
names and emails, to a URL of its creator's choosing), so the loader itself needs the
``admin`` permission: a viewer or member gets 403 before any lookup.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from augury.api.deps import Admin, ObjectId, SessionDep
from augury.webhooks import service
from augury.webhooks.models import EventWebhook


def _webhook(webhook_id: ObjectId, principal: Admin, session: SessionDep) -> EventWebhook:
    return service.get(session, principal.org_id, webhook_id)


WebhookDep = Annotated[EventWebhook, Depends(_webhook)]
