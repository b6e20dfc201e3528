"""HTTP routes of dashboards: ``/api/v1/dashboards``, their share links and exports."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["dashboards"])
