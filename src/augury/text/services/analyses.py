"""Analyses: a model reads texts and tags their segments.

An **ad-hoc** analysis (:func:`analyze`) reads at most :data:`MAX_ADHOC_DOCUMENTS`
documents in the request and stores nothing. A **batch** analysis (:func:`create`) is
a :class:`~augury.text.models.TextAnalysis` row and a ``text.analyze`` job
(:class:`BatchAnalysis`) that reads a source: a group of the project's documents, or
an uploaded file's or a dataset's column, whose rows it first adds to the project as
documents (source ``analysis``), so they can be opened, searched and filtered by
analysis like any other. The job predicts :data:`BATCH` segments at a time, outside any
transaction (SQLite has one writer), then writes their results and one tag row per
tag in one transaction; tag rows are what results filter and aggregate by in SQL.
When it fails or is aborted it removes what it wrote: its results, its review items
and the documents it added. Low-confidence results go to the project's human review
queue (:func:`augury.text.services.review.submit`) once every segment is read, so a
failed analysis leaves nobody work to do.

Each result's ``confidence`` is the least of its tags' (a CLASS model's top
probability), what review thresholds and the confidence filters compare. Its
``occurred_at`` is when the text was written, read from the source's time column
(:func:`parse_time`), else when its document was added.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Date, cast, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.config import Settings
from augury.datasets import service as datasets_service
from augury.datasets.storage import storage_for
from augury.engines.tabular.export import XLSX_MAX_CELL, XLSX_MAX_ROWS, escape_cell
from augury.engines.text.segment import split
from augury.errors import AuguryError, Conflict, NotFound, ValidationFailed
from augury.jobs import service as jobs_service
from augury.jobs.models import Job, JobStatus
from augury.jobs.types import ended_by_abort
from augury.notifications.service import notify
from augury.store.pagination import PageParams, paginate
from augury.text.models import (
    AnalysisStatus,
    ProjectType,
    TextAnalysis,
    TextAnalysisResult,
    TextAnalysisTag,
    TextClass,
    TextDocument,
    TextGroupDocument,
    TextLabel,
    TextModelVersion,
    TextProject,
    TextReviewItem,
    TextSegment,
)
from augury.text.schemas.analyses import (
    MAX_ADHOC_DOCUMENTS,
    AdhocRequest,
    AnalysisCreate,
    AnalysisUpdate,
)
from augury.text.schemas.documents import Column, SourceOptions
from augury.text.services import documents, files, groups, review
from augury.text.services.predictors import Prediction, Predictor, predictor_for

JOB_TYPE = "text.analyze"
BATCH = 500
"""Segments per model call and per write transaction."""
MAX_ADHOC_CHARS = 1_000_000
"""Characters one ad-hoc call may carry in all (ten 100,000-character documents):
what a model reads in seconds; more belongs in a batch analysis."""
DOC_CHUNK = 1_000
"""Document ids per ``IN (...)`` lookup."""
PERIODS = ("day", "week", "month")
EXPORT_FORMATS = ("csv", "jsonl", "xlsx")
EXPORT_COLUMNS = (
    "result_id",
    "document_id",
    "external_id",
    "segment_id",
    "text",
    "start",
    "end",
    "class",
    "label",
    "confidence",
    "segment_confidence",
    "occurred_at",
)
"""An export's columns: one row per tag (a segment without tags has one row with no
class and label), so a spreadsheet pivots aspects and sentiments directly."""
ZERO_SHOT = "zero-shot"


# --- vocabulary and models -----------------------------------------------------------------


@dataclass
class Vocabulary:
    """The project's class and label names by id, in display order."""

    classes: dict[int, str]
    labels: dict[int, str]

    def named(self, tag: dict) -> dict:
        """A predicted tag (ids) with its class and label names."""
        class_id, label_id = tag.get("class_id"), tag.get("label_id")
        confidence = tag.get("confidence")
        return {
            "class": self.classes.get(class_id) if class_id is not None else None,
            "class_id": class_id,
            "label": self.labels.get(label_id) if label_id is not None else None,
            "label_id": label_id,
            "confidence": None if confidence is None else round(float(confidence), 4),
        }


def vocabulary(session: Session, project: TextProject) -> Vocabulary:
    def names(table: Any) -> dict[int, str]:
        rows = session.execute(
            select(table.id, table.name)
            .where(table.project_id == project.id)
            .order_by(table.position, table.id)
        )
        return dict(rows.tuples().all())

    return Vocabulary(names(TextClass), names(TextLabel))


def model_ref(session: Session, predictor: Predictor) -> dict:
    """``{"id", "name", "kind"}`` of the model behind ``predictor``."""
    if predictor.model_id is None:
        return {"id": None, "name": ZERO_SHOT, "kind": ZERO_SHOT}
    row = session.get(TextModelVersion, predictor.model_id)
    name = f"{row.name} v{row.version}" if row is not None else f"model {predictor.model_id}"
    return {"id": predictor.model_id, "name": name, "kind": "trained"}


