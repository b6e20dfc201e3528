"""Every domain router, mounted under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from augury.accounts.router import auth_router
from augury.accounts.router import router as accounts_router
from augury.api.system import router as system_router
from augury.audit.router import router as audit_router
from augury.jobs.router import router as jobs_router

api_router = APIRouter(prefix="/api/v1")
for r in (system_router, auth_router, accounts_router, jobs_router, audit_router):
    api_router.include_router(r)
