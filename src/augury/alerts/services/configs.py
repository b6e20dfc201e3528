"""Alert configurations: what to watch, when to alert and whom to tell.

Every change is audited here, with the principal who made it."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.alerts.models import (
    AlertAction,
    AlertConfig,
    AlertTrigger,
    Channel,
    RoutingTable,
    ordinary_channel,
)
from augury.alerts.schemas import AlertConfigCreate, Snooze
from augury.alerts.services.auditing import CONFIG_FIELDS, config_snapshot, record_change
from augury.alerts.services.common import check_ids
from augury.anomalies.models import TIMESCALE_BY_NAME, TIMESCALES, MetricAnomaly
from augury.errors import ValidationFailed
from augury.metrics import service as metrics_service
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate
from augury.store.text import contains

MAX_SNOOZE_S = 90 * 86400
_SETTINGS = (
    "title",
    "description",
    "type",
    "severity",
    "owner",
    "labels",
    "expression",
    "group_by",
    "notify_on",
    "repeat_interval_s",
    "channel_ids",
    "routing_table_id",
    "action_ids",
)
"""The fields of :class:`AlertConfigCreate` stored as they are."""


def get(session: Session, org_id: int, config_id: int) -> AlertConfig:
    return get_owned(session, AlertConfig, org_id, config_id, "Alert configuration")


def list_page(
    session: Session, org_id: int, page: PageParams, q: str | None = None
) -> tuple[list[AlertConfig], int]:
    """Newest first; ``q``: the title contains it."""
    stmt = select(AlertConfig).where(AlertConfig.org_id == org_id)
    if q:
        stmt = stmt.where(contains(AlertConfig.title, q))
    return paginate(session, stmt.order_by(AlertConfig.id.desc()), page)


def _apply(session: Session, config: AlertConfig, org_id: int, body: AlertConfigCreate) -> None:
    metrics_service.parse_expression(body.expression)
    check_ids(session, Channel, org_id, body.channel_ids, "channel_ids", ordinary_channel())
    check_ids(session, AlertAction, org_id, body.action_ids, "action_ids")
    if body.routing_table_id is not None:
        get_owned(session, RoutingTable, org_id, body.routing_table_id, "Routing table")
    for key in _SETTINGS:
        setattr(config, key, getattr(body, key))
    config.timescale = TIMESCALE_BY_NAME[body.timescale]
    config.conditions = {k: v for k, v in body.conditions.model_dump().items() if v is not None}
    config.updated_at = clock.now()


def create(
    session: Session, principal: Principal, body: AlertConfigCreate, *, audited: bool = True
) -> AlertConfig:
    """A new configuration watches anomalies from now on (and those open now).

    ``audited=False`` is for data augury seeds itself (the demo), not a person's change."""
    org_id = principal.org_id
    config = AlertConfig(org_id=org_id, created_by_id=principal.user_id, paused=False, watching=[])
    _apply(session, config, org_id, body)
    config.cursor = int(
        session.scalar(select(func.max(MetricAnomaly.id)).where(MetricAnomaly.org_id == org_id))
        or 0
    )
    session.add(config)
    session.flush()
    if audited:
        record_change(
            session=session,
            principal=principal,
            action="alert.create",
            target_id=config.id,
            after=config_snapshot(config),
        )
    return config


def update(
    session: Session, principal: Principal, config: AlertConfig, body: AlertConfigCreate
) -> AlertConfig:
    """Replace the configuration (open alerts are kept and re-evaluated)."""
    before = config_snapshot(config)
    _apply(session, config, principal.org_id, body)
    _audit(session, principal, config, "alert.update", before)
    return config


def delete(session: Session, principal: Principal, config: AlertConfig) -> None:
    """Delete the configuration with its triggered alerts."""
    record_change(
        session=session,
        principal=principal,
        action="alert.delete",
        target_id=config.id,
        before=config_snapshot(config),
    )
    session.delete(config)


def set_paused(
    session: Session, principal: Principal, config: AlertConfig, paused: bool
) -> AlertConfig:
    """Stop evaluating it (open alerts stay as they are), or start again."""
    before = config_snapshot(config)
    config.paused = paused
    _audit(session, principal, config, "alert.pause" if paused else "alert.resume", before)
    return config


def snooze(
    session: Session, principal: Principal, config: AlertConfig, body: Snooze
) -> AlertConfig:
    """Mute the configuration's messages until ``until`` (epoch s) or for ``duration_s``;
    ``until`` must be in the future and at most :data:`MAX_SNOOZE_S` away."""
    before = config_snapshot(config)
    now = clock.now().timestamp()
    until = body.until
    if until is None:
        until = now + float(body.duration_s or 0.0)
    elif until <= now:
        raise ValidationFailed(
            "until: the end of a snooze must be in the future (epoch seconds).",
            details={"field": "until", "now": now},
        )
    elif until - now > MAX_SNOOZE_S:
        raise ValidationFailed(
            f"until: a snooze lasts at most {MAX_SNOOZE_S // 86400} days.",
            details={"field": "until", "max": now + MAX_SNOOZE_S},
        )
    config.snoozed_until = until
    _audit(session, principal, config, "alert.snooze", before)
    return config


def unsnooze(session: Session, principal: Principal, config: AlertConfig) -> AlertConfig:
    before = config_snapshot(config)
    config.snoozed_until = None
    _audit(session, principal, config, "alert.unsnooze", before)
    return config


def _audit(
    session: Session, principal: Principal, config: AlertConfig, action: str, before: dict
) -> None:
    record_change(
        session=session,
        principal=principal,
        action=action,
        target_id=config.id,
        before=before,
        after=config_snapshot(config),
    )


def open_trigger_counts(session: Session, config_ids: list[int]) -> dict[int, int]:
    if not config_ids:
        return {}
    rows = session.execute(
        select(AlertTrigger.config_id, func.count())
        .where(AlertTrigger.config_id.in_(config_ids), AlertTrigger.status == "open")
        .group_by(AlertTrigger.config_id)
    ).all()
    return {config_id: count for config_id, count in rows}


def read(session: Session, config: AlertConfig) -> dict:
    """The configuration as the API answers it, with its open alert count."""
    body = {c: getattr(config, c) for c in ("id", *CONFIG_FIELDS, "created_at", "updated_at")}
    body["timescale"] = TIMESCALES.get(config.timescale, "native")
    body["open_triggers"] = open_trigger_counts(session, [config.id]).get(config.id, 0)
    return body