def confidence_of(prediction: Prediction) -> float:
    """The least confidence of the prediction's tags, else its own."""
    given = [float(t["confidence"]) for t in prediction.tags if t.get("confidence") is not None]
    return round(min(given) if given else float(prediction.confidence), 4)


def _predict(predictor: Predictor, texts: list[str], given: list[list[int]] | None) -> list:
    """The predictor's tags for ``texts``; with ``given`` (ABSA), the sentiment of those
    aspect categories only, which only a trained model can say."""
    if given is None:
        return predictor.predict(texts)
    predict_given = getattr(predictor, "predict_given", None)
    if predict_given is None:
        raise ValidationFailed(
            "Only a trained ABSA model can give the sentiment of given aspects; train one "
            "(or promote one) first.",
            details={"reason": "NEEDS_MODEL"},
        )
    return predict_given(texts, given)


# --- ad-hoc analysis -----------------------------------------------------------------------


def analyze(session: Session, settings: Settings, project: TextProject, body: AdhocRequest) -> dict:
    """Tag the body's documents now, segment by segment; nothing is stored."""
    given = body.all_documents()
    if not given:
        raise ValidationFailed(
            "Give at least one document to analyze.", details={"reason": "NO_DOCUMENTS"}
        )
    if len(given) > MAX_ADHOC_DOCUMENTS:
        raise ValidationFailed(
            f"An ad-hoc analysis reads at most {MAX_ADHOC_DOCUMENTS} documents, not "
            f"{len(given)}; create a batch analysis (POST .../analyses) for more.",
            details={"reason": "TOO_MANY_DOCUMENTS", "max_documents": MAX_ADHOC_DOCUMENTS},
        )
    documents.checked([documents.NewDocument(text=d.text) for d in given])
    total = sum(len(d.text or "") for d in given)
    if total > MAX_ADHOC_CHARS:
        raise ValidationFailed(
            f"An ad-hoc analysis reads at most {MAX_ADHOC_CHARS:,} characters, not "
            f"{total:,}; create a batch analysis (POST .../analyses) for more.",
            details={"reason": "TOO_MUCH_TEXT", "max_chars": MAX_ADHOC_CHARS},
        )
    vocab = vocabulary(session, project)
    aspects = _given_aspects(project, vocab, [d.aspects for d in given])
    predictor = predictor_for(session, project, body.model_id, settings, zero_shot=body.zero_shot)
    mode = body.segmentation or project.segmentation
    spans = [split(d.text or "", mode=mode) for d in given]
    plain: list[tuple[int, int]] = []
    pinned: list[tuple[int, int]] = []
    for i, doc_spans in enumerate(spans):
        (pinned if aspects[i] is not None else plain).extend((i, j) for j in range(len(doc_spans)))
    predicted: dict[tuple[int, int], Prediction] = {}
    for keys, with_aspects in ((plain, False), (pinned, True)):
        for lo in range(0, len(keys), BATCH):
            chunk = keys[lo : lo + BATCH]
            texts = [_span_text(given[i].text, spans[i][j]) for i, j in chunk]
            ids = [aspects[i] or [] for i, _ in chunk] if with_aspects else None
            predicted.update(zip(chunk, _predict(predictor, texts, ids), strict=True))
    out = []
    for i, doc in enumerate(given):
        segments = []
        for j, (start, end) in enumerate(spans[i]):
            p = predicted[(i, j)]
            segments.append(
                {
                    "text": (doc.text or "")[start:end],
                    "span": [start, end],
                    "tags": [vocab.named(t) for t in p.tags],
                    "confidence": confidence_of(p),
                }
            )
        out.append({"id": doc.id, "text": doc.text, "segments": segments})
    return {"model": model_ref(session, predictor), "type": project.type, "documents": out}


def _span_text(text: str | None, span: tuple[int, int]) -> str:
    return (text or "")[span[0] : span[1]]


def _given_aspects(
    project: TextProject, vocab: Vocabulary, asked: list[list[str] | None]
) -> list[list[int] | None]:
    """Each document's given aspects as class ids (None where none were given); 422 for
    aspects of a project that is not ABSA, or names it has no class for."""
    if all(a is None for a in asked):
        return [None] * len(asked)
    if project.type != ProjectType.ABSA:
        raise ValidationFailed(
            f"`aspects` are for ABSA projects; this one is {project.type}.",
            details={"reason": "NOT_ABSA", "type": project.type},
        )
    ids = {name: i for i, name in vocab.classes.items()}
    out: list[list[int] | None] = []
    for index, names in enumerate(asked):
        if names is None:
            out.append(None)
            continue
        unknown = [n for n in names if n not in ids]
        if unknown:
            raise ValidationFailed(
                f"Document {index}: the project has no aspect category "
                f"{', '.join(map(repr, unknown[:5]))}.",
                details={"reason": "UNKNOWN_CLASS", "index": index, "classes": unknown[:20]},
            )
        out.append(list(dict.fromkeys(ids[n] for n in names)))
    return out


# --- creating, reading, changing and deleting batch analyses -------------------------------


