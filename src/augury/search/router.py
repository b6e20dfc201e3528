"""HTTP route of the global search: ``GET /api/v1/search``."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["search"])
