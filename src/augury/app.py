"""``create_app(settings)``: the FastAPI application with API, UI, docs and lifecycle.

With :mod:`augury.runtime.wiring` this is the composition root: the only place that
imports every domain's router (:data:`API_ROUTERS`, :data:`COMPAT_ROUTERS`) and starts
the background loops.
"""

from __future__ import annotations

import functools
import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry
from starlette.exceptions import HTTPException as StarletteHTTPException

from augury import __version__
from augury.accounts.router import auth_router
from augury.accounts.router import router as accounts_router
from augury.alerts.router import router as alerts_router
from augury.analytics.router import router as analytics_router
from augury.anomalies.router import router as anomalies_router
from augury.anomalies.routes.patterns import router as patterns_router
from augury.api import errors as api_errors
from augury.api.cors import CORSExceptSelfServed
from augury.api.middleware import BodyLimitMiddleware, MetricsMiddleware, RequestMetrics
from augury.api.prometheus import JobsCollector, StreamCollector
from augury.api.prometheus import router as prometheus_router
from augury.api.ratelimit import RateLimiter, RateLimitMiddleware
from augury.api.security import SecurityHeadersMiddleware, docs_csp
from augury.api.system import router as system_router
from augury.audit.router import router as audit_router
from augury.chat.router import router as chat_router
from augury.collectors.router import router as collectors_router
from augury.config import Settings
from augury.dashboards.router import router as dashboards_router
from augury.datasets.router import aicser_router as datasets_aicser_router
from augury.datasets.router import router as datasets_router
from augury.forecasts.router import router as forecasts_router
from augury.jobs.router import router as jobs_router
from augury.metrics.router import router as metrics_router
from augury.metrics.router import v2_router as metrics_v2_router
from augury.metrics.writer import MetricCache
from augury.notifications.router import router as notifications_router
from augury.predictive.router import router as predictive_router
from augury.runtime import wiring
from augury.runtime.jobs import JobRunner
from augury.runtime.loops import Every, Loop
from augury.runtime.stream_process import StreamProcess
from augury.search.router import router as search_router
from augury.store import migrate
from augury.store.db import Database
from augury.text.router import router as text_router
from augury.usage.middleware import UsageMiddleware
from augury.usage.recorder import FLUSH_EVERY_S, UsageRecorder
from augury.usage.router import router as usage_router
from augury.web.router import html_not_found
from augury.web.router import router as web_router
from augury.webhooks.router import router as webhooks_router

log = logging.getLogger("augury")

API_ROUTERS = (
    system_router,
    auth_router,
    accounts_router,
    jobs_router,
    audit_router,
    # anomalies and usage before metrics: /metrics/learning and /metrics/platform must not
    # be read as /metrics/{metric_id}.
    anomalies_router,
    patterns_router,
    usage_router,
    alerts_router,
    forecasts_router,
    metrics_router,
    datasets_router,
    analytics_router,
    text_router,
    predictive_router,
    notifications_router,
    search_router,
    webhooks_router,
    dashboards_router,
    chat_router,
    collectors_router,
)
"""Every domain's routes under /api/v1, in the order they are matched."""

STREAMED_UPLOADS = frozenset(
    {
        "/api/v1/datasets",
        "/api/v1/data/upload",
        "/api/v1/text/projects/{project_id}/files",
        "/api/v1/text/projects/{project_id}/models/upload",
        "/api/v1/models/{model_id}/versions/upload",
        "/api/v1/chat/use-cases/{use_case_id}/knowledge/files",
    }
)
"""Routes that stream their body to disk under their own limit (``datasets.max_upload_bytes``);
``{name}`` stands for one path segment."""

COMPAT_ROUTERS = (metrics_v2_router, datasets_aicser_router)
"""Paths other products' senders and clients use (InfluxDB /api/v2/write, Anodot ...)."""

OPENAPI_URL = "/api/v1/openapi.json"
WEB_STATIC = Path(__file__).parent / "web" / "static"
DOCS_STATIC = Path(fastapi_offline.__file__).parent / "static"

DESCRIPTION = """
augury's REST API. Authenticate with `Authorization: Bearer <access token or API key>`
(`X-Auth-Token: <API key>` also works; ingestion routes accept `?token=<API key>`).

Errors always have the shape `{"error": {"code", "message", "details"}}`; lists take
`?offset=&limit=` and answer `{"items", "total", "offset", "limit", "has_more"}`.
"""


@functools.cache
def _api_router() -> APIRouter:
    """:data:`API_ROUTERS` under /api/v1, built once per process: FastAPI analyses each
    route's dependencies as routers are included, which an app made per test (or per
    worker) need not pay for again."""
    api_router = APIRouter(prefix="/api/v1")
    for router in API_ROUTERS:
        api_router.include_router(router)
    return api_router