def create(
    session: Session,
    principal: Principal,
    settings: Settings,
    project: TextProject,
    body: AnalysisCreate,
) -> tuple[TextAnalysis, Job]:
    """A QUEUED analysis and the ``text.analyze`` job that runs it. The model and the
    source are checked now (a missing column, a zero-shot CLASSLABEL project: 422),
    so the job fails only on what cannot be known before it reads the rows."""
    predictor = predictor_for(session, project, body.model_id, settings, zero_shot=body.zero_shot)
    source = _checked_source(session, principal, project, body)
    ref = model_ref(session, predictor)
    analysis = TextAnalysis(
        org_id=project.org_id,
        project_id=project.id,
        name=body.name,
        model_id=ref["id"],
        model_label=ref["name"],
        source=source,
        status=AnalysisStatus.QUEUED,
        created_by_id=principal.user_id,
    )
    session.add(analysis)
    session.flush()
    job = jobs_service.create(
        session=session,
        org_id=project.org_id,
        type=JOB_TYPE,
        params={"analysis_id": analysis.id},
        user_id=principal.user_id,
        quotas=settings.quotas,
    )
    analysis.job_id = job.id
    audit.record_change(
        session=session,
        principal=principal,
        action="text.analysis.create",
        target_type="text_analysis",
        target_id=analysis.id,
        after={"name": analysis.name, "model": analysis.model_label, "source": source},
    )
    return analysis, job


def _checked_source(
    session: Session, principal: Principal, project: TextProject, body: AnalysisCreate
) -> dict:
    """The body's source as the analysis keeps it, its columns resolved to names."""
    time_column: Column | None = body.time_column
    base = {"review": body.review, "segmentation": body.segmentation}
    if body.group_id is not None:
        group = groups.get(session, project, body.group_id)
        key = None if time_column is None else str(time_column)
        return {"group_id": group.id, "time_column": key, **base}
    if body.file_id is not None:
        text_file = files.get(session, project, body.file_id)
        names, what = list(text_file.columns), "file"
        where: dict[str, Any] = {"file_id": text_file.id, "file_name": text_file.file_name}
    else:
        assert body.dataset_id is not None
        dataset = datasets_service.get(
            session=session, org_id=principal.org_id, dataset_id=body.dataset_id
        )
        version = datasets_service.get_version(
            session=session, dataset=dataset, number=body.version
        )
        names = [c["name"] for c in version.columns]
        what = f"dataset '{dataset.name}' (version {version.number})"
        where = {"dataset_id": dataset.id, "version": version.number}

    def resolved(wanted: Column | None) -> str | None:
        return None if wanted is None else documents.resolve_column(names, wanted, what)

    assert body.column is not None
    columns = {
        "column": resolved(body.column),
        "id_column": resolved(body.id_column),
        "time_column": resolved(time_column),
    }
    if columns["time_column"] is not None and columns["time_column"] in (
        columns["column"],
        columns["id_column"],
    ):
        raise ValidationFailed(
            "The time column cannot be the text or the id column.",
            details={"reason": "BAD_TIME_COLUMN", "column": columns["time_column"]},
        )
    return {**where, **columns, **base}


def get(session: Session, project: TextProject, analysis_id: int) -> TextAnalysis:
    row = session.scalar(
        select(TextAnalysis).where(
            TextAnalysis.id == analysis_id, TextAnalysis.project_id == project.id
        )
    )
    if row is None:
        raise NotFound("Analysis not found.")
    return row


def list_page(
    session: Session, project: TextProject, page: PageParams, *, model_id: int | None = None
) -> tuple[list[TextAnalysis], int]:
    """The project's analyses, newest first."""
    stmt = select(TextAnalysis).where(TextAnalysis.project_id == project.id)
    if model_id is not None:
        stmt = stmt.where(TextAnalysis.model_id == model_id)
    return paginate(session, stmt.order_by(TextAnalysis.id.desc()), page)


def read_many(session: Session, analyses: Sequence[TextAnalysis]) -> list[dict]:
    """Analyses as the API shows them: progress and a status that follows the job (an
    analysis whose job ended without saying so, a process killed or aborted before it
    started, shows the job's ending)."""
    job_ids = [a.job_id for a in analyses if a.job_id is not None]
    jobs = (
        {j.id: j for j in session.scalars(select(Job).where(Job.id.in_(job_ids)))}
        if job_ids
        else {}
    )
    return [_read(a, jobs.get(a.job_id) if a.job_id is not None else None) for a in analyses]


_JOB_ENDINGS = {
    JobStatus.failed: AnalysisStatus.FAILED,
    JobStatus.aborted: AnalysisStatus.ABORTED,
}


def _read(analysis: TextAnalysis, job: Job | None) -> dict:
    status = analysis.status
    progress = 100.0 if status == AnalysisStatus.SUCCEEDED else 0.0
    error = analysis.error
    if status in (AnalysisStatus.QUEUED, AnalysisStatus.RUNNING) and job is not None:
        progress = float(job.progress or 0.0)
        ending = _JOB_ENDINGS.get(JobStatus(job.status))
        if ending is not None:
            status, error = ending, error or job.error
    return {
        "id": analysis.id,
        "project_id": analysis.project_id,
        "name": analysis.name,
        "model_id": analysis.model_id,
        "model_label": analysis.model_label,
        "status": status,
        "progress": round(progress, 1),
        "source": analysis.source,
        "document_count": analysis.document_count,
        "segment_count": analysis.segment_count,
        "review_count": analysis.review_count,
        "error": error,
        "job_id": analysis.job_id,
        "created_at": analysis.created_at,
        "finished_at": analysis.finished_at,
    }


