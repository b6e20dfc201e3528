"""Alert channels: render a :class:`Notification` for each channel type, and send it.

Rendering is pure (a notification in, an HTTP request or a mail out) so every payload can
be tested and documented without a network. :func:`send` is the one place that talks to
the outside; it never raises, and it sorts failures into *retryable* (the receiver may
accept the same message later: timeouts, 429, 5xx, SMTP 4xx) and *permanent* (retrying
cannot help: 4xx, SMTP 5xx, a bad address), which the dispatcher uses to schedule the next
attempt or give up.

Channels reach public addresses only: a URL whose host is, or resolves to, a loopback,
private, link-local, multicast or otherwise non-public address is refused when the
channel is configured (address literals in any spelling, ``localhost``) and again when
sending, after DNS, connecting to the very address that was checked (so a name cannot
resolve to a public address for the check and a private one for the connection).
Redirects are not followed. Operators allow on-premise receivers with
``AUGURY_ALERTS__ALLOWED_PRIVATE_NETWORKS``. A refused or unreachable destination is
reported as one generic failure, so the channel test cannot map what is reachable.

Webhook receivers authenticate a delivery with the ``X-Augury-Signature`` header,
``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>``; :func:`verify_signature` is
the reference implementation of the check.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import html
import ipaddress
import json
import logging
import math
import re
import secrets
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from urllib.parse import parse_qsl, urlsplit

import httpx
from email_validator import EmailNotValidError, validate_email

from augury import __version__, clock
from augury.alerts.notification import Notification, NotificationMetric
from augury.config import Settings, SmtpSettings
from augury.runtime.mail import build_message, write_outbox

log = logging.getLogger("augury.alerts")

CHANNEL_TYPES = ("webhook", "slack", "email", "pagerduty", "teams")
WEBHOOK_FORMATS = ("augury", "alertmanager")
PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
USER_AGENT = f"augury-alerts/{__version__}"
SIGNATURE_HEADER = "X-Augury-Signature"
MAX_EMAIL_RECIPIENTS = 50

_EVENT_LABELS = {"open": "Open", "update": "Update", "close": "Closed", "test": "Test"}
_EVENT_EMOJI = {
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
_PAGERDUTY_SEVERITY = {
    "critical": "critical",
    "high": "error",
    "medium": "warning",
    "low": "info",
    "info": "info",
}
_ALERTMANAGER_ZERO_TIME = "0001-01-01T00:00:00Z"
"""Go's zero ``time.Time``: what Alertmanager sends as ``endsAt`` while an alert fires."""

_ALLOWED_KEYS = {
    "webhook": ("url", "secret", "format", "headers"),
    "slack": ("url", "channel", "username"),
    "email": ("to",),
    "pagerduty": ("routing_key", "url"),
    "teams": ("url",),
}
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_RESERVED_HEADERS = {"content-type", "content-length", "host", "transfer-encoding", "connection"}
_CONTENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(@[A-Za-z0-9.-]+)?$")
_RETRYABLE_STATUS = {408, 425, 429}
_ERROR_CHARS = 300
REFUSED_OR_UNREACHABLE = "destination refused or unreachable"
"""The one answer for a destination refused by policy, unknown to DNS or not answering."""
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_LOCAL_ADDRESSES = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SECRET_URL_TYPES = {"slack", "teams"}
"""Channel types whose URL is itself the credential (an incoming-webhook URL)."""
_SECRET_PARAM = re.compile(
    r"(token|secret|key|sig|signature|password|passwd|pwd|auth|code|credential)", re.I
)


# --- results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpRequest:
    """One rendered HTTP POST: what :func:`send` puts on the wire, and what tests inspect."""

    url: str
    headers: dict[str, str]
    body: bytes


@dataclass
class SendResult:
    """The outcome of one delivery attempt, as the dispatcher records it."""

    ok: bool
    retryable: bool
    """Whether the same message may succeed later (meaningless when ``ok``)."""
    status_code: int | None
    """HTTP status, or the SMTP reply code of a refused mail; ``None`` when there was none."""
    error: str | None
    """Short and human-readable; at most the first 300 characters of a response body, or
    :data:`REFUSED_OR_UNREACHABLE` when no receiver answered (or none may be asked)."""
    duration_ms: float = 0.0


# --- configuration ----------------------------------------------------------------------


def validate_config(type: str, config: dict, *, allowed: Sequence[str] = ()) -> dict:
    """Check a channel's settings and return them normalised, ready to store.

    Raises :class:`ValueError` with a message meant for the user who typed the settings.
    Keys starting with ``_`` (``_name``) are hints the dispatcher adds at send time; they
    are dropped here rather than stored. A webhook without a secret gets a random one, so
    every webhook delivery is signed. A URL whose host is a non-public address is refused
    unless ``allowed`` (the operator's ``allowed_private_networks``) admits it; host names
    are not looked up here but when sending (see :func:`check_destination`).
    """
    if type not in CHANNEL_TYPES:
        raise ValueError(
            f"unknown channel type {type!r}; expected one of {', '.join(CHANNEL_TYPES)}"
        )
    if not isinstance(config, dict):
        raise ValueError("channel config must be an object")
    given = {k: v for k, v in config.items() if not str(k).startswith("_")}
    unknown = sorted(set(given) - set(_ALLOWED_KEYS[type]))
    if unknown:
        raise ValueError(f"unknown {type} setting(s): {', '.join(map(str, unknown))}")
    out = _VALIDATORS[type](given)
    if "url" in out:
        check_destination(out["url"], allowed)
    return out


