"""What every channel type shares: the :class:`Channel` protocol, the result of an
attempt, and the checks of the settings a user types.

A channel type is one module (``webhook``, ``slack``, ``email``, ``pagerduty``,
``teams``) holding one object that follows :class:`Channel`; the package's ``__init__``
lists them. Adding a type means writing such a module and adding it to that list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from augury.alerts.notification import Notification
from augury.config import Settings

ERROR_CHARS = 500
"""The longest error text a result keeps."""
REFUSED_OR_UNREACHABLE = "destination refused or unreachable"
"""The one answer for a destination refused by policy, unknown to DNS or not answering."""


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


def delivered(error: str | None = None) -> SendResult:
    """Accepted by the receiver (``error``: what it refused while accepting the rest)."""
    return SendResult(ok=True, retryable=False, status_code=None, error=error)


def failure(retryable: bool, status_code: int | None, error: str) -> SendResult:
    return SendResult(
        ok=False, retryable=retryable, status_code=status_code, error=cut(error, ERROR_CHARS)
    )


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Attempt:
    """What one delivery attempt needs besides the channel's settings and the message."""

    settings: Settings
    delivery_id: str
    timeout_s: float
    images: Sequence[tuple[str, bytes]] = ()
    """``(content_id, png_bytes)`` charts, for channels that can show them (email)."""
    client: httpx.Client | None = None
    """A client to reuse connections with; HTTP channels make a short-lived one without."""


class Channel(Protocol):
    """One channel type: the settings it takes, and how it delivers a notification."""

    type: str
    keys: tuple[str, ...]
    """The settings a user may give; any other is refused."""
    secret_url: bool
    """Whether the channel's URL is itself the credential (an incoming-webhook URL)."""

    def validate(self, config: dict) -> dict:
        """The settings normalised, ready to store; :class:`ValueError` for the user."""
        ...

    def send(self, config: dict, n: Notification, attempt: Attempt) -> SendResult:
        """Deliver one notification; may raise (:func:`send` turns it into a failure)."""
        ...


# --- checks of typed settings -------------------------------------------------------------


def require_url(value: object) -> str:
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


def optional_str(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string")
    return value.strip() or None
