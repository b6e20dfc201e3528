"""The one place that reads the wall clock, so tests can freeze and advance time."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)
