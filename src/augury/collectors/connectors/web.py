"""HTTP calls to a vetted address, shared by the Prometheus and HTTP JSON connectors.

A source's URL is the user's, so the call is made the way augury's AI provider calls
are (``analytics.providers.post``, which this layer may not import): the host is
resolved and every address checked by
:func:`~augury.alerts.channels.destinations.resolve_destination` (loopback, private and
link-local addresses only when the operator allows them in
``AUGURY_COLLECT__ALLOWED_PRIVATE_NETWORKS``), and the connection goes to the very
address that was checked, with the URL's host kept in ``Host`` and in TLS (SNI and the
certificate check), so DNS cannot answer one address for the check and another for the
connection. Redirects are not followed (a redirect could point anywhere); the answer is
read up to a size cap and by a deadline, so a server dripping bytes cannot hold a poll.

Every message is scrubbed of the source's credentials (:meth:`Limits.scrub`).
"""

from __future__ import annotations

import dataclasses
import functools
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from augury.alerts.channels.destinations import DestinationRefused, resolve_destination
from augury.collectors.connectors.base import (
    BadResponse,
    ConfigInvalid,
    Limits,
    QueryTimeout,
    SourceRefused,
    SourceUnreachable,
)

ALLOW_SETTING = "AUGURY_COLLECT__ALLOWED_PRIVATE_NETWORKS"
SNIPPET_CHARS = 300
"""How much of an error answer a message quotes."""


