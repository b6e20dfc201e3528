"""Routes of triggered alerts: list, count, read, acknowledge, resolve, deliveries."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from augury.alerts import schemas
from augury.alerts.deps import TriggerDep
from augury.alerts.routes.params import CSV, Epoch, csv_ints, csv_items
from augury.alerts.services import deliveries, triggers
from augury.alerts.services.triggers import TriggerFilter
from augury.api.deps import Reader, SessionDep, SettingsDep, Writer
from augury.api.pagination import Page, PageDep, make_page

router = APIRouter()


def trigger_filters(
    severity: CSV = None,
    config_id: CSV = None,
    type_: Annotated[str | None, Query(alias="type", max_length=100)] = None,
    start: Annotated[Epoch, Query(alias="from")] = None,
    end: Annotated[Epoch, Query(alias="to")] = None,
    q: Annotated[str | None, Query(max_length=2000, description="Metric expression.")] = None,
    acknowledged: bool | None = None,
    anomaly_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Alerts raised by this Anomaly.")
    ] = None,
) -> TriggerFilter:
    """The filters the list and the count of triggered alerts share."""
    return TriggerFilter(
        severities=csv_items(severity),
        config_ids=csv_ints(config_id),
        types=csv_items(type_),
        start=start,
        end=end,
        q=q,
        acknowledged=acknowledged,
        anomaly_id=anomaly_id,
    )


TriggerFilters = Annotated[TriggerFilter, Depends(trigger_filters)]


@router.get("/alerts/triggered", response_model=Page[schemas.TriggerRead])
def list_triggered(
    principal: Reader,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    filters: TriggerFilters,
    status_: Annotated[Literal["open", "closed"] | None, Query(alias="status")] = None,
    sort: Literal["start", "updated", "score", "metrics"] = "start",
    order: Literal["asc", "desc"] = "desc",
):
    """Triggered alerts, filtered by status, severities, configurations, types, the
    time range they overlap, a metric expression they involve, acknowledgement and
    the Anomaly that raised them."""
    rows, total = triggers.list_page(
        session, principal.org_id, page, filters, status=status_, sort=sort, order=order
    )
    return make_page([triggers.read(session, t, settings.base_url) for t in rows], total, page)


@router.get("/alerts/triggered/count", response_model=schemas.TriggerCount)
def count_triggered(principal: Reader, session: SessionDep, filters: TriggerFilters):
    """How many triggered alerts match, open and closed."""
    return triggers.count(session, principal.org_id, filters)


@router.get("/alerts/triggered/{trigger_id}", response_model=schemas.TriggerRead)
def get_triggered(trigger: TriggerDep, session: SessionDep, settings: SettingsDep):
    """One triggered alert with its metrics (each linking to its anomaly)."""
    return triggers.read(session, trigger, settings.base_url)


@router.post("/alerts/triggered/{trigger_id}/acknowledge", response_model=schemas.TriggerRead)
def acknowledge(principal: Writer, trigger: TriggerDep, session: SessionDep, settings: SettingsDep):
    """Acknowledge: someone is on it (no more update messages; close still goes out)."""
    trigger = triggers.acknowledge(session, principal, trigger, on=True)
    return triggers.read(session, trigger, settings.base_url)


@router.delete("/alerts/triggered/{trigger_id}/acknowledge", response_model=schemas.TriggerRead)
def unacknowledge(
    principal: Writer, trigger: TriggerDep, session: SessionDep, settings: SettingsDep
):
    """Remove the acknowledgement."""
    trigger = triggers.acknowledge(session, principal, trigger, on=False)
    return triggers.read(session, trigger, settings.base_url)


@router.post("/alerts/triggered/{trigger_id}/resolve", response_model=schemas.TriggerRead)
def resolve(principal: Writer, trigger: TriggerDep, session: SessionDep, settings: SettingsDep):
    """Close the alert by hand; its close message goes out, and the anomalies it holds
    do not open it again."""
    trigger = triggers.resolve(session, principal, trigger, settings.base_url)
    return triggers.read(session, trigger, settings.base_url)


@router.get("/alerts/triggered/{trigger_id}/deliveries", response_model=Page[schemas.DeliveryRead])
def trigger_deliveries(trigger: TriggerDep, session: SessionDep, page: PageDep):
    """Every message about this alert, per channel, with its outcome."""
    rows, total = deliveries.list_page(session, trigger.org_id, page, trigger_id=trigger.id)
    return make_page(rows, total, page)
