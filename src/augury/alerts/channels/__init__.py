"""Alert channels: render a :class:`Notification` for each channel type, and send it.

One module per channel type (:mod:`.webhook` with :mod:`.alertmanager`, :mod:`.slack`,
:mod:`.email`, :mod:`.pagerduty`, :mod:`.teams`), each an object following
:class:`~.base.Channel`; :mod:`.destinations` decides which addresses may be reached
(public ones only, after DNS, unless the operator allows more), :mod:`.signing` signs
webhook deliveries, :mod:`.http` makes the POST the HTTP types share.

This module is what the rest of augury uses: :func:`validate_config` and
:func:`public_config` for the API, :func:`send` for the dispatcher. :func:`send` is the
one place that talks to the outside; it never raises, and it sorts failures into
*retryable* (the receiver may accept the same message later: timeouts, 429, 5xx, SMTP
4xx) and *permanent* (retrying cannot help: 4xx, SMTP 5xx, a bad address), which the
dispatcher uses to schedule the next attempt or give up.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import parse_qsl, urlsplit

import httpx

from augury import clock
from augury.alerts.channels import email, pagerduty, slack, teams, webhook
from augury.alerts.channels.base import (
    REFUSED_OR_UNREACHABLE,
    Attempt,
    Channel,
    HttpRequest,
    SendResult,
    failure,
)
from augury.alerts.channels.destinations import (
    DestinationRefused,
    check_destination,
    is_public,
    resolve_destination,
)
from augury.alerts.channels.email import MAX_EMAIL_RECIPIENTS, render_email
from augury.alerts.channels.formatting import USER_AGENT
from augury.alerts.channels.http import HttpChannel, post
from augury.alerts.channels.pagerduty import PAGERDUTY_URL
from augury.alerts.channels.signing import (
    SIGNATURE_HEADER,
    sign,
    signature_header,
    verify_signature,
)
from augury.alerts.channels.webhook import WEBHOOK_FORMATS, render_json
from augury.alerts.notification import Notification
from augury.config import Settings

__all__ = [
    "CHANNEL_TYPES",
    "MAX_EMAIL_RECIPIENTS",
    "PAGERDUTY_URL",
    "REFUSED_OR_UNREACHABLE",
    "SIGNATURE_HEADER",
    "USER_AGENT",
    "WEBHOOK_FORMATS",
    "Channel",
    "DestinationRefused",
    "HttpRequest",
    "SendResult",
    "check_destination",
    "is_public",
    "public_config",
    "render_email",
    "render_http",
    "resolve_destination",
    "send",
    "send_json",
    "sign",
    "signature_header",
    "validate_config",
    "verify_signature",
]

CHANNELS: dict[str, Channel] = {
    c.type: c
    for c in (webhook.CHANNEL, slack.CHANNEL, email.CHANNEL, pagerduty.CHANNEL, teams.CHANNEL)
}
"""Every channel type, by name, in the order the API lists them."""
CHANNEL_TYPES = tuple(CHANNELS)

_SECRET_PARAM = re.compile(
    r"(token|secret|key|sig|signature|password|passwd|pwd|auth|code|credential)", re.I
)


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
    unknown = sorted(set(given) - set(CHANNELS[type].keys))
    if unknown:
        raise ValueError(f"unknown {type} setting(s): {', '.join(map(str, unknown))}")
    out = CHANNELS[type].validate(given)
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
    channel = CHANNELS.get(type)
    if channel is not None and channel.secret_url:
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


# --- rendering and sending ----------------------------------------------------------------


def render_http(
    type: str, config: dict, n: Notification, *, delivery_id: str, now: int
) -> HttpRequest:
    """The POST for an HTTP channel (webhook, slack, pagerduty, teams).

    ``now`` (epoch seconds) stamps the webhook signature and, when the notification has
    none, ``sent_at``; passing it in keeps rendering pure and repeatable in tests.
    """
    channel = CHANNELS.get(type)
    if not isinstance(channel, HttpChannel):
        raise ValueError(f"{type!r} is not an HTTP channel type")
    return channel.render(config, n, delivery_id, now)


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
    attempt = Attempt(
        settings=settings,
        delivery_id=delivery_id,
        timeout_s=timeout_s,
        images=images,
        client=client,
    )
    try:
        channel = CHANNELS.get(type)
        if channel is None:
            raise ValueError(f"{type!r} is not an HTTP channel type")
        result = channel.send(config, n, attempt)
    except Exception as exc:  # deliberately broad: see the docstring
        result = failure(False, None, f"{exc.__class__.__name__}: {exc}")
    return replace(result, duration_ms=(time.perf_counter() - started) * 1000)


def send_json(
    type: str,
    config: dict,
    body: dict,
    *,
    event: str,
    settings: Settings,
    delivery_id: str,
    timeout_s: float = 10.0,
    client: httpx.Client | None = None,
) -> SendResult:
    """Deliver a ready JSON body (not an alert) through a webhook channel, signed as
    every webhook delivery is; never raises, and sorts failures as :func:`send` does.

    Other domains queue such bodies in the outbox (a delivery whose payload is
    ``{"json": body}``: text review batches) to get its retries without a dispatcher of
    their own."""
    started = time.perf_counter()
    try:
        if type != "webhook":
            raise ValueError(f"a JSON body goes to a webhook channel, not {type!r}")
        now = int(clock.now().timestamp())
        result = post(
            render_json(config, body, event, delivery_id, now),
            timeout_s=timeout_s,
            client=client,
            allowed=settings.alerts.allowed_private_networks,
        )
    except Exception as exc:  # deliberately broad: as send
        result = failure(False, None, f"{exc.__class__.__name__}: {exc}")
    return replace(result, duration_ms=(time.perf_counter() - started) * 1000)
