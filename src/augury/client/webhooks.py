"""Event webhooks: URLs subscribed to platform events (admins; docs/webhooks.md)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from augury.client.base import JSON, Resource


class Webhooks(Resource):
    """``client.webhooks``: subscribe a URL to events, read its delivery log, test it."""

    def event_types(self) -> list[JSON]:
        """Every event type a webhook can subscribe to, with what it means."""
        return self._client.request("GET", "/webhooks/events")

    def create(
        self,
        name: str,
        url: str,
        events: Sequence[str],
        *,
        secret: str | None = None,
        active: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> JSON:
        """Subscribe ``url`` to ``events`` (or ``["*"]``); the answer holds the signing
        secret whole, this once."""
        body: dict[str, Any] = {"name": name, "url": url, "events": list(events)}
        body["active"] = active
        if secret is not None:
            body["secret"] = secret
        if headers is not None:
            body["headers"] = dict(headers)
        return self._client.request("POST", "/webhooks", json=body)

    def list(self, *, offset: int = 0, limit: int = 50) -> JSON:
        return self._page("/webhooks", offset, limit)

    def iter(self, *, page_size: int = 100) -> Iterator[JSON]:
        return self._iter("/webhooks", page_size)

    def get(self, webhook_id: int) -> JSON:
        return self._client.request("GET", f"/webhooks/{webhook_id}")

    def update(self, webhook_id: int, **changes: Any) -> JSON:
        """Change ``name``, ``url``, ``events``, ``secret``, ``active`` or ``headers``."""
        return self._client.request("PATCH", f"/webhooks/{webhook_id}", json=changes)

    def delete(self, webhook_id: int) -> None:
        self._client.request("DELETE", f"/webhooks/{webhook_id}")

    def test(self, webhook_id: int) -> JSON:
        """Send a sample event now; the delivery says whether it arrived."""
        return self._client.request("POST", f"/webhooks/{webhook_id}/test")

    def deliveries(
        self, webhook_id: int, *, status: str | None = None, offset: int = 0, limit: int = 50
    ) -> JSON:
        """The delivery log, newest first (``status``: pending, sending, sent, failed)."""
        params = {"status": status} if status else {}
        return self._page(f"/webhooks/{webhook_id}/deliveries", offset, limit, **params)