def check_url(field: str, url: object, *, what: str = "URL") -> str:
    """``url`` without its trailing ``/`` if it is an http(s) URL with a host and no
    user, password, query or fragment (credentials belong in the secret, where they are
    encrypted; a query would break the paths streams append), else
    :class:`ConfigInvalid` naming ``field``. The host is checked at every connection,
    after DNS, not here: what a name resolves to may change."""
    if not isinstance(url, str) or not url.strip():
        raise ConfigInvalid(field, f"The {what} is required (http:// or https://).")
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigInvalid(field, f"The {what} is not a valid URL: {exc}.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigInvalid(field, f"The {what} must be an http:// or https:// URL with a host.")
    if port == 0:
        raise ConfigInvalid(field, f"The {what} has port 0.")
    if parts.username is not None or parts.password is not None:
        raise ConfigInvalid(
            field,
            f"The {what} may not hold a user or password: put credentials in the source's "
            "secret, where they are stored encrypted.",
        )
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise ConfigInvalid(field, f"The {what} may not have a query (?...) or fragment (#...).")
    if any(ord(c) < 33 or c == "\x7f" for c in url):
        raise ConfigInvalid(field, f"The {what} may not hold spaces or control characters.")
    return url.rstrip("/")


def vet_host(host: str, port: int, limits: Limits) -> list[str]:
    """The addresses ``host`` resolves to, each one allowed, or :class:`SourceRefused`
    (a non-public address the operator did not allow) / :class:`SourceUnreachable`."""
    try:
        return resolve_destination(host, port, limits.allowed_private_networks)
    except DestinationRefused as exc:
        raise SourceRefused(
            f"{host} is a loopback, private or link-local address, which data sources may "
            f"not reach unless an operator allows it in {ALLOW_SETTING}."
        ) from exc
    except (OSError, UnicodeError) as exc:
        raise SourceUnreachable(f"{host} does not resolve: check the host name.") from exc


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context (the system's certificates, checked) for every call: loading
    the certificate store costs about 20 ms, which a new client per call would spend."""
    return ssl.create_default_context()


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole answer: its status, body (at most the cap), type and where it came from
    (``shown``: the URL without its query, for messages)."""

    status: int
    body: bytes
    content_type: str
    location: str | None
    shown: str

    def snippet(self, limits: Limits) -> str:
        """The start of the body on one line, for a message (scrubbed)."""
        text = " ".join(self.body[: SNIPPET_CHARS * 4].decode("utf-8", "replace").split())
        return limits.scrub(text[:SNIPPET_CHARS])


class Fetcher:
    """Makes calls for one connector (one connection pool; :meth:`close` ends it)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._client = httpx.Client(
            timeout=limits.timeout_s, follow_redirects=False, verify=tls_context()
        )

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int,
    ) -> Answer:
        """``method url`` at a vetted address, the answer read whole (up to
        ``max_bytes``, else :class:`BadResponse`) within ``limits.timeout_s``.

        Raises :class:`SourceRefused`, :class:`SourceUnreachable` (no connection) or
        :class:`QueryTimeout` (no whole answer in time); any HTTP status is returned."""
        limits = self.limits
        deadline = time.monotonic() + limits.timeout_s
        try:
            # params=None would drop the URL's own query (an HTTP stream's path has one)
            target = httpx.URL(url, params=params) if params else httpx.URL(url)
            host = target.raw_host.decode("ascii")
        except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
            raise SourceUnreachable(limits.scrub(f"The URL is not valid: {exc}.")) from exc
        port = target.port or (443 if target.scheme == "https" else 80)
        shown = str(target.copy_with(query=None))
        addresses = vet_host(host, port, limits)
        sent_headers = {
            **(headers or {}),
            "Host": target.netloc.decode("ascii"),
        }
        extensions = {"sni_hostname": host} if target.scheme == "https" else {}
        try:
            for i, address in enumerate(addresses):
                request = self._client.build_request(
                    method,
                    target.copy_with(host=address),
                    headers=sent_headers,
                    extensions=extensions,
                )
                try:
                    response = self._client.send(request, stream=True)
                except httpx.ConnectError:
                    if i == len(addresses) - 1 or time.monotonic() >= deadline:
                        raise
                    continue
                try:
                    body = _read(response, deadline, max_bytes, shown, limits)
                finally:
                    response.close()
                return Answer(
                    response.status_code,
                    body,
                    response.headers.get("content-type", ""),
                    response.headers.get("location"),
                    shown,
                )
        except httpx.ConnectTimeout as exc:
            raise SourceUnreachable(
                limits.scrub(
                    f"{host}:{port} did not accept a connection within {limits.timeout_s:g} s: "
                    "check the URL and that the server is running."
                )
            ) from exc
        except httpx.TimeoutException as exc:
            raise QueryTimeout(
                limits.scrub(
                    f"{shown} gave no whole answer within {limits.timeout_s:g} s "
                    "(AUGURY_COLLECT__QUERY_TIMEOUT_S)."
                )
            ) from exc
        except httpx.HTTPError as exc:
            raise SourceUnreachable(
                limits.scrub(
                    f"{host}:{port} cannot be reached ({type(exc).__name__}): check the URL "
                    "and that the server is running."
                )
            ) from exc
        raise SourceUnreachable(f"{host} has no address to connect to.")  # pragma: no cover


def _read(
    response: httpx.Response, deadline: float, max_bytes: int, shown: str, limits: Limits
) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise BadResponse(
                limits.scrub(
                    f"The answer from {shown} is over {max_bytes // 1_000_000} MB: "
                    "ask for less (a narrower path, query or time range)."
                )
            )
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("deadline")
    return b"".join(chunks)


def with_secrets(limits: Limits, values: Sequence[object]) -> Limits:
    """``limits`` that also scrub ``values`` (and the token after a scheme, as in
    ``Bearer <token>``, in case a server echoes the token alone)."""
    extra: list[str] = []
    for value in values:
        if isinstance(value, str) and value:
            extra.append(value)
            parts = value.split()
            if len(parts) > 1:
                extra.append(parts[-1])
    if not extra:
        return limits
    # the longest first, so a value is never half-replaced by a shorter one inside it
    secrets = sorted({*limits.secrets, *extra}, key=len, reverse=True)
    return dataclasses.replace(limits, secrets=tuple(secrets))
