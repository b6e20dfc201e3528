"""What every resource group shares: the paging helpers, files up and down, and the
wire format.

A resource group (``client.jobs``, ``client.keys`` ...) is a :class:`Resource`
subclass; its methods build the request (``_body`` for JSON bodies, ``_query`` for
query strings) and hand it to :meth:`augury.client.Client.request`, or, for a body or
an answer that is a file, to :meth:`Resource._stream`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from augury.client.errors import _error_from

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

    def _upload(
        self,
        route: str,
        path: str | os.PathLike[str],
        fields: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        content_type: str = "application/octet-stream",
    ) -> JSON:
        """POST a file as the multipart field ``file`` (streamed from disk)."""
        file_path = Path(path)
        with (
            file_path.open("rb") as file,
            self._stream(
                "POST",
                route,
                data=dict(fields or {}),
                files={"file": (file_path.name, file, content_type)},
                timeout=timeout,
            ) as response,
        ):
            response.read()
            answer: JSON = response.json()
            return answer

    def _download(
        self, route: str, params: Mapping[str, Any], path: str | os.PathLike[str] | None
    ) -> bytes | Path:
        """An answer's bytes, or written to ``path`` (returned) when one is given."""
        content: bytes = self._client.request("GET", route, params=params, raw=True)
        if path is None:
            return content
        target = Path(path)
        target.write_bytes(content)
        return target

    @contextmanager
    def _stream(
        self, method: str, route: str, *, timeout: float | None = None, **send: Any
    ) -> Iterator[httpx.Response]:
        """Send one request whose body or answer is streamed; the open answer, or the
        API's error raised.

        A body sent from a file cannot be sent again after a 401 the way
        :meth:`~augury.client.Client.request` repeats requests, so an expired access
        token is refreshed before sending instead.
        """
        from augury.client.connection import _jwt_expired  # connection imports this module

        client = self._client
        if client.access_token and client.refresh_token and _jwt_expired(client.access_token):
            client.refresh()
        credential = client.access_token or client.api_key
        headers = {"Authorization": f"Bearer {credential}"} if credential else {}
        request = client._http.build_request(
            method,
            route,
            headers=headers,
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
            **send,
        )
        response = client._http.send(request, stream=True)
        try:
            if response.is_error:
                response.read()
                raise _error_from(response)
            yield response
        finally:
            response.close()
