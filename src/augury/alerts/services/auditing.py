"""What the audit log keeps of alerting configuration: the fields compared before and
after a change, and channels' secrets masked.

Every service that changes a configuration records it here, with the principal who
acted, in the same transaction as the change.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from augury.accounts.principal import Principal
from augury.alerts.models import AlertAction, AlertConfig, Channel, MaintenanceWindow, RoutingTable
from augury.anomalies.models import TIMESCALES
from augury.audit import service as audit

CONFIG_FIELDS = (
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


WINDOW_FIELDS = (
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
"""Channel settings shown in the audit log as they are; any other is a secret."""
HIDDEN = "…"


def config_snapshot(config: AlertConfig) -> dict:
    """What the audit log compares before and after a change of a configuration."""
    out = audit.snapshot(config, CONFIG_FIELDS)
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
    return audit.snapshot(window, WINDOW_FIELDS)


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
        masked: dict[str, object] = {}
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
