"""Every domain router: most under /api/v1, wire-compatible ones at their own paths."""

from __future__ import annotations

from fastapi import APIRouter

from augury.accounts.router import auth_router
from augury.accounts.router import router as accounts_router
from augury.alerts.router import router as alerts_router
from augury.anomalies.router import router as anomalies_router
from augury.api.system import router as system_router
from augury.audit.router import router as audit_router
from augury.forecasts.router import router as forecasts_router
from augury.jobs.router import router as jobs_router
from augury.metrics.router import router as metrics_router
from augury.metrics.router import v2_router as metrics_v2_router

api_router = APIRouter(prefix="/api/v1")
# anomalies before metrics: /metrics/learning must not be read as /metrics/{metric_id}.
routers = (system_router, auth_router, accounts_router, jobs_router, audit_router)
for r in (*routers, anomalies_router, alerts_router, forecasts_router, metrics_router):
    api_router.include_router(r)

# Paths other products' senders and clients use (InfluxDB /api/v2/write, Anodot /api/v2/...).
compat_routers = (metrics_v2_router,)