def _operation_id(route: APIRoute) -> str:
    # Stable, readable ids ("list_jobs") for generated clients.
    return route.name


def _templates(app: FastAPI) -> dict[str, str]:
    """Operation id (= endpoint function name) -> path template, for metric labels."""
    return {
        op["operationId"]: path
        for path, methods in app.openapi()["paths"].items()
        for op in methods.values()
        if "operationId" in op
    }


def create_app(settings: Settings | None = None, *, run_jobs: bool | None = None) -> FastAPI:
    settings = settings or Settings()
    wiring.install()
    db = Database(settings.db_url)
    run_jobs = settings.jobs.enabled if run_jobs is None else run_jobs

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        migrate.upgrade(db.engine)
        wiring.fill_search_index(db)
        if settings.demo:
            from augury.demo import seed_demo

            seed_demo(db, settings)
        loops: list[Loop] = []
        if run_jobs:
            # The job runner first (it recovers jobs a crash left running), stopped last.
            loops.append(JobRunner(settings, db))
            if settings.metrics.processor == "process":
                loops.append(StreamProcess(settings, db.url))
            else:
                loops.append(app.state.stream)
            loops.append(wiring.dispatch_loop(app.state.dispatcher))
            loops.append(wiring.collector_loop(db, settings, cache=app.state.metric_cache))
        app.state.runner = loops[0] if loops else None
        # Usage is counted whether or not this server runs jobs; stopped, it writes the rest.
        usage = functools.partial(app.state.usage.flush, db)
        loops.append(Every("usage", usage, FLUSH_EVERY_S, on_close=usage))
        app.state.loops = loops
        for loop in loops:
            loop.start()
        try:
            yield
        finally:
            for loop in reversed(loops):
                loop.stop()
            db.dispose()

    app = FastAPI(
        title="augury",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.runner = None
    app.state.loops = []
    app.state.metric_cache = MetricCache()
    app.state.stream = wiring.stream_processor(db, settings)
    app.state.dispatcher = wiring.dispatcher(db, settings)
    app.state.usage = UsageRecorder()
    registry = CollectorRegistry()
    registry.register(JobsCollector(db))
    registry.register(StreamCollector(db))
    app.state.registry = registry

    api_errors.install(app)
    # Unknown pages answer the HTML 404 page to browsers; the API keeps its JSON 404.
    app.add_exception_handler(
        StarletteHTTPException, html_not_found(app.exception_handlers[StarletteHTTPException])
    )
    app.include_router(_api_router())
    for compat in COMPAT_ROUTERS:
        app.include_router(compat)
    app.include_router(prometheus_router)

    def with_docs_csp(page):
        page.headers["Content-Security-Policy"] = docs_csp(page.body)
        return page

    @app.get("/api/v1/docs", include_in_schema=False)
    def swagger_ui():
        return with_docs_csp(
            get_swagger_ui_html(
                openapi_url=OPENAPI_URL,
                title="augury API",
                swagger_js_url="/static/docs/swagger-ui-bundle.js",
                swagger_css_url="/static/docs/swagger-ui.css",
                swagger_favicon_url="/static/favicon.svg",
            )
        )

    @app.get("/api/v1/redoc", include_in_schema=False)
    def redoc():
        return with_docs_csp(
            get_redoc_html(
                openapi_url=OPENAPI_URL,
                title="augury API",
                redoc_js_url="/static/docs/redoc.standalone.js",
                with_google_fonts=False,
                redoc_favicon_url="/static/favicon.svg",
            )
        )

    app.mount("/static/docs", StaticFiles(directory=DOCS_STATIC), name="docs-static")
    app.mount("/static", StaticFiles(directory=WEB_STATIC), name="static")
    app.include_router(web_router)

    # Outermost first: metrics see every answer, limits apply before any body is read.
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, streamed=STREAMED_UPLOADS
    )
    app.add_middleware(RateLimitMiddleware, limiter=RateLimiter(settings.ratelimit))
    app.add_middleware(
        MetricsMiddleware, metrics=RequestMetrics(registry), templates=lambda: _templates(app)
    )
    app.add_middleware(UsageMiddleware, recorder=app.state.usage)
    if settings.cors_origins:
        # Exact origins only; tokens travel in headers, so no credentials (cookies).
        app.add_middleware(
            CORSExceptSelfServed,
            options=dict(
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=["Authorization", "Content-Type", "Content-Encoding", "X-Auth-Token"],
                expose_headers=[
                    "Retry-After",
                    "X-RateLimit-Limit",
                    "X-RateLimit-Remaining",
                    "X-RateLimit-Reset",
                ],
                max_age=600,
            ),
        )
    # Outermost: every answer gets them, those of the middlewares above included.
    app.add_middleware(SecurityHeadersMiddleware)
    log.debug("app created (pid %s, db %s)", os.getpid(), db.url)
    return app
