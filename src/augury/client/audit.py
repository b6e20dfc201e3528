"""The organization's audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from augury.client.base import JSON, Resource, _query


class Audit(Resource):
    """The organization's audit log, for admins (``client.audit``)."""

    def list(
        self,
        *,
        action: str | None = None,
        outcome: str | None = None,
        actor_user_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> JSON:
        """One page of events, newest first; ``action`` takes ``"auth.login"`` or ``"auth.*"``."""
        return self._page(
            "/audit",
            offset,
            limit,
            **_query(
                {
                    "action": action,
                    "outcome": outcome,
                    "actor_user_id": actor_user_id,
                    "since": since,
                    "until": until,
                }
            ),
        )

    def iter(
        self,
        *,
        action: str | None = None,
        outcome: str | None = None,
        actor_user_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        page_size: int = 100,
    ) -> Iterator[JSON]:
        """Every event matching the filters, newest first."""
        return self._iter(
            "/audit",
            page_size,
            **_query(
                {
                    "action": action,
                    "outcome": outcome,
                    "actor_user_id": actor_user_id,
                    "since": since,
                    "until": until,
                }
            ),
        )
