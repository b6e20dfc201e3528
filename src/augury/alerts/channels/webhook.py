"""The webhook channel: augury's own JSON body (or Alertmanager's), signed.

Every delivery carries ``X-Augury-Signature`` (see :mod:`.signing`); a webhook configured
without a secret gets a random one, so every webhook delivery is signed. Users may add
headers (``Authorization``), except those augury sets itself.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict

from augury.alerts.channels import formatting as fmt
from augury.alerts.channels.alertmanager import alertmanager_payload
from augury.alerts.channels.base import HttpRequest, require_url
from augury.alerts.channels.http import HttpChannel
from augury.alerts.channels.signing import SIGNATURE_HEADER, signature_header
from augury.alerts.notification import Notification, NotificationMetric

WEBHOOK_FORMATS = ("augury", "alertmanager")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_RESERVED_HEADERS = {"content-type", "content-length", "host", "transfer-encoding", "connection"}


class Webhook(HttpChannel):
    type = "webhook"
    keys: tuple[str, ...] = ("url", "secret", "format", "headers")

    def validate(self, config: dict) -> dict:
        return _validate_webhook(config)

    def render(self, config: dict, n: Notification, delivery_id: str, now: int) -> HttpRequest:
        return _render_webhook(config, n, delivery_id, now)


CHANNEL = Webhook()


def _validate_webhook(c: dict) -> dict:
    secret = c.get("secret")
    if secret is None or secret == "":
        secret = secrets.token_urlsafe(32)
    elif not isinstance(secret, str):
        raise ValueError("webhook secret must be a string")
    kind = c.get("format") or "augury"
    if kind not in WEBHOOK_FORMATS:
        raise ValueError(f"unknown webhook format {kind!r}; expected 'augury' or 'alertmanager'")
    return {
        "url": require_url(c.get("url")),
        "secret": secret,
        "format": kind,
        "headers": _check_headers(c.get("headers")),
    }


def _check_headers(value: object) -> dict[str, str]:
    """Extra webhook headers; augury's own (signature, content type) cannot be overridden."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("webhook headers must be an object of name: value")
    out: dict[str, str] = {}
    for name, header_value in value.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise ValueError(f"invalid header name {name!r}")
        lower = name.lower()
        if lower in _RESERVED_HEADERS or lower.startswith("x-augury-"):
            raise ValueError(f"header {name!r} is set by augury and cannot be overridden")
        if not isinstance(header_value, str) or any(ch in header_value for ch in "\r\n\0"):
            raise ValueError(f"header {name!r} must be a single-line string")
        out[name] = header_value
    return out


def _render_webhook(config: dict, n: Notification, delivery_id: str, now: int) -> HttpRequest:
    if config.get("format", "augury") == "alertmanager":
        payload = alertmanager_payload(n, receiver=config.get("_name") or "augury")
    else:
        payload = _augury_payload(n, delivery_id=delivery_id, now=now)
    return render_json(config, payload, n.event, delivery_id, now)


def render_json(config: dict, body: dict, event: str, delivery_id: str, now: int) -> HttpRequest:
    """The POST of a ready JSON body (another domain's event, such as a batch of text
    review items) to a webhook channel: signed and headed as alert deliveries are."""
    raw = fmt.json_bytes(body)
    headers = fmt.json_headers()
    for name, value in _custom_headers(config.get("headers") or {}).items():
        headers = {k: v for k, v in headers.items() if k.lower() != name.lower()}
        headers[name] = value
    headers.update(
        {
            "X-Augury-Event": event,
            "X-Augury-Delivery": delivery_id,
            SIGNATURE_HEADER: signature_header(config["secret"], now, raw),
        }
    )
    return HttpRequest(url=config["url"], headers=headers, body=raw)


def _custom_headers(extra: dict[str, str]) -> dict[str, str]:
    """User headers minus augury's own, should a stored config predate the validation."""
    return {
        name: value
        for name, value in extra.items()
        if name.lower() not in _RESERVED_HEADERS and not name.lower().startswith("x-augury-")
    }


def _augury_payload(n: Notification, *, delivery_id: str, now: int) -> dict:
    """augury's own webhook body, version ``"1"``: every fact of the notification.

    Times are given twice, as epoch seconds (``start``) and RFC 3339 UTC (``start_time``),
    so receivers in any language can use whichever is easier.
    """
    sent_at = n.sent_at or float(now)
    return {
        "version": "1",
        "event": n.event,
        "delivery_id": delivery_id,
        "group_key": n.group_key,
        "trigger": _trigger_dict(n),
        "metrics": [_metric_dict(m) for m in n.metrics],
        "actions": [dict(a) for a in n.actions],
        "events": [_user_event_dict(e) for e in n.events],
        "organization": n.organization,
        "sent_at": sent_at,
        "sent_at_time": fmt.rfc3339(sent_at),
    }


def _trigger_dict(n: Notification) -> dict:
    return {
        "id": n.trigger_id,
        "url": n.url,
        "config_id": n.config_id,
        "title": n.title,
        "description": n.description,
        "severity": n.severity,
        "type": n.type,
        "status": n.status,
        "start": n.start,
        "start_time": fmt.rfc3339(n.start),
        "updated": n.updated,
        "updated_time": fmt.rfc3339(n.updated),
        "end": n.end,
        "end_time": fmt.rfc3339(n.end),
        "duration_s": n.duration_s,
        "timescale": n.timescale,
        "owner": n.owner,
        "labels": list(n.labels),
        "group": dict(n.group),
        "score": n.score,
        "direction": n.direction,
    }


def _metric_dict(m: NotificationMetric) -> dict:
    data = asdict(m)
    out = {k: data[k] for k in ("id", "name", "what", "dimensions", "state", "start")}
    out["start_time"] = fmt.rfc3339(m.start)
    out["end"] = m.end
    out["end_time"] = fmt.rfc3339(m.end)
    out.update({k: data[k] for k in data if k not in out})
    return out


def _user_event_dict(event: dict) -> dict:
    out = dict(event)
    for key in ("start", "end"):
        if key in event:
            value = event[key]
            out[f"{key}_time"] = fmt.rfc3339(value) if isinstance(value, int | float) else None
    return out