def public_config(type: str, config: dict) -> dict:
    """The settings safe to show in the API: secrets reduced to their first 4 characters.

    Extra webhook header values are masked too, as they usually carry credentials
    (``Authorization``). A URL that is a credential (Slack's and Teams' incoming-webhook
    URLs, any URL with a user name or password, or a query parameter named like a token,
    key, signature or password) is cut to ``scheme://host/…``; other URLs are kept whole
    so users can tell their channels apart. Like every masked value it ends with ``…``,
    which an update sending it back reads as "keep the stored value".
    """
    out = {k: v for k, v in config.items() if not str(k).startswith("_")}
    for key in ("secret", "routing_key"):
        if key in out:
            out[key] = _mask(out[key])
    if isinstance(out.get("headers"), dict):
        out["headers"] = {name: _mask(value) for name, value in out["headers"].items()}
    if isinstance(out.get("url"), str) and _url_is_secret(type, out["url"]):
        out["url"] = _mask_url(out["url"])
    return out


def _url_is_secret(type: str, url: str) -> bool:
    if type in _SECRET_URL_TYPES:
        return True
    try:
        parts = urlsplit(url)
    except ValueError:
        return True
    if "@" in parts.netloc:
        return True
    return any(_SECRET_PARAM.search(name) for name, _ in parse_qsl(parts.query, True))


def _mask_url(url: str) -> str:
    """``https://hooks.slack.com/…``: where it goes, without the credential."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "…"
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}/…" if parts.scheme and host else "…"


def _mask(value: object) -> str:
    text = str(value or "")
    return f"{text[:4]}…" if text else ""


def _validate_webhook(c: dict) -> dict:
    secret = c.get("secret")
    if secret is None or secret == "":
        secret = secrets.token_urlsafe(32)
    elif not isinstance(secret, str):
        raise ValueError("webhook secret must be a string")
    fmt = c.get("format") or "augury"
    if fmt not in WEBHOOK_FORMATS:
        raise ValueError(f"unknown webhook format {fmt!r}; expected 'augury' or 'alertmanager'")
    return {
        "url": _require_url(c.get("url")),
        "secret": secret,
        "format": fmt,
        "headers": _check_headers(c.get("headers")),
    }


def _validate_slack(c: dict) -> dict:
    channel = _optional_str(c.get("channel"), "slack channel")
    if channel and any(ch.isspace() for ch in channel):
        raise ValueError("slack channel must not contain spaces")
    if channel and channel[0] not in "#@":
        channel = f"#{channel}"
    username = _optional_str(c.get("username"), "slack username")
    if username and len(username) > 80:
        raise ValueError("slack username must be at most 80 characters")
    return {"url": _require_url(c.get("url")), "channel": channel, "username": username}


def _validate_email(c: dict) -> dict:
    raw = c.get("to")
    if isinstance(raw, str):
        raw = [part for part in re.split(r"[,;\s]+", raw) if part]
    if not isinstance(raw, list) or not raw:
        raise ValueError("email channel needs at least one address in 'to'")
    addresses: list[str] = []
    for item in raw:
        address = _normalise_address(item)
        if address.lower() not in (a.lower() for a in addresses):
            addresses.append(address)
    if len(addresses) > MAX_EMAIL_RECIPIENTS:
        raise ValueError(f"email channel takes at most {MAX_EMAIL_RECIPIENTS} addresses")
    return {"to": addresses}


def _normalise_address(item: object) -> str:
    if not isinstance(item, str) or not item.strip():
        raise ValueError(f"invalid email address {item!r}")
    try:
        return validate_email(item.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"invalid email address {item!r}: {exc}") from None


def _validate_pagerduty(c: dict) -> dict:
    key = c.get("routing_key")
    if not isinstance(key, str) or not key.strip():
        raise ValueError("pagerduty routing_key is required (the integration key of a service)")
    if any(ch.isspace() for ch in key.strip()):
        raise ValueError("pagerduty routing_key must not contain spaces")
    return {"routing_key": key.strip(), "url": _require_url(c.get("url") or PAGERDUTY_URL)}


def _validate_teams(c: dict) -> dict:
    return {"url": _require_url(c.get("url"))}


_VALIDATORS: dict[str, Callable[[dict], dict]] = {
    "webhook": _validate_webhook,
    "slack": _validate_slack,
    "email": _validate_email,
    "pagerduty": _validate_pagerduty,
    "teams": _validate_teams,
}


def _require_url(value: object) -> str:
    """An absolute http(s) URL; the value is not echoed, as Slack/Teams URLs are secrets."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("url is required")
    url = value.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises on a non-numeric port
    except ValueError:
        raise ValueError("url is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ValueError("url must be an http:// or https:// URL with a host")
    if any(ch.isspace() for ch in url):
        raise ValueError("url must not contain spaces")
    return url


def _optional_str(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string")
    return value.strip() or None


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


# --- destinations -----------------------------------------------------------------------


class DestinationRefused(ValueError):
    """The host is, or resolves to, an address alert channels may not reach."""


@dataclass(frozen=True)
class _AllowList:
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    hosts: frozenset[str]


@functools.lru_cache(maxsize=64)
def _allow_list(entries: tuple[str, ...]) -> _AllowList:
    networks, hosts = [], set()
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip().strip("[]"), strict=False))
        except ValueError:
            hosts.add(_host_key(entry))
    return _AllowList(tuple(networks), frozenset(hosts))


