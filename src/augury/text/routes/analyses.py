"""HTTP routes of a project's text analyses: ad-hoc (`POST .../analyze`, nothing
stored) and batch (a job), with their results, aggregates and exports."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from augury.api.deps import Authenticated, ObjectId, SessionDep, SettingsDep
from augury.api.pagination import Page, PageDep, make_page
from augury.datasets.deps import safe_file_name
from augury.engines.tabular.export import content_type
from augury.text.deps import ProjectManager, ProjectViewer
from augury.text.routes.documents import ClassValues, LabelValues
from augury.text.schemas.analyses import (
    AdhocRead,
    AdhocRequest,
    AggregatesRead,
    AnalysisCreate,
    AnalysisCreated,
    AnalysisRead,
    AnalysisUpdate,
    ResultRead,
)
from augury.text.services import analyses

router = APIRouter()

ANALYSES = "/projects/{project_id}/analyses"
ANALYSIS = ANALYSES + "/{analysis_id}"
Confidence = Annotated[float | None, Query(ge=0.0, le=1.0)]


@router.post(
    "/projects/{project_id}/analyze", response_model=AdhocRead, response_model_by_alias=True
)
def analyze_text(
    body: AdhocRequest, project: ProjectViewer, session: SessionDep, settings: SettingsDep
):
    """Analyze up to 100 documents now (`documents`, or the shorthand `texts`): each is
    split into segments (the project's segmentation, or `segmentation`) and every
    segment gets tags with confidences. The model is `model_id`, else the project's
    active model, else zero-shot from the classes' (labels') descriptions and examples
    (CLASS and LABEL projects with two or more; others answer 422 NEEDS_MODEL). ABSA
    documents with `aspects` get those categories' sentiment only. Nothing is stored."""
    return analyses.analyze(session, settings, project, body)


@router.post(
    ANALYSES,
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AnalysisCreated,
)
def create_text_analysis(
    body: AnalysisCreate,
    project: ProjectManager,
    principal: Authenticated,
    session: SessionDep,
    settings: SettingsDep,
):
    """Start a batch analysis of a group (`group_id`), an uploaded file's column
    (`file_id` + `column`) or a dataset's (`dataset_id` + `column`, + `version`): a
    `text.analyze` job with progress. A file's or dataset's rows become documents of
    the project (source `analysis`, other columns kept as meta; `id_column` names your
    ids); `time_column` says when each text was written (for the aggregates over time).
    With `review` (the default) low-confidence results go to the project's review queue
    when one is configured."""
    analysis, job = analyses.create(session, principal, settings, project, body)
    session.flush()
    return {"analysis": analyses.read_many(session, [analysis])[0], "job_id": job.id}


@router.get(ANALYSES, response_model=Page[AnalysisRead])
def list_text_analyses(
    project: ProjectViewer,
    session: SessionDep,
    page: PageDep,
    model_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
):
    """The project's analyses, newest first; `model_id` keeps one model's."""
    rows, total = analyses.list_page(session, project, page, model_id=model_id)
    return make_page(analyses.read_many(session, rows), total, page)


@router.get(ANALYSIS, response_model=AnalysisRead)
def get_text_analysis(analysis_id: ObjectId, project: ProjectViewer, session: SessionDep):
    """An analysis: its status and progress, source, model, and what it counted
    (documents, segments, results sent to review)."""
    return analyses.read_many(session, [analyses.get(session, project, analysis_id)])[0]


@router.patch(ANALYSIS, response_model=AnalysisRead)
def update_text_analysis(
    analysis_id: ObjectId,
    body: AnalysisUpdate,
    project: ProjectManager,
    principal: Authenticated,
    session: SessionDep,
):
    """Rename an analysis."""
    analysis = analyses.get(session, project, analysis_id)
    analyses.update_analysis(session, principal, analysis, body)
    return analyses.read_many(session, [analysis])[0]


@router.post(f"{ANALYSIS}/abort", response_model=AnalysisRead)
def abort_text_analysis(
    analysis_id: ObjectId, project: ProjectManager, principal: Authenticated, session: SessionDep
):
    """Stop a queued or running analysis; what it wrote (results, documents it added,
    review items) is removed. 409 once it has ended."""
    analysis = analyses.get(session, project, analysis_id)
    analyses.abort(session, principal, analysis)
    return analyses.read_many(session, [analysis])[0]


@router.delete(ANALYSIS, status_code=status.HTTP_204_NO_CONTENT)
def delete_text_analysis(
    analysis_id: ObjectId, project: ProjectManager, principal: Authenticated, session: SessionDep
):
    """Delete an analysis and its results; the documents stay in the project. A
    running analysis is aborted first."""
    analyses.delete_analysis(session, principal, analyses.get(session, project, analysis_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(f"{ANALYSIS}/results", response_model=Page[ResultRead], response_model_by_alias=True)
def list_text_analysis_results(
    analysis_id: ObjectId,
    project: ProjectViewer,
    session: SessionDep,
    page: PageDep,
    class_: ClassValues = None,
    label: LabelValues = None,
    min_confidence: Confidence = None,
    max_confidence: Confidence = None,
    q: Annotated[str | None, Query(max_length=1000, description="Text in the segment.")] = None,
):
    """The analysis's results (a segment each: its text, span, tags and confidence), in
    document order: `class` and `label` (names or ids, repeatable) keep results with such
    a tag, `min_confidence`/`max_confidence` bound the confidence (the least of its tags'),
    `q` keeps segments containing the text (any case)."""
    analysis = analyses.get(session, project, analysis_id)
    items, total = analyses.results_page(
        session,
        analysis,
        page,
        classes=class_ or (),
        labels=label or (),
        min_confidence=min_confidence,
        max_confidence=max_confidence,
        q=q,
    )
    return make_page(items, total, page)


@router.get(f"{ANALYSIS}/aggregates", response_model=AggregatesRead, response_model_by_alias=True)
def get_text_analysis_aggregates(
    analysis_id: ObjectId,
    project: ProjectViewer,
    session: SessionDep,
    period: Literal["day", "week", "month"] = "day",
):
    """Tag counts per class and label (an ABSA label is the sentiment): in all
    (`totals`) and per `period` of the texts' time (`series`; a week starts on Monday)."""
    analysis = analyses.get(session, project, analysis_id)
    return analyses.aggregates(session, project, analysis, period)


@router.get(
    f"{ANALYSIS}/export",
    response_class=FileResponse,
    responses={200: {"content": {content_type(f): {} for f in analyses.EXPORT_FORMATS}}},
)
def export_text_analysis_results(
    analysis_id: ObjectId,
    project: ProjectViewer,
    session: SessionDep,
    settings: SettingsDep,
    format: Annotated[Literal["csv", "jsonl", "xlsx"], Query()] = "csv",
):
    """The results as CSV, JSONL or XLSX, a row per tag: `result_id`, `document_id`,
    `external_id`, `segment_id`, `text`, `start`, `end`, `class`, `label`, `confidence`,
    `segment_confidence`, `occurred_at`."""
    analysis = analyses.get(session, project, analysis_id)
    path = analyses.export(session, settings, analysis, format)
    return FileResponse(
        path,
        media_type=content_type(format),
        filename=safe_file_name(f"{analysis.name}.{format}") or f"analysis-{analysis.id}.{format}",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )
