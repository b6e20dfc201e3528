"""HTTP routes of event webhooks: ``/api/v1/webhooks`` (admins)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["webhooks"])