def _host_key(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) stands for."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_public(ip: IPAddress) -> bool:
    """Whether an address is a globally routed unicast one (not loopback, private,
    link-local, multicast, reserved, unspecified, shared; also not one of those
    embedded in an IPv6 address: IPv4-mapped, 6to4, Teredo, NAT64)."""
    ip = _unwrap(ip)
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not is_public(embedded):
            return False
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


def _vet(host: str, addresses: Sequence[IPAddress], allowed: Sequence[str]) -> None:
    """Raise :class:`DestinationRefused` unless every address is public or allowed."""
    allow = _allow_list(tuple(allowed))
    if _host_key(host) in allow.hosts:
        return
    for ip in addresses:
        if is_public(ip):
            continue
        forms = {ip, _unwrap(ip)}
        if any(form in net for form in forms for net in allow.networks):
            continue
        raise DestinationRefused(
            "url points to a private, loopback, link-local or multicast address, which "
            "alert channels may not reach (an operator can allow on-premise receivers in "
            "AUGURY_ALERTS__ALLOWED_PRIVATE_NETWORKS)"
        )


def _numeric_address(host: str) -> IPAddress | None:
    """The address a host written as one stands for (``2130706433``, ``0x7f.1``,
    ``[::1]``), as the resolver reads it; ``None`` for a name."""
    try:
        infos = socket.getaddrinfo(
            host.strip("[]"), None, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
        )
    except (OSError, UnicodeError):
        return None
    return ipaddress.ip_address(str(infos[0][4][0]).split("%")[0]) if infos else None


def check_destination(url: str, allowed: Sequence[str] = ()) -> None:
    """Refuse, when a channel is configured, a URL whose host is a non-public address
    (in any spelling) or a name for this machine (``localhost``).

    Other names are not looked up here: what they resolve to may change, so the check
    that counts is the one :func:`send` makes after resolving, every time.
    """
    host = urlsplit(url).hostname or ""
    address = _numeric_address(host)
    if address is not None:
        _vet(host, [address], allowed)
    elif _host_key(host) in _LOCAL_NAMES or _host_key(host).endswith(".localhost"):
        _vet(host, _LOCAL_ADDRESSES, allowed)


def resolve_destination(host: str, port: int, allowed: Sequence[str] = ()) -> list[str]:
    """The addresses to connect to for ``host``, after checking every one of them.

    Raises :class:`DestinationRefused` when any resolved address is non-public and not
    allowed (a name with one private address among public ones is refused: which one a
    client picks is not ours to choose), ``OSError`` when the name does not resolve.
    """
    infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise OSError(f"{host} has no address")
    _vet(host, addresses, allowed)
    return [str(ip) for ip in addresses]


# --- signatures -------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>." + body``.

    Signing the timestamp with the body lets a receiver refuse replays of an old delivery
    without keeping state: it checks that ``t`` is recent, and the MAC proves ``t`` is ours.
    """
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The value of ``X-Augury-Signature``: ``t=<timestamp>,v1=<hex>``."""
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify_signature(
    secret: str,
    header_value: str,
    body: bytes,
    tolerance_s: float = 300,
    now: float | None = None,
) -> bool:
    """Whether ``header_value`` signs ``body`` with ``secret`` at a time close to ``now``.

    The reference check for webhook receivers: parse ``t`` and every ``v1`` (several may
    appear while a secret is rotated), refuse a timestamp more than ``tolerance_s`` away
    from now, and compare MACs in constant time. ``body`` must be the raw bytes received,
    before any JSON parsing.
    """
    parsed = _parse_signature(header_value)
    if parsed is None:
        return False
    timestamp, candidates = parsed
    current = clock.now().timestamp() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body).encode()
    return any(hmac.compare_digest(expected, c.encode()) for c in candidates)


def _parse_signature(header_value: str) -> tuple[int, list[str]] | None:
    timestamp: int | None = None
    candidates: list[str] = []
    for item in (header_value or "").split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        return None
    return timestamp, candidates


# --- shared formatting ------------------------------------------------------------------


