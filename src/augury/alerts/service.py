"""Alerting use cases: configurations, triggered alerts, channels, actions, routing
tables, user events, maintenance windows and feedback. Every function filters by the
caller's organization."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.models import User
from augury.accounts.principal import Principal
from augury.alerts import channels, evaluate, notify, schedule
from augury.alerts.dispatch import send_now
from augury.alerts.models import (
    AlertAction,
    AlertConfig,
    AlertTrigger,
    AlertTriggerMetric,
    Channel,
    Delivery,
    Feedback,
    FeedbackProfile,
    MaintenanceWindow,
    RoutingTable,
    UserEvent,
)
from augury.alerts.notification import Notification, NotificationMetric
from augury.anomalies.models import TIMESCALE_BY_NAME, TIMESCALES, AnomalyGroup, MetricAnomaly
from augury.audit import service as audit
from augury.config import Settings
from augury.engines.detect import feedback as feedback_engine
from augury.errors import NotFound, ValidationFailed
from augury.metrics import expressions
from augury.metrics import service as metrics_service
from augury.metrics.models import Metric
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate

# ------------------------------------------------------------------------- audit

_CONFIG_FIELDS = (
    "title",
    "description",
    "type",
    "severity",
    "owner",
    "labels",
    "expression",
    "group_by",
    "conditions",
    "notify_on",
    "repeat_interval_s",
    "channel_ids",
    "routing_table_id",
    "action_ids",
    "paused",
    "snoozed_until",
)
_WINDOW_FIELDS = (
    "name",
    "expression",
    "config_ids",
    "start",
    "end",
    "rrule",
    "cron",
    "dtstart",
    "duration_s",
    "timezone",
)
_PLAIN_CHANNEL_SETTINGS = {"format", "channel", "username", "to"}
"""Channel settings shown in the audit log as they are; any other is a secret."""
HIDDEN = "…"


def config_snapshot(config: AlertConfig) -> dict:
    """What the audit log compares before and after a change of a configuration."""
    out = audit.snapshot(config, _CONFIG_FIELDS)
    out["timescale"] = TIMESCALES.get(config.timescale, "native")
    return out


def channel_snapshot(channel: Channel) -> dict:
    """A channel's settings, secrets included: pass the result through
    :func:`mask_channel` before writing it anywhere."""
    config = {k: v for k, v in (channel.config or {}).items() if not str(k).startswith("_")}
    return {
        "name": channel.name,
        "type": channel.type,
        "enabled": channel.enabled,
        "config": audit.jsonable(config),
    }


def window_snapshot(window: MaintenanceWindow) -> dict:
    return audit.snapshot(window, _WINDOW_FIELDS)


def table_snapshot(table: RoutingTable) -> dict:
    return audit.snapshot(table, ("title", "dimension", "routes"))


def action_snapshot(action: AlertAction) -> dict:
    return audit.snapshot(action, ("name", "button", "url"))


def _url_origin(url: object) -> str:
    """``scheme://host[:port]/…``: a URL's path, query and user info often are the
    secret (Slack and Teams URLs, ``?token=``, ``user:password@``)."""
    try:
        parts = urlsplit(str(url))
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return HIDDEN
    if not parts.scheme or not host:
        return HIDDEN
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{port}/{HIDDEN}"


def mask_channel(snapshot: dict) -> dict:
    """A channel snapshot (or part of one) safe for the audit log: the URL reduced to
    its origin, header values and every setting not known to be plain hidden."""
    out = dict(snapshot)
    config = out.get("config")
    if isinstance(config, dict):
        masked = {}
        for key, value in config.items():
            if key == "url":
                masked[key] = _url_origin(value)
            elif key == "headers" and isinstance(value, dict):
                masked[key] = {name: HIDDEN for name in value}
            elif key in _PLAIN_CHANNEL_SETTINGS:
                masked[key] = value
            else:
                masked[key] = HIDDEN
        out["config"] = masked
    return out


def record_change(
    *,
    session: Session,
    principal: Principal,
    action: str,
    target_id: int,
    before: dict | None = None,
    after: dict | None = None,
    target_type: str | None = None,
) -> None:
    """Audit a change of alerting configuration; the target type is the action's
    family (``channel.update``: ``channel``) unless given; channels' secrets are masked."""
    kind = target_type or action.split(".", 1)[0]
    audit.record_change(
        session=session,
        principal=principal,
        action=action,
        target_type=kind,
        target_id=target_id,
        before=before,
        after=after,
        mask=mask_channel if kind == "channel" else None,
    )


# ------------------------------------------------------------------- ids


def _check_ids(session: Session, model, org_id: int, ids: list[int], field: str) -> None:
    if not ids:
        return
    found = set(session.scalars(select(model.id).where(model.org_id == org_id, model.id.in_(ids))))
    missing = sorted(set(ids) - found)
    if missing:
        raise ValidationFailed(f"Unknown {field}: {missing}.", details={field: missing})


# ------------------------------------------------------------------- configurations


