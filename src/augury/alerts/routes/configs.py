"""Routes of alert configurations: preview, create, list, read, replace, delete, pause,
resume, snooze."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from augury.alerts import schemas
from augury.alerts.deps import ConfigDep
from augury.alerts.services import configs
from augury.alerts.services.preview import preview
from augury.api.deps import Reader, SessionDep, Writer
from augury.api.pagination import Page, PageDep, make_page

router = APIRouter()


@router.post("/alerts/preview", response_model=schemas.PreviewRead)
def preview_alert(body: schemas.PreviewRequest, principal: Reader, session: SessionDep):
    """How often this configuration would have fired over the last `days` (default 7),
    from the stored anomalies or points; nothing is saved."""
    return preview(session, principal.org_id, body)


@router.post("/alerts", status_code=status.HTTP_201_CREATED, response_model=schemas.AlertConfigRead)
def create_alert(body: schemas.AlertConfigCreate, principal: Writer, session: SessionDep):
    """Create an alert configuration; it watches anomalies from now on (and those open now)."""
    return configs.read(session, configs.create(session, principal, body))


@router.get("/alerts", response_model=Page[schemas.AlertConfigRead])
def list_alerts(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200, description="Title contains.")] = None,
):
    """Alert configurations, newest first, with their open alert count."""
    rows, total = configs.list_page(session, principal.org_id, page, q=q)
    return make_page([configs.read(session, c) for c in rows], total, page)


@router.get("/alerts/{config_id}", response_model=schemas.AlertConfigRead)
def get_alert(config: ConfigDep, session: SessionDep):
    return configs.read(session, config)


@router.put("/alerts/{config_id}", response_model=schemas.AlertConfigRead)
def update_alert(
    body: schemas.AlertConfigCreate, principal: Writer, config: ConfigDep, session: SessionDep
):
    """Replace the configuration (open alerts are kept and re-evaluated)."""
    return configs.read(session, configs.update(session, principal, config, body))


@router.delete("/alerts/{config_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_alert(principal: Writer, config: ConfigDep, session: SessionDep):
    """Delete the configuration with its triggered alerts."""
    configs.delete(session, principal, config)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/alerts/{config_id}/pause", response_model=schemas.AlertConfigRead)
def pause_alert(principal: Writer, config: ConfigDep, session: SessionDep):
    """Stop evaluating it (open alerts stay as they are)."""
    return configs.read(session, configs.set_paused(session, principal, config, True))


@router.post("/alerts/{config_id}/resume", response_model=schemas.AlertConfigRead)
def resume_alert(principal: Writer, config: ConfigDep, session: SessionDep):
    return configs.read(session, configs.set_paused(session, principal, config, False))


@router.post("/alerts/{config_id}/snooze", response_model=schemas.AlertConfigRead)
def snooze_alert(body: schemas.Snooze, principal: Writer, config: ConfigDep, session: SessionDep):
    """Mute: alerts are still opened and closed, but no message goes out until then
    (`until`, in the future and at most 90 days away, or `duration_s`)."""
    return configs.read(session, configs.snooze(session, principal, config, body))


@router.delete("/alerts/{config_id}/snooze", response_model=schemas.AlertConfigRead)
def unsnooze_alert(principal: Writer, config: ConfigDep, session: SessionDep):
    return configs.read(session, configs.unsnooze(session, principal, config))
