"""HTTP routes of analytics, under Aicser's paths: questions and saved charts
(``/analytics``), key drivers and the engines on offer (``/ai``).

Routes are sync: a question reads a dataset through DuckDB, which runs in the
threadpool, and holds the ``analytics.query_timeout_s`` limit there.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from augury.analytics import providers, schemas, service, workflows
from augury.analytics.deps import AnalysisDep, ChartDep
from augury.analytics.models import AIProvider
from augury.analytics.workflow_schemas import WorkflowCreate
from augury.api.deps import MAX_ID, Admin, ObjectId, Reader, SessionDep, SettingsDep, Writer
from augury.api.pagination import Page, PageDep, make_page
from augury.jobs.schemas import JobRead
from augury.schemas import QueryDatetime

router = APIRouter()

ANSWER = {
    "description": "The answer: `question`, `columns`, `types`, `rows`, `chart` (a Vega-Lite "
    "v5 spec with the rows inline), `chart_type`, `insights`, `plan` and `words` (the plan "
    "in words), `confidence`, `engine`, `notes`; `dataset_id`, `version`, `elapsed_ms`, "
    "`generated_at`, `truncated`.",
}
CSV_JSON: dict[str, Any] = {"content": {"text/csv": {}, "application/json": {}}}


@router.post(
    "/analytics/chart",
    tags=["analytics"],
    responses={200: ANSWER, 201: {"description": "Answered and saved as a chart (`chart_id`)."}},
)
def ask(
    body: schemas.ChartCreate,
    principal: Reader,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> dict:
    """Answer a plain-English question about a dataset: the result table, the plan it
    ran (structured and in words, editable: send it back as `plan` to run it instead of
    the question), a Vega-Lite chart fitted to the answer, insights computed from the
    numbers and a confidence. A question it cannot read answers 422
    `QUESTION_NOT_UNDERSTOOD` with `details.reason` and `details.candidates` (columns).
    `save: true` (write permission) keeps it as a chart, answered 201 with `chart_id`.
    `engine` lets an LLM provider read the question instead (`auto`: the default
    provider, falling back to the parser; a provider's id: 502 `PROVIDER_ERROR` when it
    fails); its plan is checked against the dataset and run like any other."""
    result, saved = service.ask(session=session, principal=principal, settings=settings, body=body)
    if saved is not None:
        response.status_code = status.HTTP_201_CREATED
    return result


@router.get("/analytics/charts", tags=["analytics"], response_model=Page[schemas.ChartSummary])
def list_charts(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    query: Annotated[
        str | None, Query(max_length=200, description="In the question or the title.")
    ] = None,
    chart_type: Annotated[schemas.ChartType | None, Query()] = None,
    created_after: Annotated[QueryDatetime | None, Query()] = None,
    created_before: Annotated[QueryDatetime | None, Query()] = None,
    dataset_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    sort_by: Annotated[schemas.SortBy, Query()] = "created_at",
    sort_order: Annotated[Literal["asc", "desc"], Query()] = "desc",
):
    """The organization's saved charts, without their rows."""
    items, total = service.list_charts(
        session=session,
        org_id=principal.org_id,
        page=page,
        query=query,
        chart_type=chart_type,
        created_after=created_after,
        created_before=created_before,
        dataset_id=dataset_id,
        sort_by=sort_by,
        sort_order=sort_order,
    )
    return make_page([service.chart_fields(c) for c in items], total, page)


@router.get("/analytics/chart/{chart_id}", tags=["analytics"], responses={200: ANSWER})
def get_chart(chart: ChartDep, session: SessionDep, settings: SettingsDep) -> dict:
    """The saved chart, live: its plan rerun on the dataset's newest version (`version`
    says which). When the plan no longer runs there (a column it needs is gone), the
    answer as saved, with `error` saying why."""
    return service.live(session=session, settings=settings, chart=chart)


@router.put("/analytics/chart/{chart_id}", tags=["analytics"], response_model=schemas.ChartSummary)
def update_chart(
    body: schemas.ChartUpdate, principal: Writer, chart: ChartDep, session: SessionDep
):
    """Change the chart's title, options (theme, interactive, export formats) or type."""
    service.update_chart(session=session, principal=principal, chart=chart, body=body)
    return service.chart_fields(chart)


@router.delete(
    "/analytics/chart/{chart_id}", tags=["analytics"], status_code=status.HTTP_204_NO_CONTENT
)
def delete_chart(principal: Writer, chart: ChartDep, session: SessionDep):
    service.delete_chart(session=session, principal=principal, chart=chart)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/analytics/chart/{chart_id}/data", tags=["analytics"], responses={200: CSV_JSON})
def chart_data(
    chart: ChartDep,
    session: SessionDep,
    settings: SettingsDep,
    format: Annotated[Literal["csv", "json"], Query()] = "csv",
) -> Response:
    """The chart's rows (live, as `GET /analytics/chart/{id}` gives them) as a CSV or
    JSON file. Images (PNG, SVG, PDF) are rendered from the chart's spec by the UI."""
    body = service.live(session=session, settings=settings, chart=chart)
    media = "text/csv" if format == "csv" else "application/json"
    return Response(
        service.export_rows(body, format),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="chart-{chart.id}.{format}"'},
    )