def _apply_config(session: Session, config: AlertConfig, org_id: int, body: dict) -> None:
    metrics_service.parse_expression(body["expression"])
    _check_ids(session, Channel, org_id, body["channel_ids"], "channel_ids")
    _check_ids(session, AlertAction, org_id, body["action_ids"], "action_ids")
    if body.get("routing_table_id") is not None:
        get_owned(session, RoutingTable, org_id, body["routing_table_id"], "Routing table")
    for key in (
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
    ):
        setattr(config, key, body[key])
    config.timescale = TIMESCALE_BY_NAME[body["timescale"]]
    config.conditions = {k: v for k, v in body["conditions"].items() if v is not None}
    config.updated_at = clock.now()


def create_config(*, session: Session, org_id: int, user_id: int | None, body: dict) -> AlertConfig:
    """A new configuration watches anomalies from now on (and those open now)."""
    config = AlertConfig(org_id=org_id, created_by_id=user_id, paused=False, watching=[])
    _apply_config(session, config, org_id, body)
    config.cursor = int(
        session.scalar(select(func.max(MetricAnomaly.id)).where(MetricAnomaly.org_id == org_id))
        or 0
    )
    session.add(config)
    session.flush()
    return config


def update_config(*, session: Session, org_id: int, config_id: int, body: dict) -> AlertConfig:
    config = get_config(session=session, org_id=org_id, config_id=config_id)
    _apply_config(session, config, org_id, body)
    return config


def get_config(*, session: Session, org_id: int, config_id: int) -> AlertConfig:
    return get_owned(session, AlertConfig, org_id, config_id, "Alert configuration")


def list_configs(
    *, session: Session, org_id: int, page: PageParams, q: str | None = None
) -> tuple[list[AlertConfig], int]:
    stmt = select(AlertConfig).where(AlertConfig.org_id == org_id)
    if q:
        stmt = stmt.where(AlertConfig.title.ilike(f"%{q}%"))
    return paginate(session, stmt.order_by(AlertConfig.id.desc()), page)


def open_trigger_counts(session: Session, config_ids: list[int]) -> dict[int, int]:
    if not config_ids:
        return {}
    return dict(
        session.execute(
            select(AlertTrigger.config_id, func.count())
            .where(AlertTrigger.config_id.in_(config_ids), AlertTrigger.status == "open")
            .group_by(AlertTrigger.config_id)
        ).all()
    )


def config_read(session: Session, config: AlertConfig) -> dict:
    body = {c: getattr(config, c) for c in ("id", *_CONFIG_FIELDS, "created_at", "updated_at")}
    body["timescale"] = TIMESCALES.get(config.timescale, "native")
    body["open_triggers"] = open_trigger_counts(session, [config.id]).get(config.id, 0)
    return body


MAX_SNOOZE_S = 90 * 86400


def snooze(
    *,
    session: Session,
    org_id: int,
    config_id: int,
    until: float | None,
    duration_s: float | None,
) -> AlertConfig:
    """Mute the configuration's messages until ``until`` (epoch s) or for ``duration_s``;
    ``until`` must be in the future and at most :data:`MAX_SNOOZE_S` away."""
    config = get_config(session=session, org_id=org_id, config_id=config_id)
    now = clock.now().timestamp()
    if until is None:
        until = now + float(duration_s)
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
    return config


# ---------------------------------------------------------------------- preview


def preview(*, session: Session, org_id: int, body: dict, now: float | None = None) -> dict:
    """How often a configuration would have fired over the last ``days``, computed from
    the stored anomalies (anomaly alerts) or points (static and no-data alerts)."""
    now = clock.now().timestamp() if now is None else now
    metrics_service.parse_expression(body["expression"])
    start = now - body["days"] * 86400
    cond = {k: v for k, v in body["conditions"].items() if v is not None}
    tree = expressions.parse(body["expression"] or "")
    ids = metrics_service.ids_matching(session=session, org_id=org_id, q=body["expression"])
    intervals: list[tuple[dict, float, float, int, float | None]] = []  # per metric
    considered = 0
    if ids and body["type"] == "anomaly":
        rows = session.execute(
            select(MetricAnomaly, Metric)
            .join(Metric, Metric.id == MetricAnomaly.metric_id)
            .where(
                MetricAnomaly.org_id == org_id,
                MetricAnomaly.timescale == TIMESCALE_BY_NAME[body["timescale"]],
                MetricAnomaly.end >= start,
            )
            .order_by(MetricAnomaly.start)
        ).all()
        profiles = _profiles(session, [m.id for _, m in rows])
        for a, m in rows:
            if not expressions.matches(tree, m.what, m.dimensions):
                continue
            considered += 1
            if not evaluate.anomaly_passes(cond, a):
                continue
            if evaluate.benign(profiles.get(m.id), a):
                continue
            key = evaluate.group_key(body["group_by"], m)
            intervals.append((key, a.start, a.end + (a.interval or 0.0), m.id, a.peak_score))
    elif ids:
        metrics = {m.id: m for m in session.scalars(select(Metric).where(Metric.id.in_(ids)))}
        for metric_id, metric in metrics.items():
            points = metrics_service.native_points(session, metric_id, start, now + 1)
            if body["type"] == "static":
                runs = breach_runs(points, cond)
            else:
                runs = gaps(points, float(cond["no_data_s"]), now)
            key = evaluate.group_key(body["group_by"], metric)
            intervals.extend((key, lo, hi, metric_id, None) for lo, hi in runs)
    triggers = _merge(intervals, int(cond.get("min_metrics") or 1))
    return {
        "fired": len(triggers),
        "start": start,
        "end": now,
        "metrics_matched": len(ids),
        "anomalies_considered": considered,
        "triggers": sorted(triggers, key=lambda t: -t["start"])[:50],
    }


