"""Notifications: what the server tells you when long work finishes (a model ready, an
upload segmented), read or unread (``client.notifications``)."""

from __future__ import annotations

from collections.abc import Iterator

from augury.client.base import JSON, Resource, _query


class Notifications(Resource):
    """Your notifications in the organization you act in (``client.notifications``)."""

    def list(self, *, unread: bool = False, offset: int = 0, limit: int = 50) -> JSON:
        """One page of your notifications, newest first; ``unread=True`` only the unread."""
        return self._page("/notifications", offset, limit, **self._filters(unread))

    def iter(self, *, unread: bool = False, page_size: int = 100) -> Iterator[JSON]:
        return self._iter("/notifications", page_size, **self._filters(unread))

    @staticmethod
    def _filters(unread: bool) -> JSON:
        return _query({"unread": "true" if unread else None})

    def get(self, notification_id: int) -> JSON:
        return self._client.request("GET", f"/notifications/{notification_id}")

    def unread_count(self) -> int:
        """How many are unread."""
        return int(self._client.request("GET", "/notifications/unread-count")["unread"])

    def mark_read(self, notification_id: int) -> JSON:
        return self._client.request("POST", f"/notifications/{notification_id}/read")

    def mark_unread(self, notification_id: int) -> JSON:
        return self._client.request("POST", f"/notifications/{notification_id}/unread")

    def mark_all_read(self) -> int:
        """Mark every notification read; how many were unread."""
        return int(self._client.request("POST", "/notifications/read-all")["marked"])
