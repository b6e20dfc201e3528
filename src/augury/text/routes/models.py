"""HTTP routes of a project's text models."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