def breach_runs(points: list[tuple[float, float]], cond: dict) -> list[tuple[float, float]]:
    """``(start, end)`` of each run of points beyond the static bounds that lasted at
    least ``duration_s`` (as the evaluator would have opened it); ``end`` is the first
    point back within bounds, or the last point."""
    duration = float(cond.get("duration_s") or 0.0)
    runs = []
    first = last = None
    for ts, value in points:
        if evaluate.breaches(float(value), cond.get("above"), cond.get("below")):
            first = ts if first is None else first
            last = ts
            continue
        if first is not None and last - first >= duration:
            runs.append((first, ts))
        first = None
    if first is not None and last - first >= duration:
        runs.append((first, last))
    return runs


def gaps(points: list[tuple[float, float]], quiet: float, now: float) -> list[tuple[float, float]]:
    """``(start, end)`` of each silence longer than ``quiet`` (up to ``now``), from
    when a no-data alert would have opened to when data came back."""
    marks = [ts for ts, _ in points] + [now]
    return [(a + quiet, b) for a, b in zip(marks, marks[1:], strict=False) if b - a > quiet]


def _merge(intervals, min_metrics: int) -> list[dict]:
    """Overlapping intervals of one group are one alert, as the evaluator does it."""
    by_group: dict[str, list] = {}
    for key, start, end, metric_id, score in intervals:
        by_group.setdefault(key, []).append((start, end, metric_id, score))
    out = []
    for key, items in by_group.items():
        items.sort()
        current = None
        for start, end, metric_id, score in items:
            if current is not None and start <= current["end"]:
                current["end"] = max(current["end"], end)
                current["_metrics"].add(metric_id)
                if score is not None:
                    current["peak_score"] = max(current["peak_score"] or 0.0, score)
                continue
            if current is not None:
                out.append(current)
            current = {
                "group": json.loads(key) if key else {},
                "start": start,
                "end": end,
                "_metrics": {metric_id},
                "peak_score": score,
            }
        if current is not None:
            out.append(current)
    result = []
    for t in out:
        metrics = t.pop("_metrics")
        if len(metrics) >= min_metrics:
            result.append({**t, "metrics": len(metrics), "metric_ids": sorted(metrics)})
    return result


def _profiles(session: Session, metric_ids: list[int]) -> dict[int, object]:
    if not metric_ids:
        return {}
    return {
        p.metric_id: feedback_engine.from_json(p.profile)
        for p in session.scalars(
            select(FeedbackProfile).where(FeedbackProfile.metric_id.in_(set(metric_ids)))
        )
    }


# ------------------------------------------------------------------ triggered alerts

TRIGGER_SORTS = {
    "start": AlertTrigger.start,
    "updated": AlertTrigger.updated,
    "score": AlertTrigger.peak_score,
    "metrics": AlertTrigger.metric_count,
}


def _trigger_query(
    org_id: int,
    *,
    status: str | None = None,
    severities: list[str] | None = None,
    config_ids: list[int] | None = None,
    types: list[str] | None = None,
    start: float | None = None,
    end: float | None = None,
    q: str | None = None,
    acknowledged: bool | None = None,
    anomaly_id: int | None = None,
):
    stmt = select(AlertTrigger).where(AlertTrigger.org_id == org_id)
    if acknowledged is not None:
        ack = AlertTrigger.acknowledged_at
        stmt = stmt.where(ack.is_not(None) if acknowledged else ack.is_(None))
    if anomaly_id is not None:
        stmt = stmt.where(
            AlertTrigger.id.in_(
                select(AlertTriggerMetric.trigger_id)
                .join(MetricAnomaly, MetricAnomaly.id == AlertTriggerMetric.anomaly_id)
                .where(MetricAnomaly.group_id == anomaly_id)
            )
        )
    if status:
        stmt = stmt.where(AlertTrigger.status == status)
    if severities:
        stmt = stmt.where(AlertTrigger.severity.in_(severities))
    if config_ids:
        stmt = stmt.where(AlertTrigger.config_id.in_(config_ids))
    if types:
        stmt = stmt.where(AlertTrigger.type.in_(types))
    if start is not None:
        stmt = stmt.where(func.coalesce(AlertTrigger.end, AlertTrigger.updated) >= start)
    if end is not None:
        stmt = stmt.where(AlertTrigger.start < end)
    if q:
        tree = metrics_service.parse_expression(q)
        stmt = stmt.where(
            AlertTrigger.id.in_(
                select(AlertTriggerMetric.trigger_id)
                .join(Metric, Metric.id == AlertTriggerMetric.metric_id)
                .where(metrics_service.expression_clause(tree))
            )
        )
    return stmt


