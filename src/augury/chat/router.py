"""HTTP routes of chat under ``/api/v1/chat/…``: the route modules of ``routes/``,
gathered into one router for the composition root."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/chat", tags=["chat"])
