"""The client's address: the one function rate limits, login throttling and audit use.

The peer of the connection is the client, unless it is one of ``AUGURY_TRUSTED_PROXIES``:
then ``X-Forwarded-For`` is read from the right (each proxy appends the address it saw)
and the first address that is not a trusted proxy is the client. Addresses left of it
were written by the client itself and are never believed. `augury serve` turns off
uvicorn's own proxy-header handling so that this is the only place that decides.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address, networks: Sequence[Network]) -> bool:
    return address is not None and any(address in net for net in networks)


def resolve_client_ip(
    peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[Network]
) -> str | None:
    """The client address given the peer, the X-Forwarded-For header lines (in order)
    and the trusted proxy networks."""
    if not trusted or not _trusted(_parse(peer or ""), trusted):
        return peer
    hops = [hop for line in forwarded_for for hop in line.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:  # garbage: stop at the last hop a trusted proxy vouched for
            break
        client = str(address)
        if not _trusted(address, trusted):
            break
    return client


def client_ip(scope) -> str | None:
    """The client address of an HTTP request (an ASGI scope, e.g. ``request.scope``)."""
    peer = (scope.get("client") or (None, 0))[0]
    app = scope.get("app")
    settings = getattr(getattr(app, "state", None), "settings", None)
    trusted = settings.trusted_networks if settings is not None else ()
    if not trusted:
        return peer
    forwarded = [
        value.decode("latin-1")
        for name, value in scope.get("headers") or ()
        if name == b"x-forwarded-for"
    ]
    return resolve_client_ip(peer, forwarded, trusted)