def list_triggers(
    *,
    session: Session,
    org_id: int,
    page: PageParams,
    sort: str = "start",
    order: str = "desc",
    **filters,
) -> tuple[list[AlertTrigger], int]:
    if sort not in TRIGGER_SORTS:
        raise ValidationFailed(
            f"Unknown sort {sort!r}.", details={"allowed": sorted(TRIGGER_SORTS)}
        )
    column = TRIGGER_SORTS[sort]
    stmt = _trigger_query(org_id, **filters).order_by(
        column.desc() if order == "desc" else column.asc(), AlertTrigger.id.desc()
    )
    return paginate(session, stmt, page)


def count_triggers(*, session: Session, org_id: int, **filters) -> dict:
    sub = _trigger_query(org_id, **filters).subquery()
    rows = dict(session.execute(select(sub.c.status, func.count()).group_by(sub.c.status)).all())
    return {
        "total": sum(rows.values()),
        "open": rows.get("open", 0),
        "closed": rows.get("closed", 0),
    }


def get_trigger(*, session: Session, org_id: int, trigger_id: int) -> AlertTrigger:
    return get_owned(session, AlertTrigger, org_id, trigger_id, "Triggered alert")


def trigger_read(session: Session, trigger: AlertTrigger, base_url: str) -> dict:
    rows = session.execute(
        select(AlertTriggerMetric, Metric, MetricAnomaly.group_id)
        .join(Metric, Metric.id == AlertTriggerMetric.metric_id)
        .outerjoin(MetricAnomaly, MetricAnomaly.id == AlertTriggerMetric.anomaly_id)
        .where(AlertTriggerMetric.trigger_id == trigger.id)
        .order_by(AlertTriggerMetric.score.desc().nulls_last(), Metric.id)
    ).all()
    end = trigger.end if trigger.end is not None else trigger.updated
    config = session.get(AlertConfig, trigger.config_id)
    people = {
        u.id: u.email
        for u in session.scalars(
            select(User).where(User.id.in_({trigger.acknowledged_by_id, trigger.resolved_by_id}))
        )
    }
    return {
        "config_title": config.title if config else "",
        "acknowledged_by": people.get(trigger.acknowledged_by_id),
        "resolved_by": people.get(trigger.resolved_by_id),
        **{
            c: getattr(trigger, c)
            for c in (
                "id",
                "config_id",
                "title",
                "type",
                "severity",
                "status",
                "start",
                "updated",
                "end",
                "peak_score",
                "direction",
                "group",
                "metric_count",
                "acknowledged_by_id",
                "acknowledged_at",
                "resolved_by_id",
                "silenced_by",
                "created_at",
            )
        },
        "duration": max(0.0, end - trigger.start),
        "url": f"{base_url.rstrip('/')}/alerts/triggered/{trigger.id}",
        "metrics": [
            {
                "metric_id": m.id,
                "name": m.name,
                "what": m.what,
                "dimensions": m.dimensions,
                "anomaly_id": group_id,
                **{
                    c: getattr(tm, c)
                    for c in (
                        "state",
                        "start",
                        "end",
                        "value",
                        "expected",
                        "delta",
                        "delta_pct",
                        "score",
                        "direction",
                    )
                },
            }
            for tm, m, group_id in rows
        ],
    }


def acknowledge(*, session: Session, org_id: int, trigger_id: int, user_id: int | None, on: bool):
    trigger = get_trigger(session=session, org_id=org_id, trigger_id=trigger_id)
    trigger.acknowledged_by_id = user_id if on else None
    trigger.acknowledged_at = clock.now() if on else None
    return trigger


def resolve(
    *, session: Session, org_id: int, trigger_id: int, user_id: int | None, base_url: str
) -> AlertTrigger:
    """Close a triggered alert by hand (its close message goes out); the anomalies it
    holds do not open it again."""
    trigger = get_trigger(session=session, org_id=org_id, trigger_id=trigger_id)
    if trigger.status == "closed":
        return trigger
    now = clock.now().timestamp()
    config = session.get(AlertConfig, trigger.config_id)
    trigger.status = "closed"
    trigger.end = trigger.updated
    trigger.resolved_by_id = user_id
    for row in session.scalars(
        select(AlertTriggerMetric).where(AlertTriggerMetric.trigger_id == trigger.id)
    ):
        row.state = "closed"
    if trigger.opened_sent and "close" in (config.notify_on or []):
        notify.enqueue(session, config, trigger, "close", now=now, base_url=base_url)
    return trigger


# -------------------------------------------------------------------------- channels


