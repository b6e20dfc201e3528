"""``create_app(settings)``: the FastAPI application with API, UI, docs and lifecycle."""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware

from augury import __version__
from augury.alerts.dispatch import Dispatcher
from augury.api import errors as api_errors
from augury.api.middleware import BodyLimitMiddleware, MetricsMiddleware, RequestMetrics
from augury.api.prometheus import JobsCollector, StreamCollector
from augury.api.prometheus import router as prometheus_router
from augury.api.ratelimit import RateLimiter, RateLimitMiddleware
from augury.api.routes import api_router, compat_routers
from augury.api.security import SecurityHeadersMiddleware, docs_csp
from augury.config import Settings
from augury.metrics.stream import StreamProcessor
from augury.metrics.writer import MetricCache
from augury.runtime.jobs import JobRunner
from augury.runtime.stream_process import StreamProcess
from augury.store import migrate
from augury.store.db import Database
from augury.web.router import html_not_found
from augury.web.router import router as web_router

log = logging.getLogger("augury")

WEB_STATIC = Path(__file__).parent / "web" / "static"
DOCS_STATIC = Path(fastapi_offline.__file__).parent / "static"

DESCRIPTION = """
augury's REST API. Authenticate with `Authorization: Bearer <access token or API key>`
(`X-Auth-Token: <API key>` also works; ingestion routes accept `?token=<API key>`).

Errors always have the shape `{"error": {"code", "message", "details"}}`; lists take
`?offset=&limit=` and answer `{"items", "total", "offset", "limit", "has_more"}`.
"""


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
    db = Database(settings.db_url)
    run_jobs = settings.jobs.enabled if run_jobs is None else run_jobs

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        migrate.upgrade(db.engine)
        if settings.demo:
            from augury.demo import seed_demo

            seed_demo(db, settings)
        runner = JobRunner(settings, db) if run_jobs else None
        app.state.runner = runner
        stream = None
        if runner is not None:
            runner.start()
            if settings.metrics.processor == "process":
                stream = StreamProcess(settings, db.url)
            else:
                stream = app.state.stream
            stream.start()
            app.state.dispatcher.start()
        try:
            yield
        finally:
            if runner is not None:
                app.state.dispatcher.stop()
            if stream is not None:
                stream.stop()
            if runner is not None:
                runner.stop()
            db.dispose()

    app = FastAPI(
        title="augury",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.runner = None
    app.state.metric_cache = MetricCache()
    app.state.stream = StreamProcessor.from_settings(db, settings)
    app.state.dispatcher = Dispatcher(db, settings)
    registry = CollectorRegistry()
    registry.register(JobsCollector(db))
    registry.register(StreamCollector(db))
    app.state.registry = registry

    api_errors.install(app)
    # Unknown pages answer the HTML 404 page to browsers; the API keeps its JSON 404.
    app.add_exception_handler(
        StarletteHTTPException, html_not_found(app.exception_handlers[StarletteHTTPException])
    )
    app.include_router(api_router)
    for compat in compat_routers:
        app.include_router(compat)
    app.include_router(prometheus_router)

    def with_docs_csp(page):
        page.headers["Content-Security-Policy"] = docs_csp(page.body)
        return page

    @app.get("/api/v1/docs", include_in_schema=False)
    def swagger_ui():
        return with_docs_csp(
            get_swagger_ui_html(
                openapi_url=app.openapi_url,
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
                openapi_url=app.openapi_url,
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
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RateLimitMiddleware, limiter=RateLimiter(settings.ratelimit))
    app.add_middleware(
        MetricsMiddleware, metrics=RequestMetrics(registry), templates=lambda: _templates(app)
    )
    if settings.cors_origins:
        # Exact origins only; tokens travel in headers, so no credentials (cookies).
        app.add_middleware(
            CORSMiddleware,
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
        )
    # Outermost: every answer gets them, those of the middlewares above included.
    app.add_middleware(SecurityHeadersMiddleware)
    log.debug("app created (pid %s, db %s)", os.getpid(), db.url)
    return app
