"""HTTP routes of usage metrics: ``/api/v1/metrics/platform`` and
``/api/v1/metrics/user/{user_id}``."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["usage"])