def create_channel(
    *,
    session: Session,
    org_id: int,
    user_id: int | None,
    body: dict,
    allowed: Sequence[str] = (),
) -> Channel:
    """``allowed``: the operator's ``alerts.allowed_private_networks``."""
    config = _channel_config(body["type"], body["config"], allowed)
    channel = Channel(
        org_id=org_id,
        name=body["name"],
        type=body["type"],
        config=config,
        enabled=body["enabled"],
        created_by_id=user_id,
    )
    session.add(channel)
    session.flush()
    return channel


def _channel_config(kind: str, config: dict, allowed: Sequence[str] = ()) -> dict:
    try:
        return channels.validate_config(kind, config, allowed=allowed)
    except ValueError as exc:
        raise ValidationFailed(
            f"Invalid {kind} channel: {exc}", details={"config": str(exc)}
        ) from exc


def update_channel(
    *, session: Session, org_id: int, channel_id: int, body: dict, allowed: Sequence[str] = ()
) -> Channel:
    channel = get_channel(session=session, org_id=org_id, channel_id=channel_id)
    if body.get("name") is not None:
        channel.name = body["name"]
    if body.get("enabled") is not None:
        channel.enabled = body["enabled"]
    if body.get("config") is not None:
        channel.config = _channel_config(
            channel.type, _merge_config(channel.config, body["config"]), allowed
        )
    return channel


def _merge_config(stored: dict, given: dict) -> dict:
    """``given`` over ``stored``, except masked values (``abcd…``) that a client sent
    back as it read them: those keep the stored secret."""

    def masked(value) -> bool:
        return isinstance(value, str) and value.endswith("…")

    merged = dict(stored)
    for key, value in given.items():
        if masked(value):
            continue
        if key == "headers" and isinstance(value, dict):
            old = stored.get("headers") or {}
            value = {h: (old.get(h, v) if masked(v) else v) for h, v in value.items()}
        merged[key] = value
    return merged


def get_channel(*, session: Session, org_id: int, channel_id: int) -> Channel:
    return get_owned(session, Channel, org_id, channel_id, "Channel")


def list_channels(
    *,
    session: Session,
    org_id: int,
    page: PageParams,
    type: str | None = None,
    name: str | None = None,
) -> tuple[list[Channel], int]:
    stmt = select(Channel).where(Channel.org_id == org_id)
    if type:
        stmt = stmt.where(Channel.type == type)
    if name:
        stmt = stmt.where(Channel.name.ilike(f"%{name}%"))
    return paginate(session, stmt.order_by(Channel.id), page)


def channel_read(session: Session, channel: Channel) -> dict:
    counts = dict(
        session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.channel_id == channel.id)
            .group_by(Delivery.status)
        ).all()
    )
    return {
        "id": channel.id,
        "name": channel.name,
        "type": channel.type,
        "config": channels.public_config(channel.type, channel.config),
        "enabled": channel.enabled,
        "created_at": channel.created_at,
        "deliveries": counts,
    }


def test_channel(
    *, session: Session, settings: Settings, org_id: int, channel_id: int, org_name: str
) -> Delivery:
    """Send a sample alert now and log it like any delivery."""
    channel = get_channel(session=session, org_id=org_id, channel_id=channel_id)
    now = clock.now().timestamp()
    base = settings.base_url.rstrip("/")
    sample = Notification(
        event="test",
        trigger_id=0,
        group_key=f"augury:{org_id}:test:{channel.id}",
        config_id=0,
        title=f"Test message from augury to {channel.name}",
        description="If you can read this, the channel works.",
        severity="info",
        type="anomaly",
        status="open",
        start=now - 300,
        updated=now,
        end=None,
        timescale="native",
        score=87.5,
        direction="up",
        metrics=[
            NotificationMetric(
                id=0,
                name="what=example.host=web-1",
                what="example",
                dimensions={"host": "web-1"},
                state="open",
                start=now - 300,
                end=now,
                value=42.0,
                expected=20.0,
                delta=22.0,
                delta_pct=110.0,
                score=87.5,
                direction="up",
                url=f"{base}/metrics/explore",
            )
        ],
        url=f"{base}/alerts",
        organization=org_name,
    )
    delivery = Delivery(
        org_id=org_id,
        channel_id=channel.id,
        trigger_id=None,
        event="test",
        payload=sample.to_dict(),
        status="sending",
        attempts=0,
        next_attempt_at=now,
        locked_until=now + 2 * settings.alerts.timeout_s + 30.0,  # as a claim's lease
    )
    session.add(delivery)
    session.flush()
    send_now(session, settings, delivery, channel)
    return delivery


def deliveries(
    *,
    session: Session,
    org_id: int,
    page: PageParams,
    channel_id: int | None = None,
    trigger_id: int | None = None,
    status: str | None = None,
) -> tuple[list[dict], int]:
    stmt = select(Delivery).where(Delivery.org_id == org_id)
    if channel_id is not None:
        stmt = stmt.where(Delivery.channel_id == channel_id)
    if trigger_id is not None:
        stmt = stmt.where(Delivery.trigger_id == trigger_id)
    if status:
        stmt = stmt.where(Delivery.status == status)
    rows, total = paginate(session, stmt.order_by(Delivery.id.desc()), page)
    return [delivery_read(session, d) for d in rows], total


