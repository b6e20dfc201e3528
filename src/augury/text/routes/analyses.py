"""HTTP routes of a project's text analyses."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
