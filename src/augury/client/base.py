"""What every resource group shares: the paging helpers and the wire format.

A resource group (``client.jobs``, ``client.keys`` ...) is a :class:`Resource`
subclass; its methods build the request (``_body`` for JSON bodies, ``_query`` for
query strings) and hand it to :meth:`augury.client.Client.request`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from augury.client.connection import Client

JSON = dict[str, Any]
"""What the API answers for one resource: a plain dict."""


def _body(**fields: Any) -> JSON:
    """A JSON body without the fields left unset (None)."""
    return {name: value for name, value in fields.items() if value is not None}


def _query(params: Mapping[str, Any]) -> JSON:
    """Query parameters without the unset ones; datetimes and lists as the API reads them."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, list | tuple | set | frozenset):
            value = ",".join(str(v) for v in value)
        out[name] = value
    return out


def _anomaly_filters(filters: Mapping[str, Any]) -> JSON:
    out = dict(filters)
    for name, wire in (("start", "from"), ("end", "to")):
        if name in out:
            out[wire] = out.pop(name)
    return out


class Resource:
    """Base of the resource groups: a handle on the client plus paging helpers."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _page(self, path: str, offset: int, limit: int, **params: Any) -> JSON:
        params = {**params, "offset": offset, "limit": limit}
        return self._client.request("GET", path, params=params)

    def _iter(self, path: str, page_size: int, **params: Any) -> Iterator[JSON]:
        offset = 0
        while True:
            page = self._page(path, offset, page_size, **params)
            yield from page["items"]
            if not page["has_more"] or not page["items"]:
                return
            offset += len(page["items"])