def delivery_read(session: Session, delivery: Delivery) -> dict:
    channel = session.get(Channel, delivery.channel_id)
    return {
        **{
            c: getattr(delivery, c)
            for c in (
                "id",
                "channel_id",
                "trigger_id",
                "event",
                "status",
                "attempts",
                "next_attempt_at",
                "status_code",
                "error",
                "duration_ms",
                "sent_at",
                "created_at",
            )
        },
        "channel_name": channel.name if channel else "",
        "channel_type": channel.type if channel else "",
    }


def retry_delivery(*, session: Session, org_id: int, delivery_id: int) -> Delivery:
    """Queue a failed delivery again (from its first attempt)."""
    delivery = get_owned(session, Delivery, org_id, delivery_id, "Delivery")
    if delivery.status != "failed":
        raise ValidationFailed("Only a failed delivery can be retried.")
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = clock.now().timestamp()
    return delivery


# -------------------------------------------------------------- actions and routing


def create_action(*, session: Session, org_id: int, body: dict) -> AlertAction:
    action = AlertAction(org_id=org_id, **body)
    session.add(action)
    session.flush()
    return action


def get_action(*, session: Session, org_id: int, action_id: int) -> AlertAction:
    return get_owned(session, AlertAction, org_id, action_id, "Alert action")


def save_routing_table(
    *, session: Session, org_id: int, body: dict, table_id: int | None = None
) -> RoutingTable:
    for route in body["routes"]:
        _check_ids(session, Channel, org_id, route["channel_ids"], "channel_ids")
    if table_id is None:
        table = RoutingTable(org_id=org_id)
        session.add(table)
    else:
        table = get_routing_table(session=session, org_id=org_id, table_id=table_id)
    table.title = body["title"]
    table.dimension = body["dimension"]
    table.routes = body["routes"]
    table.updated_at = clock.now()
    session.flush()
    return table


def routes_from_csv(
    *,
    session: Session,
    org_id: int,
    user_id: int | None,
    text: str,
    created: list[Channel] | None = None,
) -> list[dict]:
    """Routes from a CSV as Anodot's routing tables are uploaded: one row per dimension
    value, then its destinations (more columns, or ``;``-separated). A destination is a
    channel id, or an email address: the email channel named after it is used, and
    created when missing (and added to ``created``)."""
    routes: list[dict] = []
    email_channels = {
        c.name: c.id
        for c in session.scalars(
            select(Channel).where(Channel.org_id == org_id, Channel.type == "email")
        )
    }
    for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row if c.strip()]
        if not cells:
            continue
        if n == 1 and cells[0].lower() in ("value", "dimension value", "dimension_value"):
            continue  # a header
        value, destinations = cells[0], [d.strip() for c in cells[1:] for d in c.split(";")]
        ids: list[int] = []
        for dest in filter(None, destinations):
            if dest.isdigit():
                ids.append(int(dest))
            elif "@" in dest:
                if dest not in email_channels:
                    channel = create_channel(
                        session=session,
                        org_id=org_id,
                        user_id=user_id,
                        body={
                            "name": dest,
                            "type": "email",
                            "config": {"to": [dest]},
                            "enabled": True,
                        },
                    )
                    email_channels[dest] = channel.id
                    if created is not None:
                        created.append(channel)
                ids.append(email_channels[dest])
            else:
                raise ValidationFailed(
                    f"Row {n}: {dest!r} is neither a channel id nor an email address.",
                    details={"row": n},
                )
        if not ids:
            raise ValidationFailed(f"Row {n}: no destination for {value!r}.", details={"row": n})
        if len(value) > 400:
            raise ValidationFailed(f"Row {n}: the value is longer than 400 characters.")
        routes.append({"value": value, "channel_ids": ids})
    if not routes:
        raise ValidationFailed("The CSV has no routes.")
    return routes


def routes_as_rows(session: Session, table: RoutingTable) -> list[list[str]]:
    """The table as Anodot answers it: ``[value, destination, ...]`` rows, email
    channels named after their address shown as that address."""
    ids = {i for r in table.routes for i in r.get("channel_ids", [])}
    names = (
        {
            c.id: c.name
            for c in session.scalars(select(Channel).where(Channel.id.in_(ids)))
            if c.type == "email" and c.config.get("to") == [c.name]
        }
        if ids
        else {}
    )
    return [
        [r["value"], *(names.get(i, str(i)) for i in r.get("channel_ids", []))]
        for r in table.routes
    ]


def get_routing_table(*, session: Session, org_id: int, table_id: int) -> RoutingTable:
    return get_owned(session, RoutingTable, org_id, table_id, "Routing table")


# ---------------------------------------------------------------------- user events


