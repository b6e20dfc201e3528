"""Fan platform events out to the event webhooks subscribed to them."""

from __future__ import annotations

from augury.store.db import Database


class FanOut:
    """A periodic task: each new platform event becomes one outbox delivery per active
    webhook of its organization subscribed to its type."""

    name = "webhooks.fanout"
    every_s = 1.0

    def run(self, db: Database) -> int:
        return 0
