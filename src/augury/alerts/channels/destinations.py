"""Where channels may send: public addresses only, unless the operator allows more.

A URL whose host is, or resolves to, a loopback, private, link-local, multicast or
otherwise non-public address is refused when the channel is configured
(:func:`check_destination`: address literals in any spelling, ``localhost``) and again
when sending (:func:`resolve_destination`), after DNS; the sender then connects to the
very address that was checked, so a name cannot resolve to a public address for the
check and a private one for the connection. Operators allow on-premise receivers with
``AUGURY_ALERTS__ALLOWED_PRIVATE_NETWORKS``.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_LOCAL_ADDRESSES = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


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