def create_event(*, session: Session, org_id: int, user_id: int | None, body: dict) -> UserEvent:
    """A new event; a suppress event with ``action: end`` closes the matching open one
    (as Anodot's START/END suppress events) and is returned instead."""
    action = body.pop("action", None)
    if body["type"] == "suppress" and action == "end":
        open_one = session.scalar(
            select(UserEvent)
            .where(
                UserEvent.org_id == org_id,
                UserEvent.type == "suppress",
                UserEvent.end.is_(None),
                UserEvent.title == body["title"],
                UserEvent.category == body["category"],
                UserEvent.source == body["source"],
            )
            .order_by(UserEvent.id.desc())
        )
        if open_one is None or (open_one.properties or {}) != body["properties"]:
            raise NotFound(
                "No open suppress event with this title, category, source and properties."
            )
        open_one.end = body["end"] if body.get("end") is not None else body["start"]
        return open_one
    event = UserEvent(org_id=org_id, created_by_id=user_id, **body)
    session.add(event)
    session.flush()
    return event


def update_event(*, session: Session, org_id: int, event_id: int, body: dict) -> UserEvent:
    event = get_event(session=session, org_id=org_id, event_id=event_id)
    body.pop("action", None)
    for key, value in body.items():
        setattr(event, key, value)
    return event


def get_event(*, session: Session, org_id: int, event_id: int) -> UserEvent:
    return get_owned(session, UserEvent, org_id, event_id, "Event")


def list_events(
    *,
    session: Session,
    org_id: int,
    page: PageParams,
    start: float | None = None,
    end: float | None = None,
    category: str | None = None,
    source: str | None = None,
    type: str | None = None,
) -> tuple[list[UserEvent], int]:
    stmt = select(UserEvent).where(UserEvent.org_id == org_id)
    if start is not None:
        stmt = stmt.where(func.coalesce(UserEvent.end, UserEvent.start) >= start)
    if end is not None:
        stmt = stmt.where(UserEvent.start < end)
    if category:
        stmt = stmt.where(UserEvent.category == category)
    if source:
        stmt = stmt.where(UserEvent.source == source)
    if type:
        stmt = stmt.where(UserEvent.type == type)
    return paginate(session, stmt.order_by(UserEvent.start.desc(), UserEvent.id.desc()), page)


def distinct_values(*, session: Session, org_id: int, column: str) -> list[str]:
    col = getattr(UserEvent, column)
    return list(
        session.scalars(select(col).where(UserEvent.org_id == org_id).distinct().order_by(col))
    )


# -------------------------------------------------------------- maintenance windows


def _window_spec(body: dict) -> schedule.Window:
    try:
        return schedule.validate(
            schedule.Window(
                start=body.get("start"),
                end=body.get("end"),
                rrule=body.get("rrule"),
                cron=body.get("cron"),
                dtstart=body.get("dtstart"),
                duration_s=body.get("duration_s"),
                timezone=body.get("timezone") or "UTC",
            )
        )
    except ValueError as exc:
        raise ValidationFailed(f"Invalid maintenance window: {exc}") from exc


def save_window(
    *, session: Session, org_id: int, user_id: int | None, body: dict, window_id: int | None = None
) -> MaintenanceWindow:
    metrics_service.parse_expression(body["expression"])
    _check_ids(session, AlertConfig, org_id, body["config_ids"], "config_ids")
    spec = _window_spec(body)
    if window_id is None:
        window = MaintenanceWindow(org_id=org_id, created_by_id=user_id)
        session.add(window)
    else:
        window = get_window(session=session, org_id=org_id, window_id=window_id)
    window.name = body["name"]
    window.expression = body["expression"]
    window.config_ids = body["config_ids"]
    for key in ("start", "end", "rrule", "cron", "dtstart", "duration_s", "timezone"):
        setattr(window, key, getattr(spec, key))
    session.flush()
    return window


def get_window(*, session: Session, org_id: int, window_id: int) -> MaintenanceWindow:
    return get_owned(session, MaintenanceWindow, org_id, window_id, "Maintenance window")


def window_read(window: MaintenanceWindow, now: float | None = None) -> dict:
    now = clock.now().timestamp() if now is None else now
    spec = notify.window_spec(window)
    active = schedule.active_at(spec, now)
    return {
        **{
            c: getattr(window, c)
            for c in (
                "id",
                "name",
                "expression",
                "config_ids",
                "start",
                "end",
                "rrule",
                "cron",
                "dtstart",
                "duration_s",
                "timezone",
                "created_at",
            )
        },
        "active": active is not None,
        "active_until": active[1] if active else None,
        "next": [list(o) for o in schedule.next_occurrences(spec, now, 5)],
    }


# ------------------------------------------------------------------------- feedback