def update_analysis(
    session: Session, principal: Principal, analysis: TextAnalysis, body: AnalysisUpdate
) -> TextAnalysis:
    before = {"name": analysis.name}
    analysis.name = body.name
    audit.record_change(
        session=session,
        principal=principal,
        action="text.analysis.update",
        target_type="text_analysis",
        target_id=analysis.id,
        before=before,
        after={"name": analysis.name},
    )
    return analysis


def abort(session: Session, principal: Principal, analysis: TextAnalysis) -> TextAnalysis:
    """Stop a queued or running analysis; its job removes what it wrote (409 once it
    has ended)."""
    job = session.get(Job, analysis.job_id) if analysis.job_id is not None else None
    if analysis.status not in (AnalysisStatus.QUEUED, AnalysisStatus.RUNNING) or job is None:
        raise Conflict(
            f"The analysis is already {analysis.status}.", details={"status": analysis.status}
        )
    if not JobStatus(job.status).is_final:
        jobs_service.abort(session=session, principal=principal, job=job)
    if JobStatus(job.status).is_final:  # aborted before it started: nothing to undo
        analysis.status = AnalysisStatus.ABORTED
        analysis.finished_at = analysis.finished_at or clock.now()
    return analysis


def delete_analysis(session: Session, principal: Principal, analysis: TextAnalysis) -> None:
    """Delete an analysis and its results (its documents stay in the project); a
    running one is aborted first, and its job then removes the documents it added."""
    job = session.get(Job, analysis.job_id) if analysis.job_id is not None else None
    if job is not None and not JobStatus(job.status).is_final:
        jobs_service.abort(session=session, principal=principal, job=job)
    _delete_results(session, analysis.id)
    audit.record_change(
        session=session,
        principal=principal,
        action="text.analysis.delete",
        target_type="text_analysis",
        target_id=analysis.id,
        before={"name": analysis.name, "source": analysis.source},
    )
    session.delete(analysis)


def _delete_results(session: Session, analysis_id: int) -> None:
    """Its tag rows, then its results: explicit rather than left to ``ON DELETE
    CASCADE``, so the work is two set deletes whatever the database's settings."""
    for table in (TextAnalysisTag, TextAnalysisResult):
        session.execute(
            delete(table)
            .where(table.analysis_id == analysis_id)
            .execution_options(synchronize_session=False)
        )


# --- results, aggregates and export --------------------------------------------------------


def like_pattern(q: str) -> str:
    r"""``q`` as a LIKE pattern matching it anywhere, its wildcards escaped with ``\``.

    >>> like_pattern("50%_off")
    '%50\\%\\_off%'
    """
    return "%" + re.sub(r"([\\%_])", r"\\\1", q) + "%"


def results_page(
    session: Session,
    analysis: TextAnalysis,
    page: PageParams,
    *,
    classes: Sequence[str] = (),
    labels: Sequence[str] = (),
    min_confidence: float | None = None,
    max_confidence: float | None = None,
    q: str | None = None,
) -> tuple[list[dict], int]:
    """The analysis's results in the order they were written (document, then segment),
    filtered: a tag with one of ``classes`` and one of ``labels`` (names or ids),
    a confidence within the bounds, segment text containing ``q`` (any case)."""
    stmt = (
        select(
            TextAnalysisResult,
            TextSegment.text,
            TextSegment.start,
            TextSegment.end,
        )
        .join(TextSegment, TextSegment.id == TextAnalysisResult.segment_id)
        .where(TextAnalysisResult.analysis_id == analysis.id)
        .order_by(TextAnalysisResult.id)
    )
    if classes or labels:
        stmt = stmt.where(
            exists().where(
                TextAnalysisTag.result_id == TextAnalysisResult.id,
                *documents.analysis_tag_match(analysis.id, classes, labels),
            )
        )
    if min_confidence is not None:
        stmt = stmt.where(TextAnalysisResult.confidence >= min_confidence)
    if max_confidence is not None:
        stmt = stmt.where(TextAnalysisResult.confidence <= max_confidence)
    if q:
        stmt = stmt.where(TextSegment.text.ilike(like_pattern(q), escape="\\"))
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = session.execute(stmt.offset(page.offset).limit(page.limit)).all()
    items = [
        {
            "id": r.id,
            "document_id": r.document_id,
            "segment_id": r.segment_id,
            "text": text,
            "span": [start, end],
            "tags": r.tags,
            "confidence": r.confidence,
            "occurred_at": r.occurred_at,
        }
        for r, text, start, end in rows
    ]
    return items, int(total or 0)


