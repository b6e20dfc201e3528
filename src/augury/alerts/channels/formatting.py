"""Formatting every channel shares: times, numbers, the headline, a metric's details,
the links and facts of an alert, and JSON bodies.

Rendering is pure (a notification in, text out) so every payload can be tested and
documented without a network.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from urllib.parse import urlsplit

from augury import __version__
from augury.alerts.notification import Notification, NotificationMetric

USER_AGENT = f"augury-alerts/{__version__}"
EVENT_LABELS = {"open": "Open", "update": "Update", "close": "Closed", "test": "Test"}
EVENT_EMOJI = {
    "open": ":rotating_light:",
    "update": ":warning:",
    "close": ":white_check_mark:",
    "test": ":test_tube:",
}
_SEVERITY_COLOURS = {
    "critical": "B00020",
    "high": "D13438",
    "medium": "F7630C",
    "low": "FFB900",
    "info": "0078D4",
}
_CLOSED_COLOUR = "2EB886"
_TEST_COLOUR = "6264A7"


def rfc3339(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def human_time(ts: float | None) -> str:
    if ts is None:
        return "–"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def number(value: float | None) -> str:
    """A number for people: thousands separated, a few significant decimals."""
    if value is None or not math.isfinite(value):
        return "–"
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def duration(seconds: float) -> str:
    total = int(round(seconds))
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m {secs}s" if secs else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def dims(values: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def headline(n: Notification) -> str:
    """``[HIGH] Open: <title>``: the mail subject and every chat message's first line."""
    title = " ".join(n.title.split())
    return f"[{n.severity.upper()}] {EVENT_LABELS.get(n.event, n.event)}: {title}"


def colour(n: Notification) -> str:
    if n.event == "test":
        return _TEST_COLOUR
    if n.event == "close" or n.status == "closed":
        return _CLOSED_COLOUR
    return _SEVERITY_COLOURS.get(n.severity, _SEVERITY_COLOURS["info"])


def metric_details(m: NotificationMetric) -> str:
    """``93.2 (expected 40.1, +132.4%), score 87, up``: why this metric alerted."""
    value, expected, delta = real(m.value), real(m.expected), real(m.delta)
    delta_pct, score = real(m.delta_pct), real(m.score)
    extra = []
    if expected is not None:
        extra.append(f"expected {number(expected)}")
    if delta_pct is not None:
        extra.append(f"{delta_pct:+.1f}%")
    elif delta is not None:
        extra.append(("+" if delta >= 0 else "-") + number(abs(delta)))
    text = number(value) if value is not None else "no value"
    if extra:
        text += f" ({', '.join(extra)})"
    if score is not None:
        text += f", score {number(score)}"
    if m.direction:
        text += f", {m.direction}"
    if m.state == "closed":
        text += ", closed"
    return text


def real(value: float | None) -> float | None:
    """The number, or ``None`` for NaN/inf, which mean "unknown" to a reader."""
    return value if value is not None and math.isfinite(value) else None


def safe_url(url: object) -> str:
    """The URL when it is http(s), else ``""``: never put ``javascript:`` in a link."""
    if not isinstance(url, str):
        return ""
    return url if urlsplit(url.strip()).scheme.lower() in ("http", "https") else ""


def links(n: Notification) -> list[tuple[str, str]]:
    """(text, url) of the alert's page and its actions (runbooks, dashboards)."""
    out = [("Open in augury", n.url)] if safe_url(n.url) else []
    for action in n.actions:
        url = safe_url(action.get("url"))
        if url:
            out.append((action.get("button") or action.get("name") or url, url))
    return out


def facts(n: Notification) -> list[tuple[str, str]]:
    """The trigger's facts for people (email, Teams), only the ones that are set."""
    out = [
        ("Severity", n.severity.upper()),
        ("Status", n.status),
        ("Type", n.type),
        ("Started", human_time(n.start)),
    ]
    if n.end is not None:
        out.append(("Ended", human_time(n.end)))
    out.append(("Duration", duration(n.duration_s)))
    if n.score is not None:
        out.append(("Score", number(n.score)))
    if n.direction:
        out.append(("Direction", n.direction))
    if n.group:
        out.append(("Group", dims(n.group)))
    out.append(("Timescale", n.timescale))
    if n.owner:
        out.append(("Owner", n.owner))
    if n.labels:
        out.append(("Labels", ", ".join(n.labels)))
    return out


def event_line(event: dict) -> str:
    title = str(event.get("title") or "event")
    where = ", ".join(str(event[k]) for k in ("category", "source") if event.get(k))
    start = event.get("start")
    when = f" at {human_time(start)}" if isinstance(start, int | float) else ""
    return f"{title}{f' ({where})' if where else ''}{when}"


def _finite(value: object) -> object:
    """The payload with NaN/inf replaced by ``null``, which strict JSON parsers require."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def json_bytes(payload: dict) -> bytes:
    text = json.dumps(_finite(payload), ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def json_headers() -> dict[str, str]:
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT}
