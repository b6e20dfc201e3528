"""HTTP routes: see the module's docstring once written."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