def aggregates(session: Session, project: TextProject, analysis: TextAnalysis, period: str) -> dict:
    """Tag counts per (class, label): in all, and per ``period`` (day, week from
    Monday, month) of the texts' time; a result without a time counts in the totals
    only. Days are grouped in SQL (the same on SQLite and PostgreSQL), weeks and
    months from them here."""
    if period not in PERIODS:
        raise ValidationFailed(
            f"Unknown period {period!r}; use one of {', '.join(PERIODS)}.",
            details={"reason": "UNKNOWN_PERIOD", "periods": list(PERIODS)},
        )
    tag = TextAnalysisTag
    pair = (tag.class_name, tag.label_name)
    totals = session.execute(
        select(*pair, func.count())
        .where(tag.analysis_id == analysis.id)
        .group_by(*pair)
        .order_by(*pair)
    ).all()
    day = _day(session, tag.occurred_at)
    days = session.execute(
        select(day, *pair, func.count())
        .where(tag.analysis_id == analysis.id, tag.occurred_at.is_not(None))
        .group_by(day, *pair)
    ).all()
    series: dict[tuple[str, str | None, str | None], int] = defaultdict(int)
    for when, class_name, label_name, count in days:
        series[(_period_start(when, period), class_name, label_name)] += int(count)
    vocab = vocabulary(session, project)
    seen_classes = [c for c, _, _ in totals if c is not None]
    seen_labels = [lbl for _, lbl, _ in totals if lbl is not None]
    return {
        "classes": _ordered(vocab.classes.values(), seen_classes),
        "labels": _ordered(vocab.labels.values(), seen_labels),
        "totals": [{"class": c, "label": lbl, "count": int(n)} for c, lbl, n in totals],
        "series": [
            {"period": p, "class": c, "label": lbl, "count": n}
            for (p, c, lbl), n in sorted(series.items(), key=_series_key)
        ],
    }


def _series_key(item: tuple) -> tuple:
    (p, c, lbl), _ = item
    return p, c or "", lbl or ""


def _day(session: Session, column: Any) -> Any:
    """The calendar day (UTC) of a timestamp column, in the database's own terms."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(column, Date)
    return func.date(column)


def _period_start(day: Any, period: str) -> str:
    """The first day of ``day``'s period, ISO."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day[:10])
    if period == "week":
        day = day - dt.timedelta(days=day.weekday())
    elif period == "month":
        day = day.replace(day=1)
    return day.isoformat()


def _ordered(known: Iterable[str], seen: Iterable[str]) -> list[str]:
    """The project's names in its order, then names only the results still hold."""
    out = list(known)
    extra = sorted(set(seen) - set(out))
    return out + extra


def export(session: Session, settings: Settings, analysis: TextAnalysis, fmt: str) -> Path:
    """The results written to a staging file (the caller sends and removes it), a row
    per tag (:data:`EXPORT_COLUMNS`), read from the database a batch at a time. CSV and
    XLSX cells a spreadsheet would run as formulas are escaped."""
    if fmt not in EXPORT_FORMATS:
        raise ValidationFailed(
            f"Unknown format {fmt!r}; export as {', '.join(EXPORT_FORMATS)}.",
            details={"reason": "UNKNOWN_FORMAT", "formats": list(EXPORT_FORMATS)},
        )
    if fmt == "xlsx":
        rows = session.scalar(
            select(func.count()).where(TextAnalysisTag.analysis_id == analysis.id)
        )
        if int(rows or 0) + analysis.segment_count > XLSX_MAX_ROWS:
            raise ValidationFailed(
                f"XLSX holds at most {XLSX_MAX_ROWS:,} rows; export as CSV or JSONL.",
                details={"reason": "TOO_MANY_ROWS", "max_rows": XLSX_MAX_ROWS},
            )
    path = storage_for(settings).staging_file(f".{fmt}")
    try:
        {"csv": _csv, "jsonl": _jsonl, "xlsx": _xlsx}[fmt](path, _export_rows(session, analysis))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _export_rows(session: Session, analysis: TextAnalysis, batch: int = 1000) -> Iterator[dict]:
    last = 0
    while True:
        rows = session.execute(
            select(
                TextAnalysisResult.id,
                TextAnalysisResult.document_id,
                TextDocument.external_id,
                TextAnalysisResult.segment_id,
                TextSegment.text,
                TextSegment.start,
                TextSegment.end,
                TextAnalysisResult.tags,
                TextAnalysisResult.confidence,
                TextAnalysisResult.occurred_at,
            )
            .join(TextSegment, TextSegment.id == TextAnalysisResult.segment_id)
            .join(TextDocument, TextDocument.id == TextAnalysisResult.document_id)
            .where(TextAnalysisResult.analysis_id == analysis.id, TextAnalysisResult.id > last)
            .order_by(TextAnalysisResult.id)
            .limit(batch)
        ).all()
        for rid, doc_id, ext, seg_id, text, start, end, tags, conf, when in rows:
            common = {
                "result_id": rid,
                "document_id": doc_id,
                "external_id": ext,
                "segment_id": seg_id,
                "text": text,
                "start": start,
                "end": end,
            }
            for t in tags or [{}]:
                yield {
                    **common,
                    "class": t.get("class"),
                    "label": t.get("label"),
                    "confidence": t.get("confidence"),
                    "segment_confidence": conf,
                    "occurred_at": when.isoformat() if when is not None else None,
                }
        if len(rows) < batch:
            return
        last = rows[-1][0]