@router.post("/ai/intelligent-analysis", tags=["ai"], response_model=schemas.AnalysisRead)
def intelligent_analysis(
    body: schemas.AnalysisCreate, principal: Reader, session: SessionDep, settings: SettingsDep
):
    """Key drivers: the dataset's other columns ranked by their measured influence on
    `target` (or the column the question names: "what drives sales?"): correlation,
    mutual information and the permutation importance of a cross-validated
    gradient-boosting model, with direction, impact and a confidence from resampling.
    Drivers below `options.confidence_threshold` are listed in `other_drivers`."""
    analysis = service.analyze(session=session, principal=principal, settings=settings, body=body)
    return service.analysis_body(analysis)


@router.get("/ai/intelligent-analysis", tags=["ai"], response_model=Page[schemas.AnalysisSummary])
def list_analyses(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    dataset_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
):
    """The organization's analyses, newest first, without their results."""
    items, total = service.list_analyses(
        session=session, org_id=principal.org_id, page=page, dataset_id=dataset_id
    )
    return make_page([service.analysis_fields(a) for a in items], total, page)


@router.get(
    "/ai/intelligent-analysis/{analysis_id}", tags=["ai"], response_model=schemas.AnalysisRead
)
def get_analysis(analysis: AnalysisDep):
    """An analysis as it was answered."""
    return service.analysis_body(analysis)


@router.get(
    "/ai/models",
    tags=["ai"],
    response_model=schemas.ModelsRead,
    response_model_exclude_unset=True,  # the provider-only fields stay off the parser's entry
)
def list_models(principal: Reader, session: SessionDep):
    """The engines that answer questions, with their capabilities and the accuracy and
    median response time the Ask benchmark measured; then the organization's LLM
    providers, with the median time of their recorded calls."""
    return {"available_models": service.models(session, principal.org_id)}


def _provider(provider_id: ObjectId, principal: Reader, session: SessionDep) -> AIProvider:
    return providers.get(session, principal.org_id, provider_id)


ProviderDep = Annotated[AIProvider, Depends(_provider)]


@router.get("/ai/providers", tags=["ai"], response_model=Page[schemas.ProviderRead])
def list_providers(principal: Reader, session: SessionDep, page: PageDep):
    """The organization's LLM providers (never their keys: `has_key`, `key_hint`)."""
    items, total = providers.list_page(session, principal.org_id, page)
    return make_page([providers.read(p) for p in items], total, page)


@router.post(
    "/ai/providers",
    tags=["ai"],
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.ProviderRead,
)
def create_provider(
    body: schemas.ProviderCreate, principal: Admin, session: SessionDep, settings: SettingsDep
):
    """Let an OpenAI-compatible endpoint read the organization's questions (admins). The
    key is stored encrypted and never returned; the base URL must be a public address
    unless the operator allows private ones. 409 for a name in use."""
    provider = providers.create(session, principal, settings, body)
    return providers.read(provider)


@router.get("/ai/providers/{provider_id}", tags=["ai"], response_model=schemas.ProviderRead)
def get_provider(provider: ProviderDep):
    return providers.read(provider)


@router.put("/ai/providers/{provider_id}", tags=["ai"], response_model=schemas.ProviderRead)
def update_provider(
    body: schemas.ProviderUpdate,
    principal: Admin,
    provider: ProviderDep,
    session: SessionDep,
    settings: SettingsDep,
):
    """Change what is given; `api_key: null` removes the key, leaving it out keeps it."""
    providers.update_provider(session, principal, settings, provider, body)
    return providers.read(provider)


@router.delete("/ai/providers/{provider_id}", tags=["ai"], status_code=status.HTTP_204_NO_CONTENT)
def delete_provider(principal: Admin, provider: ProviderDep, session: SessionDep):
    providers.delete_provider(session, principal, provider)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/ai/providers/{provider_id}/test", tags=["ai"], response_model=schemas.ProviderTestRead
)
def test_provider(
    principal: Admin, provider: ProviderDep, session: SessionDep, settings: SettingsDep
):
    """Ask the provider a fixed question ("total units by region") about a tiny built-in
    table: `ok` when a plan that fits the table came back, its `latency_ms`, or the
    `error` (unreachable, refused address, timeout, HTTP error, not a plan). The call
    counts in the provider's response time."""
    return providers.test(session, settings, provider)


@router.post(
    "/ai/workflow", tags=["ai"], status_code=status.HTTP_202_ACCEPTED, response_model=JobRead
)
def workflow(body: WorkflowCreate, principal: Writer, session: SessionDep, settings: SettingsDep):
    """Run a workflow (data preparation, trend analysis, forecasting steps) as an
    `analytics.workflow` job: its progress, logs and result at `GET /api/v1/jobs/{id}`,
    the datasets it read and saved at `/jobs/{id}/datasets`. Everything that can be
    checked before it runs (the step graph, datasets, columns) answers 422 or 404 now."""
    return workflows.start(session, principal, settings, body)