def give_feedback(*, session: Session, org_id: int, user_id: int | None, body: dict) -> Feedback:
    """Record feedback; *not interesting* teaches each metric involved that deviations
    like this one are benign, *good catch* that they matter (see
    :mod:`augury.engines.detect.feedback`). A person's new answer on the same alert or
    anomaly replaces their previous one."""
    if body.get("trigger_id") is not None:
        trigger = get_trigger(session=session, org_id=org_id, trigger_id=body["trigger_id"])
        anomaly_ids = [
            a
            for a in session.scalars(
                select(AlertTriggerMetric.anomaly_id).where(
                    AlertTriggerMetric.trigger_id == trigger.id
                )
            )
            if a is not None
        ]
        anomalies = (
            list(session.scalars(select(MetricAnomaly).where(MetricAnomaly.id.in_(anomaly_ids))))
            if anomaly_ids
            else []
        )
        group_id = anomalies[0].group_id if anomalies else None
        peak = trigger.peak_score
        metric_ids = list(
            session.scalars(
                select(AlertTriggerMetric.metric_id).where(
                    AlertTriggerMetric.trigger_id == trigger.id
                )
            )
        )
    else:
        group = get_owned(session, AnomalyGroup, org_id, body["anomaly_id"], "Anomaly")
        anomalies = list(
            session.scalars(select(MetricAnomaly).where(MetricAnomaly.group_id == group.id))
        )
        group_id, peak = group.id, group.peak_score
        metric_ids = sorted({a.metric_id for a in anomalies})
    same = select(Feedback.id).where(Feedback.org_id == org_id, Feedback.user_id == user_id)
    if body.get("trigger_id") is not None:
        same = same.where(Feedback.trigger_id == body["trigger_id"])
    else:
        same = same.where(Feedback.anomaly_group_id == group_id, Feedback.trigger_id.is_(None))
    for previous in list(session.scalars(same)):  # one answer per person: the newest
        delete_feedback(session=session, org_id=org_id, feedback_id=previous)
    row = Feedback(
        org_id=org_id,
        type=body["type"],
        comment=body["comment"],
        anomaly_group_id=group_id,
        trigger_id=body.get("trigger_id"),
        user_id=user_id,
        origin=body["origin"],
        metric_ids=metric_ids,
        peak_score=peak,
    )
    session.add(row)
    for anomaly in anomalies:
        _learn(session, org_id, anomaly, body["type"])
    session.flush()
    return row


def _learn(session: Session, org_id: int, anomaly: MetricAnomaly, kind: str) -> None:
    profile_row = session.get(FeedbackProfile, anomaly.metric_id)
    if profile_row is None:
        profile_row = FeedbackProfile(org_id=org_id, metric_id=anomaly.metric_id, profile={})
        session.add(profile_row)
    profile = feedback_engine.from_json(profile_row.profile or {})
    profile = feedback_engine.add_feedback(profile, evaluate.deviation(anomaly), kind)
    profile_row.profile = feedback_engine.to_json(profile)
    profile_row.updated_at = clock.now()


def list_feedback(
    *,
    session: Session,
    org_id: int,
    page: PageParams,
    start: float | None = None,
    end: float | None = None,
    type: str | None = None,
    anomaly_id: int | None = None,
    trigger_id: int | None = None,
) -> tuple[list[Feedback], int]:
    stmt = select(Feedback).where(Feedback.org_id == org_id)
    if start is not None:
        stmt = stmt.where(Feedback.created_at >= datetime.fromtimestamp(start, UTC))
    if end is not None:
        stmt = stmt.where(Feedback.created_at < datetime.fromtimestamp(end, UTC))
    if type:
        stmt = stmt.where(Feedback.type == type)
    if anomaly_id is not None:
        stmt = stmt.where(Feedback.anomaly_group_id == anomaly_id, Feedback.trigger_id.is_(None))
    if trigger_id is not None:
        stmt = stmt.where(Feedback.trigger_id == trigger_id)
    return paginate(session, stmt.order_by(Feedback.id.desc()), page)


def delete_feedback(*, session: Session, org_id: int, feedback_id: int) -> None:
    """Withdraw feedback: the profiles of its metrics are rebuilt from what remains."""
    row = get_owned(session, Feedback, org_id, feedback_id, "Feedback")
    metric_ids = list(row.metric_ids or [])
    session.delete(row)
    session.flush()
    session.execute(delete(FeedbackProfile).where(FeedbackProfile.metric_id.in_(metric_ids)))
    remaining = session.scalars(
        select(Feedback).where(Feedback.org_id == org_id).order_by(Feedback.id)
    )
    for fb in remaining:
        if not set(fb.metric_ids or []) & set(metric_ids):
            continue
        q = select(MetricAnomaly).where(MetricAnomaly.metric_id.in_(metric_ids))
        if fb.trigger_id is not None:
            q = q.where(
                MetricAnomaly.id.in_(
                    select(AlertTriggerMetric.anomaly_id).where(
                        AlertTriggerMetric.trigger_id == fb.trigger_id
                    )
                )
            )
        elif fb.anomaly_group_id is not None:
            q = q.where(MetricAnomaly.group_id == fb.anomaly_group_id)
        else:
            continue
        for anomaly in session.scalars(q):
            _learn(session, org_id, anomaly, fb.type)
        session.flush()


def metric_profile(*, session: Session, org_id: int, metric_id: int) -> dict:
    metrics_service.get_or_raise(session=session, org_id=org_id, metric_id=metric_id)
    row = session.get(FeedbackProfile, metric_id)
    return row.profile if row is not None else {}
