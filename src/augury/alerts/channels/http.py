"""Sending over HTTP: the base of the HTTP channel types, and the one POST they share.

The POST goes to an address checked by :func:`.destinations.resolve_destination` and
sorts the answer into delivered, *retryable* (timeouts, 408/425/429, 5xx: the
receiver may accept the same message later) and *permanent* (other 4xx, 3xx: retrying
cannot help). A refused or unreachable destination is reported as one generic failure,
so the channel test cannot map what is reachable.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import httpx

from augury import clock
from augury.alerts.channels.base import (
    REFUSED_OR_UNREACHABLE,
    Attempt,
    HttpRequest,
    SendResult,
    failure,
)
from augury.alerts.channels.destinations import DestinationRefused, resolve_destination
from augury.alerts.notification import Notification

log = logging.getLogger("augury.alerts")

_RETRYABLE_STATUS = {408, 425, 429}
_ERROR_CHARS = 300
"""How much of a refusing receiver's body the error keeps."""


class HttpChannel:
    """A channel type that POSTs one rendered request: subclasses say how to render."""

    type: str
    keys: tuple[str, ...]
    secret_url = False

    def validate(self, config: dict) -> dict:
        raise NotImplementedError

    def render(self, config: dict, n: Notification, delivery_id: str, now: int) -> HttpRequest:
        """The POST for ``n``; ``now`` (epoch seconds) stamps what needs a time, so
        rendering stays pure and repeatable in tests."""
        raise NotImplementedError

    def send(self, config: dict, n: Notification, attempt: Attempt) -> SendResult:
        now = int(clock.now().timestamp())
        request = self.render(config, n, attempt.delivery_id, now)
        return post(
            request,
            timeout_s=attempt.timeout_s,
            client=attempt.client,
            allowed=attempt.settings.alerts.allowed_private_networks,
        )


def post(
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
            return failure(False, None, "invalid url: an http(s) URL with a host is required")
        host = url.raw_host.decode("ascii")
        port = url.port or (443 if url.scheme == "https" else 80)
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        return failure(False, None, f"invalid url: {exc}")
    try:
        addresses = resolve_destination(host, port, allowed)
    except DestinationRefused:
        log.warning("alert destination %s refused: not a public address", host)
        return failure(False, None, REFUSED_OR_UNREACHABLE)
    except (OSError, UnicodeError) as exc:
        log.warning("alert destination %s does not resolve: %s", host, exc)
        return failure(True, None, REFUSED_OR_UNREACHABLE)
    headers = {**request.headers, "Host": url.netloc.decode("ascii")}
    extensions = {"sni_hostname": host} if url.scheme == "https" else {}
    try:
        if client is not None:
            return _post_to(client, url, addresses, request, headers, extensions, timeout_s)
        with httpx.Client(timeout=timeout_s, follow_redirects=False) as own:
            return _post_to(own, url, addresses, request, headers, extensions, timeout_s)
    except httpx.ConnectTimeout as exc:
        log.warning("alert destination %s unreachable: %s", host, exc.__class__.__name__)
        return failure(True, None, REFUSED_OR_UNREACHABLE)
    except httpx.TimeoutException as exc:
        return failure(True, None, f"timeout after {timeout_s:g}s ({exc.__class__.__name__})")
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        return failure(False, None, f"invalid url: {exc}")
    except httpx.TransportError as exc:
        log.warning("alert destination %s unreachable: %s", host, str(exc) or repr(exc))
        return failure(True, None, REFUSED_OR_UNREACHABLE)


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
    return failure(
        retryable, status, f"HTTP {status}: {text}" if text else f"HTTP {status} {reason}"
    )
