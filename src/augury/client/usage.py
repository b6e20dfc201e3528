"""Usage metrics of the organization you act in."""

from __future__ import annotations

from datetime import datetime

from augury.client.base import JSON, Resource, _query


class Usage(Resource):
    """Usage figures counted from what the server records (``client.usage``)."""

    def platform(self, *, start: datetime | None = None, end: datetime | None = None) -> JSON:
        """The organization's figures (admins): people, charts, questions, datasets,
        points ingested, jobs, requests and their performance, a daily series and each
        member's use; ``start``/``end`` bound the window (default: the last 30 days)."""
        params = _query({"from": start, "to": end})
        return self._client.request("GET", "/metrics/platform", params=params)

    def user(
        self, user_id: int, *, start: datetime | None = None, end: datetime | None = None
    ) -> JSON:
        """One member's usage in the window (yours, or anyone's for admins)."""
        params = _query({"from": start, "to": end})
        return self._client.request("GET", f"/metrics/user/{user_id}", params=params)
