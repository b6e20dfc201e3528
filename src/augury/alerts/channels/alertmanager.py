"""The Alertmanager format of the webhook channel: Prometheus Alertmanager's webhook body
(version 4), so receivers written for Alertmanager take augury's alerts unchanged."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

from augury.alerts.channels import formatting as fmt
from augury.alerts.notification import Notification, NotificationMetric

_ALERTMANAGER_ZERO_TIME = "0001-01-01T00:00:00Z"
"""Go's zero ``time.Time``: what Alertmanager sends as ``endsAt`` while an alert fires."""


def alertmanager_payload(n: Notification, *, receiver: str) -> dict:
    """Prometheus Alertmanager's webhook body (version 4), one alert per metric.

    Receivers written for Alertmanager (incident tools, chat bridges) then take augury's
    alerts unchanged. Label and annotation values are strings, as in Alertmanager.
    """
    alerts = [_alertmanager_alert(n, m) for m in n.metrics] or [_alertmanager_alert(n, None)]
    firing = any(alert["status"] == "firing" for alert in alerts)
    return {
        "version": "4",
        "groupKey": n.group_key,
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": receiver,
        "groupLabels": _alertmanager_group_labels(n),
        "commonLabels": _common_items([a["labels"] for a in alerts]),
        "commonAnnotations": _common_items([a["annotations"] for a in alerts]),
        "externalURL": _origin(n.url),
        "alerts": alerts,
    }


def _alertmanager_alert(n: Notification, m: NotificationMetric | None) -> dict:
    """One alert; ``m`` is ``None`` for a notification without metrics (a test)."""
    resolved = n.event == "close" or n.status == "closed" or (m is not None and m.state == "closed")
    start = m.start if m is not None else n.start
    end = (m.end if m is not None else (n.end or n.updated)) if resolved else None
    return {
        "status": "resolved" if resolved else "firing",
        "labels": _alertmanager_labels(n, m),
        "annotations": _alertmanager_annotations(n, m),
        "startsAt": fmt.rfc3339(start),
        "endsAt": fmt.rfc3339(end) if end is not None else _ALERTMANAGER_ZERO_TIME,
        "generatorURL": (m.url if m is not None and m.url else n.url),
        "fingerprint": _fingerprint(n, m),
    }


def _alertmanager_labels(n: Notification, m: NotificationMetric | None) -> dict[str, str]:
    """alertname, severity and what first; the metric's dimensions never override them."""
    labels = {"alertname": n.title, "severity": n.severity}
    if m is not None:
        labels["what"] = m.what
    for key, value in (m.dimensions if m is not None else n.group).items():
        name = _label_name(key)
        if name not in labels and str(value) != "":
            labels[name] = str(value)
    return labels


def _alertmanager_annotations(n: Notification, m: NotificationMetric | None) -> dict[str, str]:
    summary = f"{n.title}: {m.name} {fmt.metric_details(m)}" if m is not None else n.title
    values: dict[str, object] = {
        "summary": summary,
        "description": n.description,
        "score": fmt.real(m.score if m is not None and m.score is not None else n.score),
        "value": fmt.real(m.value) if m is not None else None,
        "expected": fmt.real(m.expected) if m is not None else None,
        "delta_pct": fmt.real(m.delta_pct) if m is not None else None,
        "direction": (m.direction if m is not None else None) or n.direction,
        "metric": m.name if m is not None else None,
        "alert_url": n.url,
        "trigger_id": n.trigger_id,
    }
    return {k: str(v) for k, v in values.items() if v is not None and v != ""}


def _alertmanager_group_labels(n: Notification) -> dict[str, str]:
    labels = {"alertname": n.title}
    for key, value in n.group.items():
        labels.setdefault(_label_name(key), str(value))
    return labels


def _label_name(key: str) -> str:
    """A Prometheus label name (``[a-zA-Z_][a-zA-Z0-9_]*``) for a dimension key."""
    name = re.sub(r"[^a-zA-Z0-9_]", "_", str(key))
    return name if name and not name[0].isdigit() else f"_{name}"


def _common_items(dicts: list[dict[str, str]]) -> dict[str, str]:
    first, rest = dicts[0], dicts[1:]
    return {k: v for k, v in first.items() if all(d.get(k) == v for d in rest)}


def _fingerprint(n: Notification, m: NotificationMetric | None) -> str:
    """16 hex characters, the same for a metric in every message of an alert config."""
    identity = m.name if m is not None else n.group_key
    return hashlib.sha256(f"{n.config_id}\0{identity}".encode()).hexdigest()[:16]


def _origin(url: str) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
