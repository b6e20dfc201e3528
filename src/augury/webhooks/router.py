"""HTTP routes of event webhooks: ``/api/v1/webhooks`` (admins)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from augury.api.deps import Admin, SessionDep, SettingsDep
from augury.api.pagination import Page, PageDep, make_page
from augury.events.catalog import EVENTS
from augury.webhooks import schemas, service
from augury.webhooks.deps import WebhookDep

router = APIRouter(tags=["webhooks"])

DeliveryStatus = Annotated[
    Literal["pending", "sending", "sent", "failed"] | None, Query(alias="status")
]


@router.get("/webhooks/events", response_model=list[schemas.EventTypeRead])
def event_types(principal: Admin):
    """The platform events a webhook can subscribe to (or ``*`` for all of them)."""
    return [{"type": name, "description": text} for name, text in EVENTS.items()]


@router.post("/webhooks", status_code=status.HTTP_201_CREATED, response_model=schemas.WebhookRead)
def create_webhook(
    body: schemas.WebhookCreate, principal: Admin, session: SessionDep, settings: SettingsDep
):
    """Subscribe a URL to platform events. Deliveries are signed with ``secret`` (made
    when none is given, and shown whole only in this answer)."""
    hook = service.create(session, principal, body, settings.alerts.allowed_private_networks)
    return service.read(session, hook, reveal_secret=True)


@router.get("/webhooks", response_model=Page[schemas.WebhookRead])
def list_webhooks(principal: Admin, session: SessionDep, page: PageDep):
    rows, total = service.list_page(session, principal.org_id, page)
    return make_page([service.read(session, h) for h in rows], total, page)


@router.get("/webhooks/{webhook_id}", response_model=schemas.WebhookRead)
def get_webhook(hook: WebhookDep, session: SessionDep):
    return service.read(session, hook)


@router.patch("/webhooks/{webhook_id}", response_model=schemas.WebhookRead)
def update_webhook(
    body: schemas.WebhookUpdate,
    principal: Admin,
    hook: WebhookDep,
    session: SessionDep,
    settings: SettingsDep,
):
    """Change the fields given; a masked secret or header sent back keeps its value."""
    allowed = settings.alerts.allowed_private_networks
    return service.read(session, service.update(session, principal, hook, body, allowed))


@router.delete("/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(principal: Admin, hook: WebhookDep, session: SessionDep):
    """Delete the webhook with its delivery log; what was not sent yet is dropped."""
    service.delete(session, principal, hook)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=Page[schemas.WebhookDeliveryRead])
def webhook_deliveries(
    hook: WebhookDep, session: SessionDep, page: PageDep, status_: DeliveryStatus = None
):
    """The webhook's delivery log, newest first."""
    rows, total = service.deliveries(session, hook, page, status_)
    return make_page(rows, total, page)


@router.post("/webhooks/{webhook_id}/test", response_model=schemas.WebhookDeliveryRead)
def test_webhook(principal: Admin, hook: WebhookDep, session: SessionDep, settings: SettingsDep):
    """Send a sample event (``webhook.test``) now; the answer says whether it arrived."""
    return service.read_delivery(service.test(session, settings, principal, hook))