def _csv(path: Path, rows: Iterator[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            writer.writerow(["" if row[c] is None else escape_cell(row[c]) for c in EXPORT_COLUMNS])


def _jsonl(path: Path, rows: Iterator[dict]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def _xlsx(path: Path, rows: Iterator[dict]) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("results")
    sheet.append(list(EXPORT_COLUMNS))
    for row in rows:
        sheet.append([_xlsx_cell(row[c]) for c in EXPORT_COLUMNS])
    book.save(path)


def _xlsx_cell(value: object) -> object:
    value = escape_cell(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)[:XLSX_MAX_CELL]
    return value


# --- when a text was written ---------------------------------------------------------------

_FORMATS = (
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
)
_EPOCH_S = (1e9, 1e11)
"""Numbers in this range are Unix seconds (2001 to 5138); x1000 of it, milliseconds."""


def parse_time(value: Any) -> dt.datetime | None:
    """When a text was written, from a cell: a datetime or date, ISO 8601 text
    (``2024-03-01``, ``2024-03-01T10:00:00+02:00``), ``2024/03/01``, ``01.03.2024``,
    ``03/01/2024`` (month first, as US spreadsheets write it), or Unix seconds or
    milliseconds; UTC when no offset is given. None for anything else.

    >>> parse_time("2024-03-01T10:00:00+02:00").isoformat()
    '2024-03-01T08:00:00+00:00'
    >>> parse_time("01.03.2024").date(), parse_time("soon"), parse_time(2024)
    (datetime.date(2024, 3, 1), None, None)
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, dt.datetime):
        return _utc(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, int | float):
        return _epoch(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if re.fullmatch(r"\d{9,14}(\.\d+)?", text):
        return _epoch(float(text))
    try:
        return _utc(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        pass
    for fmt in _FORMATS:
        try:
            return _utc(dt.datetime.strptime(text, fmt))
        except ValueError:
            continue
    return None


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _epoch(seconds: float) -> dt.datetime | None:
    lo, hi = _EPOCH_S
    if lo * 1000 <= seconds < hi * 1000:
        seconds /= 1000
    if not lo <= seconds < hi:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


# --- the batch job -------------------------------------------------------------------------


class AnalysisGone(Exception):
    """The analysis was deleted while its job ran."""


class BatchAnalysis:
    """The ``text.analyze`` job: run one batch analysis (see the module's docstring)."""

    name = JOB_TYPE
    title = "Text: analyze documents with a model"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        analysis_id: int = Field(ge=1, le=2**31 - 1)

    def run(self, ctx, params: Params) -> dict:
        """Run the analysis; on an abort or a failure remove what it wrote, mark it,
        and (for a failure) tell its starter, then let the runner record the ending."""
        run = _Run(ctx, params.analysis_id)
        try:
            result = run.execute()
        except BaseException as exc:
            aborted = not isinstance(exc, Exception) or ended_by_abort(ctx, exc)
            run.undo(aborted=aborted, error=None if aborted else _reason(exc))
            if not aborted and not isinstance(exc, AnalysisGone):
                run.tell(failed=_reason(exc))
            raise
        run.tell()
        return result


@dataclass
class _Source:
    """What the job reads: documents and their times."""

    document_ids: list[int]
    time_column: str | None


class _Run:
    """One run of a batch analysis: its steps, and what to undo."""

    def __init__(self, ctx: Any, analysis_id: int):
        self.ctx = ctx
        self.analysis_id = analysis_id
        self.project_id: int | None = None
        self.name = f"analysis {analysis_id}"
        self.added: list[int] = []
        self.reviewed: list[int] = []
        self.segments = 0
        self.unparsed = 0
        self.skipped = 0
        self.review_count = 0

    def _load(self, session: Session) -> tuple[TextAnalysis, TextProject]:
        analysis = session.get(TextAnalysis, self.analysis_id)
        if analysis is None or analysis.org_id != self.ctx.org_id:
            raise AnalysisGone(f"text analysis {self.analysis_id} not found (deleted?)")
        return analysis, session.get_one(TextProject, analysis.project_id)

    def execute(self) -> dict:
        ctx = self.ctx
        ctx.progress(1.0, "reading the source")
        with ctx.session() as session:
            analysis, project = self._load(session)
            self.project_id, self.name = project.id, analysis.name
            analysis.status = AnalysisStatus.RUNNING
            if analysis.model_id is None and analysis.model_label != ZERO_SHOT:
                raise NotFound(f"The model {analysis.model_label} was deleted before it ran.")
            predictor = predictor_for(
                session, project, analysis.model_id, ctx.settings, zero_shot=True
            )
            ref = model_ref(session, predictor)
            analysis.model_id, analysis.model_label = ref["id"], ref["name"]
            source = dict(analysis.source)
            vocab = vocabulary(session, project)
            docs = self._read_rows(session, project, source)
        if docs is not None:
            self._add_documents(docs, source)
            ids = list(self.added)
        else:
            with ctx.session() as session:
                ids = list(
                    session.scalars(
                        select(TextGroupDocument.document_id)
                        .where(TextGroupDocument.group_id == source["group_id"])
                        .order_by(TextGroupDocument.document_id)
                    )
                )
        reading = _Source(ids, source.get("time_column"))
        total = self._count_segments(ids)
        ctx.progress(20.0, f"{total:,} segments to analyze")
        buffer: list[tuple] = []
        for segment in self._segments(reading):
            buffer.append(segment)
            if len(buffer) >= BATCH:
                self._analyze(predictor, vocab, buffer, total)
                buffer = []
        if buffer:
            self._analyze(predictor, vocab, buffer, total)
        if source.get("review", True):
            self._send_to_review(predictor.model_id)
        with ctx.session() as session:
            analysis, _ = self._load(session)
            analysis.status = AnalysisStatus.SUCCEEDED
            analysis.document_count = len(ids)
            analysis.segment_count = self.segments
            analysis.review_count = self.review_count
            analysis.source = {
                **analysis.source,
                "times_unparsed": self.unparsed,
                "rows_skipped": self.skipped,
            }
            analysis.error = None
            analysis.finished_at = clock.now()
        return {
            "analysis_id": self.analysis_id,
            "project_id": self.project_id,
            "documents": len(ids),
            "segments": self.segments,
            "review": self.review_count,
            "times_unparsed": self.unparsed,
        }

    def _read_rows(
        self, session: Session, project: TextProject, source: dict
    ) -> list[documents.NewDocument] | None:
        """A file's or dataset's rows as checked new documents (None for a group)."""
        if "group_id" in source:
            return None
        options = SourceOptions(
            file_id=source.get("file_id"),
            dataset_id=source.get("dataset_id"),
            version=source.get("version"),
            column=source["column"],
            id_column=source.get("id_column"),
        )
        if options.file_id is not None:
            text_file = files.get(session, project, options.file_id)
            rows = documents.from_file(self.ctx.settings, text_file, options)
        else:
            rows = documents.from_dataset(session, self.ctx.settings, self.ctx.org_id, options)
        docs = documents.checked(rows, skip_empty=True)
        self.skipped = len(rows) - len(docs)
        documents.require_new_ids(session, project.id, docs)
        return docs

    def _add_documents(self, docs: list[documents.NewDocument], source: dict) -> None:
        ctx = self.ctx
        principal = Principal(org_id=ctx.org_id, user_id=ctx.user_id)
        for lo in range(0, len(docs), documents.BATCH):
            with ctx.session() as session:
                _, project = self._load(session)
                added = documents.add(
                    session,
                    principal,
                    project,
                    docs[lo : lo + documents.BATCH],
                    segmentation=source.get("segmentation"),
                    source="analysis",
                    audited=False,
                )
                self.added += [a.id for a in added]
            done = min(len(docs), lo + documents.BATCH)
            ctx.progress(2.0 + 18.0 * done / max(1, len(docs)), f"{done:,} documents added")

    def _count_segments(self, ids: list[int]) -> int:
        total = 0
        with self.ctx.session() as session:
            for lo in range(0, len(ids), DOC_CHUNK):
                total += int(
                    session.scalar(
                        select(func.coalesce(func.sum(TextDocument.segment_count), 0)).where(
                            TextDocument.id.in_(ids[lo : lo + DOC_CHUNK])
                        )
                    )
                    or 0
                )
        return total

    def _segments(self, reading: _Source) -> Iterator[tuple]:
        """``(segment_id, document_id, text, occurred_at)`` of the documents, in order."""
        ids = reading.document_ids
        for lo in range(0, len(ids), DOC_CHUNK):
            chunk = ids[lo : lo + DOC_CHUNK]
            with self.ctx.session() as session:
                times = {
                    doc_id: self._time(created, meta, reading.time_column)
                    for doc_id, created, meta in session.execute(
                        select(TextDocument.id, TextDocument.created_at, TextDocument.meta).where(
                            TextDocument.id.in_(chunk)
                        )
                    )
                }
                rows = session.execute(
                    select(TextSegment.id, TextSegment.document_id, TextSegment.text)
                    .where(TextSegment.document_id.in_(chunk))
                    .order_by(TextSegment.document_id, TextSegment.position)
                ).all()
            for segment_id, doc_id, text in rows:
                yield segment_id, doc_id, text, times.get(doc_id)

    def _time(self, created: dt.datetime, meta: dict | None, key: str | None) -> dt.datetime | None:
        if key is None:
            return created
        value = (meta or {}).get(key)
        when = parse_time(value)
        if when is None:
            self.unparsed += 1
        return when

    def _analyze(
        self, predictor: Predictor, vocab: Vocabulary, batch: list[tuple], total: int
    ) -> None:
        """Predict a batch of segments, then write its results and tags together."""
        predictions = predictor.predict([text for _, _, text, _ in batch])
        results = []
        for (segment_id, doc_id, _, when), p in zip(batch, predictions, strict=True):
            named = [vocab.named(t) for t in p.tags]
            results.append(
                {
                    "analysis_id": self.analysis_id,
                    "document_id": doc_id,
                    "segment_id": segment_id,
                    "tags": named,
                    "confidence": confidence_of(p),
                    "occurred_at": when,
                }
            )
        with self.ctx.session() as session:
            self._load(session)
            ids = session.scalars(
                insert(TextAnalysisResult).returning(
                    TextAnalysisResult.id, sort_by_parameter_order=True
                ),
                results,
            ).all()
            tags = [
                {
                    "analysis_id": self.analysis_id,
                    "result_id": result_id,
                    "document_id": r["document_id"],
                    "class_id": t["class_id"],
                    "class_name": t["class"],
                    "label_id": t["label_id"],
                    "label_name": t["label"],
                    "confidence": t["confidence"]
                    if t["confidence"] is not None
                    else r["confidence"],
                    "occurred_at": r["occurred_at"],
                }
                for result_id, r in zip(ids, results, strict=True)
                for t in r["tags"]
            ]
            if tags:
                session.execute(insert(TextAnalysisTag), tags)
            self.segments += len(batch)
            session.execute(
                update(TextAnalysis)
                .where(TextAnalysis.id == self.analysis_id)
                .values(segment_count=self.segments)
            )
        share = self.segments / max(1, total)
        self.ctx.progress(20.0 + 75.0 * share, f"{self.segments:,} of {total:,} segments")

    def _send_to_review(self, model_id: int | None) -> None:
        """Hand the results under the review threshold to the review queue, a batch at a
        time (the queue applies its own settings: threshold, classes)."""
        with self.ctx.session() as session:
            _, project = self._load(session)
            config = review.get_config(session, project)
            if config is None or not config.enabled:
                return
            threshold = config.threshold
        last = 0
        while True:
            with self.ctx.session() as session:
                _, project = self._load(session)
                rows = session.scalars(
                    select(TextAnalysisResult)
                    .where(
                        TextAnalysisResult.analysis_id == self.analysis_id,
                        TextAnalysisResult.confidence < threshold,
                        TextAnalysisResult.id > last,
                    )
                    .order_by(TextAnalysisResult.id)
                    .limit(BATCH)
                ).all()
                if not rows:
                    return
                last = rows[-1].id
                source = {"analysis_id": self.analysis_id, "model_id": model_id}
                items = review.submit(
                    session,
                    project,
                    [
                        {
                            "document_id": r.document_id,
                            "segment_id": r.segment_id,
                            "tags": [
                                {k: t.get(k) for k in ("class_id", "label_id", "confidence")}
                                for t in r.tags
                            ],
                            "confidence": r.confidence,
                            "source": source,
                        }
                        for r in rows
                    ],
                    base_url=self.ctx.settings.base_url or "",
                )
                self.reviewed += [i.id for i in items]
                self.review_count += len(items)
            self.ctx.progress(97.0, f"{self.review_count:,} results sent to review")

    def undo(self, *, aborted: bool, error: str | None) -> None:
        """Remove what the run wrote (results, review items, added documents) and mark
        the analysis ABORTED or FAILED."""
        with self.ctx.session() as session:
            analysis = session.get(TextAnalysis, self.analysis_id)
            for lo in range(0, len(self.reviewed), DOC_CHUNK):
                session.execute(
                    delete(TextReviewItem)
                    .where(TextReviewItem.id.in_(self.reviewed[lo : lo + DOC_CHUNK]))
                    .execution_options(synchronize_session=False)
                )
            if analysis is not None:
                _delete_results(session, analysis.id)
            if self.added and self.project_id is not None:
                documents.remove_added(session, self.project_id, self.added)
            if analysis is not None:
                analysis.status = AnalysisStatus.ABORTED if aborted else AnalysisStatus.FAILED
                analysis.error = error
                analysis.segment_count = analysis.document_count = analysis.review_count = 0
                analysis.finished_at = clock.now()

    def tell(self, *, failed: str | None = None) -> None:
        """The notification of the analysis's end, for whoever started it."""
        ctx = self.ctx
        if ctx.user_id is None or self.project_id is None:
            return
        link = f"/text/projects/{self.project_id}/analyses/{self.analysis_id}"
        if failed is None:
            title = f"Analysis '{self.name}' finished"
            body = f"{self.segments:,} segments analyzed, {self.review_count:,} sent to review."
        else:
            title = f"Analysis '{self.name}' failed"
            body = f"{failed} Its results and the documents it added were removed."
        with ctx.session() as session:
            notify(
                session,
                org_id=ctx.org_id,
                user_id=ctx.user_id,
                kind="text.analysis",
                title=title,
                body=body,
                link=link,
                data={
                    "job_id": ctx.job_id,
                    "project_id": self.project_id,
                    "analysis_id": self.analysis_id,
                    "status": "failed" if failed else "succeeded",
                },
            )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, AuguryError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"