def _rfc3339(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _human_time(ts: float | None) -> str:
    if ts is None:
        return "–"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _fmt_num(value: float | None) -> str:
    """A number for people: thousands separated, a few significant decimals."""
    if value is None or not math.isfinite(value):
        return "–"
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def _fmt_duration(seconds: float) -> str:
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


def _fmt_dims(dims: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in dims.items())


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _headline(n: Notification) -> str:
    """``[HIGH] Open: <title>``: the mail subject and every chat message's first line."""
    title = " ".join(n.title.split())
    return f"[{n.severity.upper()}] {_EVENT_LABELS.get(n.event, n.event)}: {title}"


def _colour(n: Notification) -> str:
    if n.event == "test":
        return _TEST_COLOUR
    if n.event == "close" or n.status == "closed":
        return _CLOSED_COLOUR
    return _SEVERITY_COLOURS.get(n.severity, _SEVERITY_COLOURS["info"])


def _metric_details(m: NotificationMetric) -> str:
    """``93.2 (expected 40.1, +132.4%), score 87, up``: why this metric alerted."""
    value, expected, delta = _real(m.value), _real(m.expected), _real(m.delta)
    delta_pct, score = _real(m.delta_pct), _real(m.score)
    extra = []
    if expected is not None:
        extra.append(f"expected {_fmt_num(expected)}")
    if delta_pct is not None:
        extra.append(f"{delta_pct:+.1f}%")
    elif delta is not None:
        extra.append(("+" if delta >= 0 else "-") + _fmt_num(abs(delta)))
    text = _fmt_num(value) if value is not None else "no value"
    if extra:
        text += f" ({', '.join(extra)})"
    if score is not None:
        text += f", score {_fmt_num(score)}"
    if m.direction:
        text += f", {m.direction}"
    if m.state == "closed":
        text += ", closed"
    return text


def _real(value: float | None) -> float | None:
    """The number, or ``None`` for NaN/inf, which mean "unknown" to a reader."""
    return value if value is not None and math.isfinite(value) else None


def _safe_url(url: object) -> str:
    """The URL when it is http(s), else ``""``: never put ``javascript:`` in a link."""
    if not isinstance(url, str):
        return ""
    return url if urlsplit(url.strip()).scheme.lower() in ("http", "https") else ""


def _links(n: Notification) -> list[tuple[str, str]]:
    """(text, url) of the alert's page and its actions (runbooks, dashboards)."""
    links = [("Open in augury", n.url)] if _safe_url(n.url) else []
    for action in n.actions:
        url = _safe_url(action.get("url"))
        if url:
            links.append((action.get("button") or action.get("name") or url, url))
    return links


def _facts(n: Notification) -> list[tuple[str, str]]:
    """The trigger's facts for people (email, Teams), only the ones that are set."""
    facts = [
        ("Severity", n.severity.upper()),
        ("Status", n.status),
        ("Type", n.type),
        ("Started", _human_time(n.start)),
    ]
    if n.end is not None:
        facts.append(("Ended", _human_time(n.end)))
    facts.append(("Duration", _fmt_duration(n.duration_s)))
    if n.score is not None:
        facts.append(("Score", _fmt_num(n.score)))
    if n.direction:
        facts.append(("Direction", n.direction))
    if n.group:
        facts.append(("Group", _fmt_dims(n.group)))
    facts.append(("Timescale", n.timescale))
    if n.owner:
        facts.append(("Owner", n.owner))
    if n.labels:
        facts.append(("Labels", ", ".join(n.labels)))
    return facts


def _event_line(event: dict) -> str:
    title = str(event.get("title") or "event")
    where = ", ".join(str(event[k]) for k in ("category", "source") if event.get(k))
    start = event.get("start")
    when = f" at {_human_time(start)}" if isinstance(start, int | float) else ""
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


def _json_bytes(payload: dict) -> bytes:
    text = json.dumps(_finite(payload), ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def _json_headers() -> dict[str, str]:
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT}


# --- HTTP channels ----------------------------------------------------------------------


def render_http(
    type: str, config: dict, n: Notification, *, delivery_id: str, now: int
) -> HttpRequest:
    """The POST for an HTTP channel (webhook, slack, pagerduty, teams).

    ``now`` (epoch seconds) stamps the webhook signature and, when the notification has
    none, ``sent_at``; passing it in keeps rendering pure and repeatable in tests.
    """
    renderer = _HTTP_RENDERERS.get(type)
    if renderer is None:
        raise ValueError(f"{type!r} is not an HTTP channel type")
    return renderer(config, n, delivery_id, now)


def _render_webhook(config: dict, n: Notification, delivery_id: str, now: int) -> HttpRequest:
    if config.get("format", "augury") == "alertmanager":
        payload = _alertmanager_payload(n, receiver=config.get("_name") or "augury")
    else:
        payload = _augury_payload(n, delivery_id=delivery_id, now=now)
    body = _json_bytes(payload)
    headers = _json_headers()
    for name, value in _custom_headers(config.get("headers") or {}).items():
        headers = {k: v for k, v in headers.items() if k.lower() != name.lower()}
        headers[name] = value
    headers.update(
        {
            "X-Augury-Event": n.event,
            "X-Augury-Delivery": delivery_id,
            SIGNATURE_HEADER: signature_header(config["secret"], now, body),
        }
    )
    return HttpRequest(url=config["url"], headers=headers, body=body)


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
        "sent_at_time": _rfc3339(sent_at),
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
        "start_time": _rfc3339(n.start),
        "updated": n.updated,
        "updated_time": _rfc3339(n.updated),
        "end": n.end,
        "end_time": _rfc3339(n.end),
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
    out["start_time"] = _rfc3339(m.start)
    out["end"] = m.end
    out["end_time"] = _rfc3339(m.end)
    out.update({k: data[k] for k in data if k not in out})
    return out


def _user_event_dict(event: dict) -> dict:
    out = dict(event)
    for key in ("start", "end"):
        if key in event:
            value = event[key]
            out[f"{key}_time"] = _rfc3339(value) if isinstance(value, int | float) else None
    return out


# Alertmanager ---------------------------------------------------------------------------


def _alertmanager_payload(n: Notification, *, receiver: str) -> dict:
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
        "startsAt": _rfc3339(start),
        "endsAt": _rfc3339(end) if end is not None else _ALERTMANAGER_ZERO_TIME,
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
    summary = f"{n.title}: {m.name} {_metric_details(m)}" if m is not None else n.title
    values: dict[str, object] = {
        "summary": summary,
        "description": n.description,
        "score": _real(m.score if m is not None and m.score is not None else n.score),
        "value": _real(m.value) if m is not None else None,
        "expected": _real(m.expected) if m is not None else None,
        "delta_pct": _real(m.delta_pct) if m is not None else None,
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


# Slack ----------------------------------------------------------------------------------


def _render_slack(config: dict, n: Notification, delivery_id: str, now: int) -> HttpRequest:
    """An incoming-webhook message: ``text`` for notifications, ``blocks`` for the channel."""
    payload: dict = {"text": _slack_escape(_headline(n)), "blocks": _slack_blocks(n)}
    if config.get("channel"):
        payload["channel"] = config["channel"]
    if config.get("username"):
        payload["username"] = config["username"]
    return HttpRequest(url=config["url"], headers=_json_headers(), body=_json_bytes(payload))


def _slack_escape(text: str) -> str:
    """Slack mrkdwn treats ``&``, ``<`` and ``>`` as markup; nothing else needs escaping."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def _slack_blocks(n: Notification) -> list[dict]:
    header = f"{_EVENT_EMOJI.get(n.event, '')} {_EVENT_LABELS.get(n.event, n.event)}: {n.title}"
    blocks: list[dict] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(header, 150), "emoji": True},
        },
        _slack_summary(n),
    ]
    if n.metrics:
        blocks.append({"type": "section", "text": _mrkdwn(_slack_metric_list(n.metrics))})
    buttons = _slack_buttons(n)
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    blocks.append({"type": "context", "elements": [_mrkdwn(_slack_context(n))]})
    return blocks


def _slack_summary(n: Notification) -> dict:
    fields = [
        _mrkdwn(f"*Severity*\n{n.severity.upper()}"),
        _mrkdwn(f"*Score*\n{_fmt_num(n.score)}"),
        _mrkdwn(f"*Metrics*\n{len(n.metrics)}"),
        _mrkdwn(f"*Duration*\n{_fmt_duration(n.duration_s)}"),
    ]
    if n.group:
        fields.append(_mrkdwn(_cut(f"*Group*\n{_slack_escape(_fmt_dims(n.group))}", 2000)))
    section: dict = {"type": "section", "fields": fields}
    if n.description:
        section["text"] = _mrkdwn(_cut(_slack_escape(n.description), 3000))
    return section


def _slack_metric_list(metrics: list[NotificationMetric], shown: int = 10) -> str:
    lines = []
    for m in metrics[:shown]:
        name = _slack_escape(m.name)
        url = _safe_url(m.url).replace("|", "%7C").replace(">", "%3E")
        label = f"<{url}|{name}>" if url else f"`{name}`"
        lines.append(f"• {label}: {_slack_escape(_metric_details(m))}")
    if len(metrics) > shown:
        lines.append(f"…and {len(metrics) - shown} more")
    return _cut("\n".join(lines), 3000)


def _slack_buttons(n: Notification) -> list[dict]:
    return [
        {"type": "button", "text": {"type": "plain_text", "text": _cut(text, 75)}, "url": url}
        for text, url in _links(n)[:5]
        if len(url) <= 3000
    ]


def _slack_context(n: Notification) -> str:
    """Where it comes from; ``<!date^…>`` shows the start in each reader's time zone."""
    parts = ["augury"]
    if n.organization:
        parts.append(_slack_escape(n.organization))
    parts.append(f"trigger #{n.trigger_id}")
    parts.append(
        f"<!date^{int(n.start)}^started {{date_short_pretty}} {{time}}|started {_rfc3339(n.start)}>"
    )
    return " · ".join(parts)


# PagerDuty ------------------------------------------------------------------------------


def _render_pagerduty(config: dict, n: Notification, delivery_id: str, now: int) -> HttpRequest:
    """Events API v2: trigger on open/update/test, resolve on close, one dedup key."""
    url = config.get("url") or PAGERDUTY_URL
    return HttpRequest(
        url=url, headers=_json_headers(), body=_json_bytes(_pagerduty_event(config, n))
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
    links = [{"href": url, "text": text} for text, url in _links(n)]
    if links:
        event["links"] = links
    event["client"] = "augury"
    if _safe_url(n.url):
        event["client_url"] = n.url
    return event


def _pagerduty_payload(n: Notification) -> dict:
    payload = {
        "summary": _cut(_headline(n) + _pagerduty_summary_tail(n), 1024),
        "source": "augury",
        "severity": _PAGERDUTY_SEVERITY.get(n.severity, "info"),
        "timestamp": _rfc3339(n.updated),
        "class": n.type,
        "custom_details": _pagerduty_details(n),
    }
    if n.metrics:
        payload["component"] = n.metrics[0].what
    if n.group:
        payload["group"] = _fmt_dims(n.group)
    return payload


def _pagerduty_summary_tail(n: Notification) -> str:
    if len(n.metrics) == 1:
        m = n.metrics[0]
        return f" ({m.name}: {_metric_details(m)})"
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


# Teams ----------------------------------------------------------------------------------


def _render_teams(config: dict, n: Notification, delivery_id: str, now: int) -> HttpRequest:
    """An Office 365 connector MessageCard: a coloured card with facts and a link."""
    return HttpRequest(url=config["url"], headers=_json_headers(), body=_json_bytes(_teams_card(n)))


def _teams_card(n: Notification) -> dict:
    esc = _teams_escape
    facts = [{"name": name, "value": esc(value)} for name, value in _facts(n)]
    facts += [{"name": esc(m.name), "value": esc(_metric_details(m))} for m in n.metrics[:10]]
    card: dict = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "themeColor": _colour(n),
        "summary": _cut(_headline(n), 200),
        "title": esc(_headline(n)),
        "sections": [
            {
                "activityTitle": esc(n.title),
                "activitySubtitle": esc(
                    f"augury · {n.organization}" if n.organization else "augury"
                ),
                "text": esc(n.description),
                "facts": facts,
                "markdown": True,
            }
        ],
    }
    actions = [
        {"@type": "OpenUri", "name": _cut(text, 75), "targets": [{"os": "default", "uri": url}]}
        for text, url in _links(n)[:5]
    ]
    if actions:
        card["potentialAction"] = actions
    return card


def _teams_escape(text: str) -> str:
    """Teams renders a subset of HTML in card text; user text must not become markup."""
    return html.escape(text, quote=False)


_HTTP_RENDERERS: dict[str, Callable[[dict, Notification, str, int], HttpRequest]] = {
    "webhook": _render_webhook,
    "slack": _render_slack,
    "pagerduty": _render_pagerduty,
    "teams": _render_teams,
}


# --- email ------------------------------------------------------------------------------


def render_email(
    config: dict,
    n: Notification,
    *,
    settings: Settings,
    images: Sequence[tuple[str, bytes]] = (),
) -> EmailMessage:
    """The alert mail: plain text, and HTML with the charts inline.

    ``images`` are ``(content_id, png_bytes)``; each is attached as a related part of the
    HTML and shown in it as ``<img src="cid:content_id">``, so mail clients show charts
    without loading anything remote. The open, update and close mails of one alert share
    a thread (``References``), so clients group them.
    """
    for cid, _ in images:
        if not _CONTENT_ID.match(cid):
            raise ValueError(f"invalid image content id {cid!r}")
    msg = build_message(
        settings,
        to=", ".join(config["to"]),
        subject=_headline(n),
        text=_email_text(n),
        html=_email_html(n, [cid for cid, _ in images]),
    )
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Augury-Event"] = n.event
    _thread(msg, n)
    _attach_images(msg, images)
    return msg


def _thread(msg: EmailMessage, n: Notification) -> None:
    """Open mail gets the thread's Message-ID; update and close mails reply to it."""
    if n.event == "test":
        return
    thread_id = f"<alert-{hashlib.sha256(n.group_key.encode()).hexdigest()[:24]}@augury.local>"
    if n.event == "open":
        msg.replace_header("Message-ID", thread_id)
    else:
        msg["In-Reply-To"] = thread_id
        msg["References"] = thread_id


def _attach_images(msg: EmailMessage, images: Sequence[tuple[str, bytes]]) -> None:
    html_part = msg.get_body(preferencelist=("html",))
    for cid, data in images:
        html_part.add_related(
            data,
            maintype="image",
            subtype="png",
            cid=f"<{cid}>",
            disposition="inline",
            filename=f"{cid.split('@')[0]}.png",
        )


def _email_text(n: Notification) -> str:
    lines = [_headline(n), ""]
    if n.description:
        lines += [n.description, ""]
    lines += [f"{name}: {value}" for name, value in _facts(n)]
    if n.metrics:
        lines += ["", f"Metrics ({len(n.metrics)}):"]
        for m in n.metrics:
            lines.append(f"- {m.name}: {_metric_details(m)}")
            if _safe_url(m.url):
                lines.append(f"  {m.url}")
    links = _links(n)
    if links:
        lines += ["", "Links:"] + [f"- {text}: {url}" for text, url in links]
    if n.events:
        lines += ["", "Events around the alert:"] + [f"- {_event_line(e)}" for e in n.events]
    lines += ["", "-- ", f"augury · {n.organization}" if n.organization else "augury"]
    return "\n".join(lines) + "\n"


def _email_html(n: Notification, cids: list[str]) -> str:
    esc = html.escape
    description = esc(n.description).replace("\n", "<br>")
    footer = f"augury · {esc(n.organization)}" if n.organization else "augury"
    parts = [
        "<!doctype html><html><body "
        'style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1f2328">',
        f'<div style="border-left:4px solid #{_colour(n)};padding:4px 16px">',
        f'<h2 style="margin:0 0 8px;font-size:18px">{esc(_headline(n))}</h2>',
        f"<p>{description}</p>" if description else "",
        _html_facts(_facts(n)),
        _html_metrics(n.metrics),
        "".join(
            f'<p><img src="cid:{esc(cid)}" alt="chart" style="max-width:100%"></p>' for cid in cids
        ),
        _html_links(_links(n)),
        _html_events(n.events),
        "</div>",
        f'<p style="color:#656d76;font-size:12px">{footer}</p>',
        "</body></html>",
    ]
    return "\n".join(part for part in parts if part)


def _html_facts(facts: list[tuple[str, str]]) -> str:
    rows = "".join(
        f'<tr><th style="text-align:left;padding:2px 12px 2px 0;color:#656d76">'
        f"{html.escape(name)}</th><td>{html.escape(value)}</td></tr>"
        for name, value in facts
    )
    return f'<table style="border-collapse:collapse;font-size:14px">{rows}</table>'


def _html_metrics(metrics: list[NotificationMetric]) -> str:
    if not metrics:
        return ""
    items = []
    for m in metrics:
        url = _safe_url(m.url)
        name = html.escape(m.name)
        label = f'<a href="{html.escape(url)}">{name}</a>' if url else f"<code>{name}</code>"
        items.append(f"<li>{label}: {html.escape(_metric_details(m))}</li>")
    return f'<h3 style="font-size:15px">Metrics ({len(metrics)})</h3><ul>{"".join(items)}</ul>'


def _html_links(links: list[tuple[str, str]]) -> str:
    if not links:
        return ""
    anchors = " · ".join(
        f'<a href="{html.escape(url)}">{html.escape(text)}</a>' for text, url in links
    )
    return f"<p>{anchors}</p>"


def _html_events(events: list[dict]) -> str:
    if not events:
        return ""
    items = "".join(f"<li>{html.escape(_event_line(e))}</li>" for e in events)
    return f'<h3 style="font-size:15px">Events around the alert</h3><ul>{items}</ul>'


# --- sending ----------------------------------------------------------------------------


def send(
    type: str,
    config: dict,
    n: Notification,
    *,
    settings: Settings,
    delivery_id: str,
    timeout_s: float = 10.0,
    images: Sequence[tuple[str, bytes]] = (),
    client: httpx.Client | None = None,
) -> SendResult:
    """Deliver one notification through one channel; never raises.

    A failure that is not the receiver's answer (a bad stored config, a bug in rendering)
    is reported as a permanent error rather than raised, so one broken channel cannot
    stop the dispatcher from delivering to the others. ``client`` lets the dispatcher
    reuse connections; without it a short-lived client is made for this call.
    """
    started = time.perf_counter()
    try:
        if type == "email":
            result = _send_email(
                config,
                n,
                settings=settings,
                delivery_id=delivery_id,
                timeout_s=timeout_s,
                images=images,
            )
        else:
            now = int(clock.now().timestamp())
            request = render_http(type, config, n, delivery_id=delivery_id, now=now)
            result = _post(
                request,
                timeout_s=timeout_s,
                client=client,
                allowed=settings.alerts.allowed_private_networks,
            )
    except Exception as exc:  # deliberately broad: see the docstring
        result = _failure(False, None, f"{exc.__class__.__name__}: {exc}")
    return replace(result, duration_ms=(time.perf_counter() - started) * 1000)


def _failure(retryable: bool, status_code: int | None, error: str) -> SendResult:
    return SendResult(
        ok=False, retryable=retryable, status_code=status_code, error=_cut(error, 500)
    )


def _post(
    request: HttpRequest,
    *,
    timeout_s: float,
    client: httpx.Client | None,
    allowed: Sequence[str] = (),
) -> SendResult:
    """POST to an address checked by :func:`resolve_destination`, without following
    redirects (a redirect would drop the body and signature, and lead anywhere).

    The URL's host is resolved once and the connection made to a checked address, with
    the URL's host in ``Host`` and in TLS (SNI and certificate check), so DNS cannot
    answer differently between the check and the connection. A refused, unknown or
    unreachable destination is one generic failure; the detail goes to the server log.
    """
    try:
        url = httpx.URL(request.url)
        if url.scheme not in ("http", "https") or not url.host:
            return _failure(False, None, "invalid url: an http(s) URL with a host is required")
        host = url.raw_host.decode("ascii")
        port = url.port or (443 if url.scheme == "https" else 80)
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        return _failure(False, None, f"invalid url: {exc}")
    try:
        addresses = resolve_destination(host, port, allowed)
    except DestinationRefused:
        log.warning("alert destination %s refused: not a public address", host)
        return _failure(False, None, REFUSED_OR_UNREACHABLE)
    except (OSError, UnicodeError) as exc:
        log.warning("alert destination %s does not resolve: %s", host, exc)
        return _failure(True, None, REFUSED_OR_UNREACHABLE)
    headers = {**request.headers, "Host": url.netloc.decode("ascii")}
    extensions = {"sni_hostname": host} if url.scheme == "https" else {}
    try:
        if client is not None:
            return _post_to(client, url, addresses, request, headers, extensions, timeout_s)
        with httpx.Client(timeout=timeout_s, follow_redirects=False) as own:
            return _post_to(own, url, addresses, request, headers, extensions, timeout_s)
    except httpx.ConnectTimeout as exc:
        log.warning("alert destination %s unreachable: %s", host, exc.__class__.__name__)
        return _failure(True, None, REFUSED_OR_UNREACHABLE)
    except httpx.TimeoutException as exc:
        return _failure(True, None, f"timeout after {timeout_s:g}s ({exc.__class__.__name__})")
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        return _failure(False, None, f"invalid url: {exc}")
    except httpx.TransportError as exc:
        log.warning("alert destination %s unreachable: %s", host, str(exc) or repr(exc))
        return _failure(True, None, REFUSED_OR_UNREACHABLE)


def _post_to(
    client: httpx.Client,
    url: httpx.URL,
    addresses: list[str],
    request: HttpRequest,
    headers: dict[str, str],
    extensions: dict,
    timeout_s: float,
) -> SendResult:
    """Each checked address in turn until one accepts the connection."""
    for i, address in enumerate(addresses):
        try:
            with client.stream(
                "POST",
                url.copy_with(host=address),
                content=request.body,
                headers=headers,
                timeout=timeout_s,
                follow_redirects=False,
                extensions=extensions,
            ) as response:
                snippet = _read_prefix(response, 4096)
            return _classify(response.status_code, response.reason_phrase, snippet)
        except httpx.ConnectError:
            if i == len(addresses) - 1:
                raise
    raise AssertionError("unreachable: resolve_destination returns at least one address")


def _read_prefix(response: httpx.Response, limit: int) -> str:
    """The start of the body only: a hostile receiver must not make us read megabytes."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit].decode("utf-8", "replace")


def _classify(status: int, reason: str, body: str) -> SendResult:
    """2xx delivered; 408/425/429/5xx worth retrying; anything else (4xx, 3xx) permanent."""
    if 200 <= status < 300:
        return SendResult(ok=True, retryable=False, status_code=status, error=None)
    retryable = status in _RETRYABLE_STATUS or 500 <= status < 600
    text = " ".join(body.split())[:_ERROR_CHARS]
    return _failure(
        retryable, status, f"HTTP {status}: {text}" if text else f"HTTP {status} {reason}"
    )


def _send_email(
    config: dict,
    n: Notification,
    *,
    settings: Settings,
    delivery_id: str,
    timeout_s: float,
    images: Sequence[tuple[str, bytes]],
) -> SendResult:
    """SMTP when configured; otherwise the outbox folder, which counts as delivered."""
    msg = render_email(config, n, settings=settings, images=images)
    msg["X-Augury-Delivery"] = delivery_id
    if not settings.smtp.host:
        write_outbox(settings.outbox_dir, msg)
        return SendResult(ok=True, retryable=False, status_code=None, error=None)
    try:
        refused = _smtp_deliver(settings.smtp, msg, min(timeout_s, settings.smtp.timeout_s))
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        retryable = all(400 <= code < 500 for code in codes)
        return _failure(
            retryable,
            codes[0] if codes else None,
            f"recipients refused: {_smtp_detail(exc.recipients)}",
        )
    except smtplib.SMTPResponseException as exc:
        code = exc.smtp_code
        retryable = not 500 <= code < 600
        return _failure(
            retryable, code if code > 0 else None, f"SMTP {code}: {_smtp_text(exc.smtp_error)}"
        )
    except smtplib.SMTPServerDisconnected as exc:
        return _failure(True, None, f"SMTP server disconnected: {exc}")
    except smtplib.SMTPException as exc:
        return _failure(False, None, f"SMTP error: {exc}")
    except OSError as exc:  # refused, unreachable, timed out, TLS handshake
        return _failure(True, None, f"SMTP connection failed: {str(exc) or exc.__class__.__name__}")
    if refused:
        return SendResult(
            ok=True,
            retryable=False,
            status_code=None,
            error=_cut(f"some recipients refused: {_smtp_detail(refused)}", 500),
        )
    return SendResult(ok=True, retryable=False, status_code=None, error=None)


def _smtp_deliver(smtp: SmtpSettings, msg: EmailMessage, timeout_s: float) -> dict:
    """Send through the configured server, as :func:`augury.runtime.mail.send_mail` does.

    Returns the recipients the server refused while accepting others.
    """
    if smtp.ssl:
        context = ssl.create_default_context()
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=timeout_s, context=context
        )
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout_s)
    with client:
        if smtp.starttls and not smtp.ssl:
            client.starttls(context=ssl.create_default_context())
        if smtp.username:
            client.login(smtp.username, smtp.password or "")
        return client.send_message(msg)


def _smtp_text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _smtp_detail(recipients: dict) -> str:
    return "; ".join(
        f"{addr} ({code} {_smtp_text(text)})" for addr, (code, text) in recipients.items()
    )
