"""The web UI: server-rendered pages that call the REST API from a little JavaScript.

Every page answers HTML to any visitor: the pages hold no data. Each page loads its own
native ES module, ``static/js/pages/<page>.js`` (no bundler, no build step), which with
the shared modules beside it keeps the tokens in ``localStorage``, sends people without
a valid login to ``/login`` and fills the page from ``/api/v1``. Scripts, styles and
icons all come from this package, so the UI works with no network beyond augury itself.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from augury import __version__

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")

STATIC = Path(__file__).parent / "static"

MODULES_URL = f"/static-{__version__}"
"""Where the pages load their scripts from: ``static/`` again, under this version.

The modules import each other by relative URL, which keeps the directory but drops a
query string: a ``?v=`` on the page's module would not reach the modules it imports.
With the version in the path, every module of a release has URLs of its own, so a
browser never mixes cached modules of an older release with a newer page. (It cannot
live under ``/static/``, which the app's ``/static`` mount answers first.)
"""

router = APIRouter(include_in_schema=False)
router.mount(MODULES_URL, StaticFiles(directory=STATIC), name="modules")

# /metrics itself is Prometheus' scrape endpoint, so the Metrics section lives under
# /metrics/explore.
SECTION_PATHS = {
    "metrics": "/metrics/explore",
    "anomalies": "/anomalies",
    "forecasts": "/forecasts",
    "alerts": "/alerts",
    "data": "/data",
}

SETTINGS_TABS = [
    ("members", "Members"),
    ("invitations", "Invitations"),
    ("api-keys", "API keys"),
    ("webhooks", "Webhooks"),
    ("audit", "Audit log"),
    ("organization", "Organization"),
    ("usage", "Usage"),
    ("preferences", "Preferences"),
]


def _page(request: Request, template: str, page: str, title: str, **context) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "version": __version__,
            "page": page,
            "modules": MODULES_URL,
            "title": title,
            "section_paths": SECTION_PATHS,
            "settings_tabs": SETTINGS_TABS,
            **context,
        },
    )


def html_not_found(api_handler):
    """Wrap the API's HTTP error handler: a browser asking for an unknown page outside
    /api/ gets the HTML 404 page (status 404); everything else keeps the JSON envelope."""

    async def handler(request: Request, exc) -> Response:
        path = request.url.path
        wants_html = "text/html" in request.headers.get("accept", "")
        if (
            exc.status_code == 404
            and wants_html
            and request.method in ("GET", "HEAD")
            and not path.startswith(("/api/", "/static/"))
        ):
            response = _page(request, "not_found.html", "not-found", "Page not found", path=path)
            response.status_code = 404
            return response
        return await run_handler(api_handler, request, exc)

    return handler


async def run_handler(handler, request: Request, exc) -> Response:
    out = handler(request, exc)
    return await out if hasattr(out, "__await__") else out


# --- pages for people not logged in --------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request):
    return _page(request, "login.html", "login", "Log in")


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request):
    return _page(request, "signup.html", "signup", "Sign up")


@router.get("/forgot-password", response_class=HTMLResponse)
def forgot_password_page(request: Request):
    return _page(request, "forgot_password.html", "forgot-password", "Forgot password")


@router.get("/reset-password", response_class=HTMLResponse)
def reset_password_page(request: Request):
    return _page(request, "reset_password.html", "reset-password", "Choose a new password")


@router.get("/accept-invitation", response_class=HTMLResponse)
def accept_invitation_page(request: Request):
    return _page(request, "accept_invitation.html", "accept-invitation", "Join an organization")


# --- the app ----------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def home(request: Request):
    return _page(request, "home.html", "home", "Overview", section="home")


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request):
    return _page(request, "jobs.html", "jobs", "Jobs", section="jobs")


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: int):
    return _page(request, "job.html", "job", f"Job #{job_id}", section="jobs", job_id=job_id)


@router.get("/metrics/explore", response_class=HTMLResponse)
def metrics_page(request: Request):
    return _page(request, "metrics.html", "metrics", "Metrics", section="metrics")


@router.get("/metrics/explore/{metric_id}", response_class=HTMLResponse)
def metric_page(request: Request, metric_id: int):
    return _page(
        request,
        "metric.html",
        "metric",
        f"Metric #{metric_id}",
        section="metrics",
        metric_id=metric_id,
    )


@router.get("/anomalies", response_class=HTMLResponse)
def anomalies_page(request: Request):
    return _page(request, "anomalies.html", "anomalies", "Anomalies", section="anomalies")


@router.get("/anomalies/{anomaly_id}", response_class=HTMLResponse)
def anomaly_page(request: Request, anomaly_id: int):
    return _page(
        request,
        "anomaly.html",
        "anomaly",
        f"Anomaly #{anomaly_id}",
        section="anomalies",
        anomaly_id=anomaly_id,
    )


@router.get("/forecasts", response_class=HTMLResponse)
def forecasts_page(request: Request):
    return _page(request, "forecasts.html", "forecasts", "Forecasts", section="forecasts")


@router.get("/forecasts/{task_id}", response_class=HTMLResponse)
def forecast_page(request: Request, task_id: int):
    return _page(
        request,
        "forecast.html",
        "forecast",
        f"Forecast #{task_id}",
        section="forecasts",
        task_id=task_id,
    )


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request):
    return _page(request, "alerts.html", "alerts", "Alerts", section="alerts")


@router.get("/alerts/new", response_class=HTMLResponse)
def alert_new_page(request: Request):
    return _page(
        request, "alert_form.html", "alert-form", "New alert", section="alerts", config_id=None
    )


@router.get("/alerts/{config_id}/edit", response_class=HTMLResponse)
def alert_edit_page(request: Request, config_id: int):
    return _page(
        request,
        "alert_form.html",
        "alert-form",
        "Edit alert",
        section="alerts",
        config_id=config_id,
    )


@router.get("/alerts/triggered/{trigger_id}", response_class=HTMLResponse)
def alert_triggered_page(request: Request, trigger_id: int):
    return _page(
        request,
        "alert_triggered.html",
        "alert-triggered",
        f"Alert #{trigger_id}",
        section="alerts",
        trigger_id=trigger_id,
    )


@router.get("/data", response_class=HTMLResponse)
def data_page(request: Request):
    return _page(request, "data.html", "data", "Data", section="data")


@router.get("/data/{dataset_id}", response_class=HTMLResponse)
def dataset_page(request: Request, dataset_id: int):
    return _page(
        request,
        "dataset.html",
        "dataset",
        f"Dataset #{dataset_id}",
        section="data",
        dataset_id=dataset_id,
    )


@router.get("/ask", response_class=HTMLResponse)
def ask_page(request: Request):
    return _page(request, "ask.html", "ask", "Ask", section="ask")


@router.get("/charts", response_class=HTMLResponse)
def charts_page(request: Request):
    return _page(request, "charts.html", "charts", "Saved charts", section="ask")


@router.get("/dashboards", response_class=HTMLResponse)
def dashboards_page(request: Request):
    return _page(request, "dashboards.html", "dashboards", "Dashboards", section="dashboards")


@router.get("/dashboards/{dashboard_id}", response_class=HTMLResponse)
def dashboard_page(request: Request, dashboard_id: int):
    return _page(
        request,
        "dashboard.html",
        "dashboard",
        f"Dashboard #{dashboard_id}",
        section="dashboards",
        dashboard_id=dashboard_id,
    )


@router.get("/share/dashboards/{token}", response_class=HTMLResponse)
def shared_dashboard_page(request: Request, token: str):
    """A dashboard through its read-only link: no login, no app frame, and it may be
    shown in another site's iframe (the security headers allow framing /share/ only)."""
    return _page(request, "shared_dashboard.html", "shared-dashboard", "Dashboard", token=token)


# --- collectors: the data sources and streams, the stream builder, a stream's page ---


@router.get("/collect", response_class=HTMLResponse)
def collect_page(request: Request):
    return _page(request, "collect/sources.html", "collect", "Collectors", section="collect")


# Before /collect/streams/{stream_id}, which would take "new" for an id.
@router.get("/collect/streams/new", response_class=HTMLResponse)
def collect_stream_new_page(request: Request):
    return _page(
        request,
        "collect/stream_new.html",
        "collect-stream-new",
        "New data stream",
        section="collect",
    )


@router.get("/collect/streams/{stream_id}", response_class=HTMLResponse)
def collect_stream_page(request: Request, stream_id: int):
    return _page(
        request,
        "collect/stream.html",
        "collect-stream",
        f"Data stream #{stream_id}",
        section="collect",
        stream_id=stream_id,
    )


# --- chatbots: the use cases, one use case, the live console, the widget's own page ---


@router.get("/chat", response_class=HTMLResponse)
def chat_use_cases_page(request: Request):
    return _page(request, "chat/use_cases.html", "chat-use-cases", "Chatbots", section="chat")


# Before /chat/{use_case_id}, which would take "live" for an id.
@router.get("/chat/live", response_class=HTMLResponse)
def chat_live_page(request: Request):
    return _page(request, "chat/live.html", "chat-live", "Live chats", section="chat")


@router.get("/chat/{use_case_id}", response_class=HTMLResponse)
def chat_use_case_page(request: Request, use_case_id: int):
    return _page(
        request,
        "chat/use_case.html",
        "chat-use-case",
        f"Chatbot #{use_case_id}",
        section="chat",
        use_case_id=use_case_id,
    )


@router.get("/chat/widget/{public_hash}", response_class=HTMLResponse)
def chat_widget_page(request: Request, public_hash: str):
    """A chatbot's widget full-page, for a direct link: no login, no app frame."""
    return _page(request, "chat/widget.html", "chat-widget", "Chat", hash=public_hash)


# --- text projects: the projects, one project's tabs, a session, the annotator view, a
# model's report, an analysis's results ---


@router.get("/text", response_class=HTMLResponse)
def text_projects_page(request: Request):
    return _page(request, "text_projects.html", "text-projects", "Text projects", section="text")


@router.get("/text/projects/{project_id}", response_class=HTMLResponse)
def text_project_page(request: Request, project_id: int):
    return _page(
        request,
        "text_project.html",
        "text-project",
        f"Text project #{project_id}",
        section="text",
        project_id=project_id,
    )


@router.get("/text/projects/{project_id}/sessions/{session_id}", response_class=HTMLResponse)
def text_session_page(request: Request, project_id: int, session_id: int):
    return _page(
        request,
        "text_session.html",
        "text-session",
        f"Session #{session_id}",
        section="text",
        project_id=project_id,
        session_id=session_id,
    )


@router.get(
    "/text/projects/{project_id}/sessions/{session_id}/annotate", response_class=HTMLResponse
)
def text_annotate_page(request: Request, project_id: int, session_id: int):
    return _page(
        request,
        "text_annotate.html",
        "text-annotate",
        f"Labeling · session #{session_id}",
        section="text",
        project_id=project_id,
        session_id=session_id,
    )


@router.get("/text/projects/{project_id}/models/{model_id}", response_class=HTMLResponse)
def text_model_page(request: Request, project_id: int, model_id: int):
    return _page(
        request,
        "text_model.html",
        "text-model",
        f"Model #{model_id}",
        section="text",
        project_id=project_id,
        model_id=model_id,
    )


@router.get("/text/projects/{project_id}/analyses/{analysis_id}", response_class=HTMLResponse)
def text_analysis_page(request: Request, project_id: int, analysis_id: int):
    return _page(
        request,
        "text_analysis.html",
        "text-analysis",
        f"Analysis #{analysis_id}",
        section="text",
        project_id=project_id,
        analysis_id=analysis_id,
    )


# --- predictive models: the applications and models, training one, a model's page ---


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request):
    return _page(request, "models.html", "models", "Models", section="models")


# Before /models/{model_id}, which would take "new" for an id.
@router.get("/models/new", response_class=HTMLResponse)
def model_new_page(request: Request):
    return _page(request, "model_new.html", "model-new", "Train a model", section="models")


@router.get("/models/{model_id}", response_class=HTMLResponse)
def model_page(request: Request, model_id: int):
    return _page(
        request,
        "model.html",
        "model",
        f"Model #{model_id}",
        section="models",
        model_id=model_id,
    )


@router.get("/settings", response_class=RedirectResponse)
def settings_home():
    return RedirectResponse("/settings/members", status_code=307)


def _settings_route(tab: str, label: str):
    def page(request: Request):
        return _page(
            request,
            f"settings/{tab.replace('-', '_')}.html",
            f"settings-{tab}",
            label,
            section="settings",
            tab=tab,
        )

    page.__name__ = f"settings_{tab.replace('-', '_')}_page"
    router.add_api_route(f"/settings/{tab}", page, methods=["GET"], response_class=HTMLResponse)


for _tab, _label in SETTINGS_TABS:
    _settings_route(_tab, _label)
