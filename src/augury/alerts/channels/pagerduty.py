"""The PagerDuty channel: Events API v2, one dedup key per alert, so the open, update
and close messages of an alert are one incident."""

from __future__ import annotations

import hashlib

from augury.alerts.channels import formatting as fmt
from augury.alerts.channels.base import HttpRequest, cut, require_url
from augury.alerts.channels.http import HttpChannel
from augury.alerts.notification import Notification

PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
_PAGERDUTY_SEVERITY = {
    "critical": "critical",
    "high": "error",
    "medium": "warning",
    "low": "info",
    "info": "info",
}


class PagerDuty(HttpChannel):
    type = "pagerduty"
    keys: tuple[str, ...] = ("routing_key", "url")

    def validate(self, config: dict) -> dict:
        return _validate_pagerduty(config)

    def render(self, config: dict, n: Notification, delivery_id: str, now: int) -> HttpRequest:
        return _render_pagerduty(config, n, delivery_id, now)


CHANNEL = PagerDuty()


def _validate_pagerduty(c: dict) -> dict:
    key = c.get("routing_key")
    if not isinstance(key, str) or not key.strip():
        raise ValueError("pagerduty routing_key is required (the integration key of a service)")
    if any(ch.isspace() for ch in key.strip()):
        raise ValueError("pagerduty routing_key must not contain spaces")
    return {"routing_key": key.strip(), "url": require_url(c.get("url") or PAGERDUTY_URL)}


def _render_pagerduty(config: dict, n: Notification, delivery_id: str, now: int) -> HttpRequest:
    """Events API v2: trigger on open/update/test, resolve on close, one dedup key."""
    url = config.get("url") or PAGERDUTY_URL
    return HttpRequest(
        url=url, headers=fmt.json_headers(), body=fmt.json_bytes(_pagerduty_event(config, n))
    )


def _pagerduty_event(config: dict, n: Notification) -> dict:
    event = {
        "routing_key": config["routing_key"],
        "event_action": "resolve" if n.event == "close" else "trigger",
        "dedup_key": _dedup_key(n.group_key),
    }
    if n.event == "close":
        return event
    event["payload"] = _pagerduty_payload(n)
    links = [{"href": url, "text": text} for text, url in fmt.links(n)]
    if links:
        event["links"] = links
    event["client"] = "augury"
    if fmt.safe_url(n.url):
        event["client_url"] = n.url
    return event


def _pagerduty_payload(n: Notification) -> dict:
    payload = {
        "summary": cut(fmt.headline(n) + _pagerduty_summary_tail(n), 1024),
        "source": "augury",
        "severity": _PAGERDUTY_SEVERITY.get(n.severity, "info"),
        "timestamp": fmt.rfc3339(n.updated),
        "class": n.type,
        "custom_details": _pagerduty_details(n),
    }
    if n.metrics:
        payload["component"] = n.metrics[0].what
    if n.group:
        payload["group"] = fmt.dims(n.group)
    return payload


def _pagerduty_summary_tail(n: Notification) -> str:
    if len(n.metrics) == 1:
        m = n.metrics[0]
        return f" ({m.name}: {fmt.metric_details(m)})"
    return f" ({len(n.metrics)} metrics)" if n.metrics else ""


def _pagerduty_details(n: Notification) -> dict:
    return {
        "description": n.description,
        "score": n.score,
        "direction": n.direction,
        "timescale": n.timescale,
        "owner": n.owner,
        "labels": list(n.labels),
        "group": dict(n.group),
        "trigger_id": n.trigger_id,
        "url": n.url,
        "metrics": [
            {
                "name": m.name,
                "value": m.value,
                "expected": m.expected,
                "delta_pct": m.delta_pct,
                "score": m.score,
                "state": m.state,
                "url": m.url,
            }
            for m in n.metrics
        ],
    }


def _dedup_key(group_key: str) -> str:
    """PagerDuty takes at most 255 characters; a longer key is hashed, still stable."""
    if len(group_key) <= 255:
        return group_key
    return "augury-" + hashlib.sha256(group_key.encode()).hexdigest()
