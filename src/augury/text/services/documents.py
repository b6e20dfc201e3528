"""Documents of a text project: made from JSON, an uploaded file's column or a dataset's,
split into segments, read with their details, searched, and deleted.

Every way in ends in :func:`add`: the documents are checked first (text present, no
NUL, at most :data:`MAX_DOCUMENT_CHARS`, caller ids unique in the call and in the
project), so a refused call stores nothing, then inserted in batches of :data:`BATCH`
with one multi-row INSERT for the documents and one for their segments. A call of at
most :data:`INLINE_MAX` documents is done in the request; a larger one is checked in the
request when it is JSON, then handed to the ``text.documents`` job
(:mod:`augury.text.jobs`), which inserts batch by batch, reports progress, and removes
what it made when it fails.

Full-text search uses the database's own index (migration 0014): SQLite's FTS5 table
``text_document_fts`` and PostgreSQL's GIN index over ``to_tsvector('simple', text)``.
A query's words are matched, all of them, in any order; FTS5's syntax is never passed
through, so ``"`` or ``AND`` in a query is a word to find, not an error.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Integer, Table, column, delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, undefer
from sqlalchemy.sql import ColumnElement, TextClause

from augury import clock
from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.config import Settings
from augury.datasets import service as datasets_service
from augury.datasets.storage import storage_for
from augury.engines.text.segment import split
from augury.errors import Conflict, NotFound, ValidationFailed
from augury.jobs import service as jobs_service
from augury.jobs.models import Job
from augury.store.pagination import PageParams, paginate
from augury.text.models import (
    TextAnalysis,
    TextAnalysisResult,
    TextAnalysisTag,
    TextAnnotation,
    TextClass,
    TextDocument,
    TextGroup,
    TextGroupDocument,
    TextLabel,
    TextProject,
    TextSegment,
    TextSession,
    TextSessionDocument,
)
from augury.text.schemas.documents import Column, DocumentIn, DocumentsCreate, SourceOptions
from augury.text.services import files
from augury.text.services.files import jsonable

MAX_DOCUMENT_CHARS = 10_000_000
"""The longest document, in characters (code points): ten million, about a 10 MB text
file or a 4,000-page book. Twice the 5 MB the issue asks for; a longer text is refused
(422 TEXT_TOO_LONG) rather than left to strain the search index and the annotator view."""
MAX_EXTERNAL_ID = 200
INLINE_MAX = 1_000
"""Calls with at most this many documents are done in the request (201); more go to a
``text.documents`` job (202)."""
BATCH = 2_000
"""Documents per INSERT statement (and per transaction in the job)."""
ID_CHUNK = 5_000
"""Ids per ``IN (...)`` lookup (SQLite takes 32,766 parameters, PostgreSQL 65,535)."""
JOB_TYPE = "text.documents"
DETAILS = ("segments", "meta", "tags")
SOURCES = ("api", "file", "dataset", "session", "import", "analysis")


@dataclass(slots=True)
class NewDocument:
    """A document about to be added: its text, the caller's id, meta and PDF pages."""

    text: str | None
    external_id: str | None = None
    meta: dict = field(default_factory=dict)
    pages: list[list[int]] | None = None


@dataclass(slots=True)
class Added:
    id: int
    external_id: str | None
    length: int
    segment_count: int


@dataclass
class Created:
    """What a create call did: the documents added now, or the job adding them."""

    documents: list[Added] | None = None
    job: Job | None = None


# -- reading sources -------------------------------------------------------------------


def from_json(documents: Iterable[DocumentIn]) -> list[NewDocument]:
    return [
        NewDocument(
            text=d.text,
            external_id=None if d.id is None else str(d.id),
            meta=jsonable(d.fields()),
        )
        for d in documents
    ]


def from_columns(
    texts: Sequence[Any],
    *,
    ids: Sequence[Any] | None = None,
    metas: Sequence[dict] | None = None,
    pages: list[list[int]] | None = None,
) -> list[NewDocument]:
    """Documents from a table's columns: the text column's cells (numbers as text), the
    id column's, and each row's meta (JSON-able values)."""
    out = []
    for i, cell in enumerate(texts):
        ext = None if ids is None or ids[i] is None else _cell_text(ids[i]).strip() or None
        out.append(
            NewDocument(
                text=None if cell is None else _cell_text(cell),
                external_id=ext,
                meta=metas[i] if metas is not None else {},
                pages=pages,
            )
        )
    return out


def _cell_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def resolve_column(columns: Sequence[str], wanted: Column, what: str = "file") -> str:
    """The column ``wanted`` names: a name (exactly, else ignoring case when that is
    unambiguous) or a 0-based index (a number, or digits naming no column); else 422
    COLUMN_NOT_FOUND listing the columns there are. The same rule as the file reader's."""
    if isinstance(wanted, str):
        if wanted in columns:
            return wanted
        folded = [c for c in columns if c.casefold() == wanted.casefold()]
        if len(folded) == 1:
            return folded[0]
    index = wanted if isinstance(wanted, int) else int(wanted) if wanted.isdecimal() else None
    if index is not None and 0 <= index < len(columns):
        return columns[index]
    shown = ", ".join(repr(c) for c in columns[:50])
    raise ValidationFailed(
        f"The {what} has no column {wanted!r}; its columns are {shown} "
        "(name one, or give its 0-based index).",
        details={"reason": "COLUMN_NOT_FOUND", "column": wanted, "columns": list(columns)},
    )


def from_file(settings: Settings, text_file: Any, options: SourceOptions) -> list[NewDocument]:
    """The documents of an uploaded file's column (the other columns as meta)."""
    assert options.column is not None
    table = files.table(settings, text_file)
    column_name = resolve_column(table.columns, options.column)
    id_name = (
        None if options.id_column is None else resolve_column(table.columns, options.id_column)
    )
    exclude = [column_name] + ([id_name] if id_name else [])
    return from_columns(
        table.texts(column_name),
        ids=None if id_name is None else table.texts(id_name),
        metas=table.meta(exclude),
        pages=[[a, b] for a, b in table.pages] if table.pages else None,
    )


def from_dataset(
    session: Session, settings: Settings, org_id: int, options: SourceOptions
) -> list[NewDocument]:
    """The documents of a dataset version's column (the other columns as meta)."""
    import pyarrow.parquet as pq

    assert options.dataset_id is not None and options.column is not None
    dataset = datasets_service.get(session=session, org_id=org_id, dataset_id=options.dataset_id)
    version = datasets_service.get_version(session=session, dataset=dataset, number=options.version)
    names = [c["name"] for c in version.columns]
    what = f"dataset '{dataset.name}' (version {version.number})"
    column_name = resolve_column(names, options.column, what)
    id_name = None if options.id_column is None else resolve_column(names, options.id_column, what)
    table = pq.read_table(datasets_service.path_of(settings, version))
    texts = table.column(column_name).to_pylist()
    ids = None if id_name is None else table.column(id_name).to_pylist()
    rest = table.drop_columns([c for c in {column_name, id_name} if c])
    return from_columns(texts, ids=ids, metas=[jsonable(row) for row in rest.to_pylist()])


def dataset_rows(session: Session, org_id: int, options: SourceOptions) -> tuple[int, list[str]]:
    """A dataset version's row count and columns, read without its file."""
    assert options.dataset_id is not None
    dataset = datasets_service.get(session=session, org_id=org_id, dataset_id=options.dataset_id)
    version = datasets_service.get_version(session=session, dataset=dataset, number=options.version)
    return version.rows, [c["name"] for c in version.columns]


# -- checking --------------------------------------------------------------------------


def _where(i: int, doc: NewDocument) -> str:
    named = f" (id {doc.external_id!r})" if doc.external_id is not None else ""
    return f"Document {i}{named}"


def checked(docs: Sequence[NewDocument], *, skip_empty: bool = False) -> list[NewDocument]:
    """``docs`` fit to store, or 422 naming the first that is not (its 0-based ``index``
    in the call, and its id): no text (left out instead with ``skip_empty``), a NUL
    character or a lone surrogate, longer than :data:`MAX_DOCUMENT_CHARS`, an id over
    200 characters; and 409 DUPLICATE_ID for an id given twice."""
    kept: list[NewDocument] = []
    seen: dict[str, int] = {}
    for i, doc in enumerate(docs):
        where = _where(i, doc)
        details: dict[str, Any] = {"index": i, "id": doc.external_id}
        if doc.text is None or not doc.text.strip():
            if skip_empty:
                continue
            raise ValidationFailed(
                f"{where} has no text; send text, or skip_empty: true to leave such rows out.",
                details={"reason": "EMPTY_TEXT", **details},
            )
        if "\x00" in doc.text:
            raise ValidationFailed(
                f"{where} contains a NUL character (\\u0000), which text cannot hold.",
                details={"reason": "NUL_CHARACTER", **details},
            )
        if not _encodable(doc.text):
            raise ValidationFailed(
                f"{where} contains a lone surrogate (an unpaired \\ud800-\\udfff escape), "
                "which is not text: encode the document as UTF-8.",
                details={"reason": "INVALID_UNICODE", **details},
            )
        if len(doc.text) > MAX_DOCUMENT_CHARS:
            raise ValidationFailed(
                f"{where} has {len(doc.text):,} characters; at most {MAX_DOCUMENT_CHARS:,} "
                "are allowed: split it into several documents.",
                details={"reason": "TEXT_TOO_LONG", "max_chars": MAX_DOCUMENT_CHARS, **details},
            )
        if doc.external_id is not None:
            ext = doc.external_id
            if len(ext) > MAX_EXTERNAL_ID or "\x00" in ext or not _encodable(ext):
                raise ValidationFailed(
                    f"{where}: an id has at most {MAX_EXTERNAL_ID} characters, no NUL and "
                    "no lone surrogate.",
                    details={"reason": "BAD_ID", **details},
                )
            if doc.external_id in seen:
                raise Conflict(
                    f"The id {doc.external_id!r} is given twice (documents "
                    f"{seen[doc.external_id]} and {i}); ids are unique in a project.",
                    details={"reason": "DUPLICATE_ID", "ids": [doc.external_id], **details},
                )
            seen[doc.external_id] = i
        kept.append(doc)
    return kept


def _encodable(text: str) -> bool:
    """Whether ``text`` is valid Unicode (no lone surrogates, which JSON's escapes can
    make and no database stores)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def require_new_ids(session: Session, project_id: int, docs: Sequence[NewDocument]) -> None:
    """409 DUPLICATE_ID naming the caller ids the project already has. When the project
    holds fewer ids than the call brings, its ids are read in one query; else the
    call's are looked up in chunks."""
    wanted = [d.external_id for d in docs if d.external_id is not None]
    if not wanted:
        return
    held = session.scalar(
        select(func.count()).where(
            TextDocument.project_id == project_id, TextDocument.external_id.is_not(None)
        )
    )
    taken: list[str] = []
    if (held or 0) <= len(wanted):
        existing = set(
            session.scalars(
                select(TextDocument.external_id).where(
                    TextDocument.project_id == project_id, TextDocument.external_id.is_not(None)
                )
            )
        )
        taken = [i for i in wanted if i in existing][:20]
    else:
        for lo in range(0, len(wanted), ID_CHUNK):
            taken += session.scalars(
                select(TextDocument.external_id).where(
                    TextDocument.project_id == project_id,
                    TextDocument.external_id.in_(wanted[lo : lo + ID_CHUNK]),
                )
            )
            if len(taken) >= 20:
                break
    if taken:
        raise Conflict(
            f"The project already has documents with the id {', '.join(map(repr, taken[:5]))}; "
            "ids are unique in a project.",
            details={"reason": "DUPLICATE_ID", "ids": taken[:20]},
        )


# -- storing ---------------------------------------------------------------------------


def _page_of(starts: list[int], offset: int) -> int | None:
    """The 1-based page holding character ``offset``, from the pages' start offsets."""
    if not starts:
        return None
    return max(1, bisect.bisect_right(starts, offset))


def add(
    session: Session,
    principal: Principal,
    project: TextProject,
    docs: Sequence[NewDocument],
    *,
    segmentation: str | None = None,
    source: str = "api",
    audited: bool = True,
) -> list[Added]:
    """Insert checked documents and their segments (the project's ``segmentation``
    unless given); returns them in order. The caller ids must be new (see
    :func:`require_new_ids`; a race loses with 409). Call :func:`checked` first."""
    mode = segmentation or project.segmentation
    added: list[Added] = []
    try:
        for lo in range(0, len(docs), BATCH):
            added += _insert_batch(session, project, docs[lo : lo + BATCH], mode, source)
    except Exception as exc:
        raise _refusal(exc) from exc
    count_documents(session, project.id, len(added))
    if audited:
        audit_added(session, principal, project, len(added), source, mode)
    return added


def _refusal(exc: Exception) -> Exception:
    """What a failed insert tells the caller: a caller id taken meanwhile is 409, a
    document too rich in words for PostgreSQL's search index (a tsvector holds 1 MB)
    is 422; anything else is itself. COPY's errors come from the driver unwrapped, so
    both are told by their SQLSTATE."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    state = getattr(orig, "sqlstate", None)
    if isinstance(exc, IntegrityError) or state == "23505":
        return Conflict(
            "Another call added documents with some of these ids meanwhile; nothing was stored.",
            details={"reason": "DUPLICATE_ID"},
        )
    if state == "54000" or "tsvector" in str(orig):
        return ValidationFailed(
            "A document has more distinct words than the search index holds (a million "
            "bytes of them on PostgreSQL); split it into several documents.",
            details={"reason": "TOO_MANY_WORDS"},
        )
    return exc


def audit_added(
    session: Session, principal: Principal, project: TextProject, n: int, source: str, mode: str
) -> None:
    """One audit entry for a call's (or a job's) documents, however many."""
    if n:
        audit.record_change(
            session=session,
            principal=principal,
            action="text.documents.create",
            target_type="text_project",
            target_id=project.id,
            after={"documents": n, "source": source, "segmentation": mode},
        )


def _insert_batch(
    session: Session, project: TextProject, docs: Sequence[NewDocument], mode: str, source: str
) -> list[Added]:
    spans = [split(d.text or "", mode=mode) for d in docs]
    rows = [
        {
            "org_id": project.org_id,
            "project_id": project.id,
            "external_id": d.external_id,
            "text": d.text,
            "meta": d.meta,
            "pages": d.pages,
            "segmentation": mode,
            "source": source,
            "length": len(d.text or ""),
            "segment_count": len(s),
        }
        for d, s in zip(docs, spans, strict=True)
    ]
    ids = insert_documents(session, rows)
    segments: list[tuple] = []
    for doc_id, doc, doc_spans in zip(ids, docs, spans, strict=True):
        text_ = doc.text or ""
        starts = [p[0] for p in doc.pages] if doc.pages else []
        segments += [
            (doc_id, project.id, position, start, end, _page_of(starts, start), text_[start:end])
            for position, (start, end) in enumerate(doc_spans)
        ]
    if segments:
        _insert_segments(session, segments)
    return [
        Added(doc_id, d.external_id, len(d.text or ""), len(doc_spans))
        for doc_id, d, doc_spans in zip(ids, docs, spans, strict=True)
    ]


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_documents(session: Session, rows: list[dict]) -> list[int]:
    """Insert document rows in bulk; their ids, in order. Every bulk insert of
    documents comes here (uploads, clones, imports), so each gets COPY on PostgreSQL and
    one full-text fill per batch on SQLite.

    PostgreSQL: the ids are drawn from the table's sequence first and the rows sent
    with COPY, three times faster than a multi-row INSERT ... RETURNING through
    SQLAlchemy. SQLite would fall back to one INSERT a row for an ordered RETURNING;
    there the transaction holds the database's only write lock (``BEGIN IMMEDIATE``),
    so one executemany and the ids past the largest one before give them, in order.
    """
    table = cast(Table, TextDocument.__table__)
    if _postgresql(session):
        return _copy_documents(session, rows)
    before = session.scalar(select(func.max(TextDocument.id))) or 0
    with _fts_in_bulk(session, before, len(rows)):
        session.execute(insert(table), rows)
    ids = list(
        session.scalars(
            select(TextDocument.id).where(TextDocument.id > before).order_by(TextDocument.id)
        )
    )
    if len(ids) != len(rows):
        raise RuntimeError(f"inserted {len(rows)} documents but found {len(ids)} new ids")
    return ids


FTS_TRIGGER = "text_document_fts_ai"
FTS_BULK_ROWS = 100
"""From this many documents an insert fills SQLite's search index in one statement."""


@contextlib.contextmanager
def _fts_in_bulk(session: Session, before: int, n: int) -> Iterator[None]:
    """Fill SQLite's full-text index with one INSERT ... SELECT instead of its row
    trigger, for a batch of ``n`` documents with ids past ``before``.

    FTS5 flushes its pending terms at every statement a trigger runs, and each flush
    costs in proportion to the index's vocabulary: once a document with 50,000 distinct
    words was indexed, 6,000 rows took 2 s through the trigger and 0.1 s in one
    statement (with 150,000 words, 100,000 documents took minutes). The trigger (its
    SQL read back from ``sqlite_master``, as the migration wrote it) is dropped and
    made again inside this transaction, which holds the only write lock (``BEGIN
    IMMEDIATE``), and SQLite's DDL is transactional: no other connection ever sees the
    table without it, and a rollback restores it.
    """
    trigger = None
    if n >= FTS_BULK_ROWS:
        trigger = session.scalar(
            text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name"),
            {"name": FTS_TRIGGER},
        )
    if trigger is None:
        yield
        return
    session.execute(text(f"DROP TRIGGER {FTS_TRIGGER}"))
    try:
        yield
    except BaseException:
        # The rollback that follows restores both; this keeps them right for a caller
        # that catches the error and commits what the batch had written.
        with contextlib.suppress(Exception):
            _index_and_restore(session, before, trigger)
        raise
    _index_and_restore(session, before, trigger)


def _index_and_restore(session: Session, before: int, trigger: str) -> None:
    session.execute(
        text(
            "INSERT INTO text_document_fts (rowid, text) "
            "SELECT id, text FROM text_document WHERE id > :before ORDER BY id"
        ),
        {"before": before},
    )
    session.execute(text(trigger))


def _copy_documents(session: Session, rows: list[dict]) -> list[int]:
    ids = list(
        session.scalars(
            text(
                "SELECT nextval(pg_get_serial_sequence('text_document', 'id')) "
                "FROM generate_series(1, :n)"
            ),
            {"n": len(rows)},
        )
    )
    now = clock.now().astimezone(dt.UTC).replace(tzinfo=None)
    stamped = "created_at" in rows[0]  # a clone keeps its source's
    columns = ["id", *rows[0], *([] if stamped else ["created_at"])]
    values = (
        [doc_id, *(_copy_value(k, v) for k, v in r.items()), *([] if stamped else [now])]
        for doc_id, r in zip(ids, rows, strict=True)
    )
    _copy(session, TextDocument.__tablename__, columns, values)
    return ids


def _copy_value(column: str, value: Any) -> Any:
    """A value as COPY takes it: the JSON columns as JSON text (NULL stays NULL)."""
    return json.dumps(value) if column in ("meta", "pages") and value is not None else value


def _copy(session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """PostgreSQL's COPY of ``rows`` into ``table``, in the session's transaction."""
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    names = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


_SEGMENT_COLUMNS = ("document_id", "project_id", "position", "start", "end", "page", "text")


def _insert_segments(session: Session, rows: list[tuple]) -> None:
    """Insert segment rows (tuples in :data:`_SEGMENT_COLUMNS` order) in bulk: COPY on
    PostgreSQL, else straight through the driver's executemany (plain numbers and text
    need none of SQLAlchemy's per-row processing, a third of the time: 0.4 s of 1.3 s
    per 100,000 segments on SQLite)."""
    if _postgresql(session):
        _copy(session, TextSegment.__tablename__, _SEGMENT_COLUMNS, rows)
        return
    conn = session.connection()
    quote = conn.dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {TextSegment.__tablename__} ({', '.join(map(quote, _SEGMENT_COLUMNS))}) "
        f"VALUES ({', '.join(['?'] * len(_SEGMENT_COLUMNS))})"
    )
    conn.exec_driver_sql(sql, rows)


def count_documents(session: Session, project_id: int, delta: int) -> None:
    """Move the project's ``document_count`` by ``delta`` in SQL (no lost update)."""
    if delta:
        session.execute(
            update(TextProject)
            .where(TextProject.id == project_id)
            .values(document_count=TextProject.document_count + delta)
            .execution_options(synchronize_session=False)
        )


def create(
    session: Session,
    principal: Principal,
    settings: Settings,
    project: TextProject,
    body: DocumentsCreate,
    *,
    group_id: int | None = None,
) -> Created:
    """Documents from the body's source: up to :data:`INLINE_MAX` added now, more by a
    ``text.documents`` job (JSON documents are checked before it is queued). With
    ``group_id`` the documents join that group too."""
    if body.documents is not None:
        docs = checked(from_json(body.documents), skip_empty=body.skip_empty)
        require_new_ids(session, project.id, docs)
        if len(docs) <= INLINE_MAX:
            return Created(documents=_add_now(session, principal, project, docs, body, group_id))
        key = stash(settings, principal.org_id, project.id, docs)
        return Created(job=queue(session, principal, settings, project, body, group_id, key))
    if body.file_id is not None:
        text_file = files.get(session, project, body.file_id)
        resolve_column(text_file.columns, body.column)  # type: ignore[arg-type]
        if body.id_column is not None:
            resolve_column(text_file.columns, body.id_column)
        rows = text_file.row_count
        source_docs: Callable[[], list[NewDocument]] = lambda: from_file(  # noqa: E731
            settings, text_file, body
        )
    else:
        rows, names = dataset_rows(session, principal.org_id, body)
        what = "dataset"
        resolve_column(names, body.column, what)  # type: ignore[arg-type]
        if body.id_column is not None:
            resolve_column(names, body.id_column, what)
        source_docs = lambda: from_dataset(session, settings, principal.org_id, body)  # noqa: E731
    if rows > INLINE_MAX:
        return Created(job=queue(session, principal, settings, project, body, group_id, None))
    docs = checked(source_docs(), skip_empty=body.skip_empty)
    require_new_ids(session, project.id, docs)
    return Created(documents=_add_now(session, principal, project, docs, body, group_id))


def _add_now(
    session: Session,
    principal: Principal,
    project: TextProject,
    docs: list[NewDocument],
    body: SourceOptions,
    group_id: int | None,
) -> list[Added]:
    source = "file" if body.file_id else "dataset" if body.dataset_id else "api"
    added = add(session, principal, project, docs, segmentation=body.segmentation, source=source)
    if group_id is not None:
        join_group(session, group_id, [a.id for a in added])
    return added


def join_group(session: Session, group_id: int, ids: Sequence[int]) -> int:
    """Put documents (of the group's project, checked by the caller) in a group; those
    already in it are left; returns how many joined, and keeps its count right."""
    present = set(
        session.scalars(
            select(TextGroupDocument.document_id).where(TextGroupDocument.group_id == group_id)
        )
    )
    new = [{"group_id": group_id, "document_id": i} for i in dict.fromkeys(ids) if i not in present]
    if new:
        session.execute(insert(TextGroupDocument), new)
    recount_groups(session, [group_id])
    return len(new)


def recount_groups(session: Session, group_ids: Iterable[int]) -> None:
    for group_id in set(group_ids):
        members = (
            select(func.count())
            .select_from(TextGroupDocument)
            .where(TextGroupDocument.group_id == group_id)
            .scalar_subquery()
        )
        session.execute(
            update(TextGroup)
            .where(TextGroup.id == group_id)
            .values(document_count=members)
            .execution_options(synchronize_session=False)
        )


def _recount_sessions(session: Session, session_ids: Iterable[int]) -> None:
    for session_id in set(session_ids):
        members = (
            select(func.count())
            .select_from(TextSessionDocument)
            .where(TextSessionDocument.session_id == session_id)
            .scalar_subquery()
        )
        session.execute(
            update(TextSession)
            .where(TextSession.id == session_id)
            .values(document_count=members)
            .execution_options(synchronize_session=False)
        )


def stash(settings: Settings, org_id: int, project_id: int, docs: Sequence[NewDocument]) -> str:
    """Keep checked JSON documents for the job that adds them (a JSON line each, in the
    datasets' storage); returns the storage key :func:`unstash` reads."""
    storage = storage_for(settings)
    path = storage.staging_file(".jsonl")
    try:
        with path.open("w", encoding="utf-8") as out:
            for d in docs:
                row = {"text": d.text, "id": d.external_id, "meta": d.meta, "pages": d.pages}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        key = f"text/{org_id}/{project_id}/incoming-{uuid.uuid4().hex}.jsonl"
        storage.put(path, key)
    finally:
        path.unlink(missing_ok=True)
    return key


def unstash(settings: Settings, key: str) -> list[NewDocument]:
    with storage_for(settings).path(key).open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    return [NewDocument(r["text"], r["id"], r["meta"], r["pages"]) for r in rows]


def queue(
    session: Session,
    principal: Principal,
    settings: Settings,
    project: TextProject,
    body: SourceOptions,
    group_id: int | None,
    stash_key: str | None,
) -> Job:
    """The ``text.documents`` job that adds the body's documents (its params name the
    source; the JSON documents are in ``stash_key``)."""
    params = {
        "project_id": project.id,
        "stash_key": stash_key,
        "group_id": group_id,
        **body.model_dump(
            include={
                "file_id",
                "dataset_id",
                "version",
                "column",
                "id_column",
                "segmentation",
                "skip_empty",
            }
        ),
    }
    return jobs_service.create(
        session=session,
        org_id=principal.org_id,
        type=JOB_TYPE,
        params=params,
        user_id=principal.user_id,
        quotas=settings.quotas,
    )


# -- reading ---------------------------------------------------------------------------


def get(session: Session, project: TextProject, document_id: int) -> TextDocument:
    row = session.scalar(
        select(TextDocument).where(
            TextDocument.id == document_id, TextDocument.project_id == project.id
        )
    )
    if row is None:
        raise NotFound("Document not found.")
    return row


def parse_details(raw: str | None) -> set[str]:
    """``segments,meta,tags`` (any of them, comma-separated) as a set; 422 for others."""
    asked = {part.strip() for part in (raw or "").split(",") if part.strip()}
    unknown = sorted(asked - set(DETAILS))
    if unknown:
        raise ValidationFailed(
            f"Unknown detail {unknown[0]!r}; details are {', '.join(DETAILS)}.",
            details={"reason": "UNKNOWN_DETAIL", "details": list(DETAILS)},
        )
    return asked


_WORD = re.compile(r"[^\W_]+")


def search_clause(session: Session, q: str) -> ColumnElement[bool] | TextClause:
    """Documents whose text has every word of ``q``, through the database's full-text
    index. The words are quoted for FTS5, so no query is a syntax error; a query
    without words matches nothing, as PostgreSQL's ``plainto_tsquery`` does."""
    if session.get_bind().dialect.name == "postgresql":
        return text(
            "to_tsvector('simple', text_document.text) @@ plainto_tsquery('simple', :q)"
        ).bindparams(q=q)
    words = _WORD.findall(q)
    if not words:
        return TextDocument.id.is_(None)
    match = " ".join(f'"{w}"' for w in words)
    hits = (
        text("SELECT rowid FROM text_document_fts WHERE text_document_fts MATCH :fts")
        .bindparams(fts=match)
        .columns(column("rowid", Integer))
    )
    return TextDocument.id.in_(hits)


def list_page(
    session: Session,
    project: TextProject,
    page: PageParams,
    *,
    q: str | None = None,
    group_id: int | None = None,
    session_id: int | None = None,
    external_id: str | None = None,
    analysis_id: int | None = None,
    classes: Sequence[str] = (),
    labels: Sequence[str] = (),
) -> tuple[list[TextDocument], int]:
    """The project's documents in the order they were added, filtered by a text search,
    a group, a session, a caller id or an analysis (documents it has results for, with
    a tag of one of ``classes`` and one of ``labels`` when given: names or ids); a group,
    session or analysis of another project: 404."""
    stmt = (
        select(TextDocument)
        .where(TextDocument.project_id == project.id)
        .options(undefer(TextDocument.text))
        .order_by(TextDocument.id)
    )
    if q:
        stmt = stmt.where(search_clause(session, q))
    if external_id is not None:
        stmt = stmt.where(TextDocument.external_id == external_id)
    if group_id is not None:
        _require_in_project(session, TextGroup, group_id, project, "Group")
        stmt = stmt.where(
            TextDocument.id.in_(
                select(TextGroupDocument.document_id).where(TextGroupDocument.group_id == group_id)
            )
        )
    if session_id is not None:
        _require_in_project(session, TextSession, session_id, project, "Session")
        stmt = stmt.where(
            TextDocument.id.in_(
                select(TextSessionDocument.document_id).where(
                    TextSessionDocument.session_id == session_id
                )
            )
        )
    if analysis_id is not None:
        _require_in_project(session, TextAnalysis, analysis_id, project, "Analysis")
        stmt = stmt.where(_in_analysis(analysis_id, classes, labels))
    elif classes or labels:
        raise ValidationFailed(
            "`class` and `label` filter the results of an analysis: give its `analysis_id`.",
            details={"reason": "NEEDS_ANALYSIS"},
        )
    return paginate(session, stmt, page)


def _in_analysis(analysis_id: int, classes: Sequence[str], labels: Sequence[str]):
    """``IN (subquery)`` rather than a correlated EXISTS: SQLite ran the EXISTS once per
    document, 20 s for 10,000 documents, and the list once, 0.1 s."""
    if not (classes or labels):
        return TextDocument.id.in_(
            select(TextAnalysisResult.document_id).where(
                TextAnalysisResult.analysis_id == analysis_id
            )
        )
    return TextDocument.id.in_(
        select(TextAnalysisTag.document_id).where(*analysis_tag_match(analysis_id, classes, labels))
    )


def analysis_tag_match(
    analysis_id: int, classes: Sequence[str], labels: Sequence[str]
) -> list[ColumnElement[bool]]:
    """Conditions on the tag rows of analysis ``analysis_id`` for a tag with one of
    ``classes`` and one of ``labels`` (each a name or an id in digits; either may be
    empty: any). Names match the name kept with the tag, so a class renamed since the
    analysis is found by the name it had then, and by its id."""
    conditions: list[ColumnElement[bool]] = [TextAnalysisTag.analysis_id == analysis_id]
    for values, id_col, name_col in (
        (classes, TextAnalysisTag.class_id, TextAnalysisTag.class_name),
        (labels, TextAnalysisTag.label_id, TextAnalysisTag.label_name),
    ):
        if values:
            ids = [int(v) for v in values if v.isdecimal() and int(v) <= 2**31 - 1]
            conditions.append(id_col.in_(ids) | name_col.in_(list(values)))
    return conditions


def _require_in_project(session: Session, model: Any, row_id: int, project: TextProject, what: str):
    found = session.scalar(
        select(model.id).where(model.id == row_id, model.project_id == project.id)
    )
    if found is None:
        raise NotFound(f"{what} not found.")


def read_many(
    session: Session, project: TextProject, docs: Sequence[TextDocument], details: set[str]
) -> list[dict]:
    """Documents as the API returns them, with the ``details`` asked for; segments and
    tags of the whole page are read in one query each."""
    ids = [d.id for d in docs]
    segments: dict[int, list[dict]] = defaultdict(list)
    tags: dict[int, list[dict]] = defaultdict(list)
    if "tags" in details and ids:
        for doc_id, tag in _tags(session, project, ids):
            tags[doc_id].append(tag)
    if "segments" in details and ids:
        by_segment: dict[int, list[dict]] = defaultdict(list)
        for doc_tags in tags.values():
            for tag in doc_tags:
                by_segment[tag["segment_id"]].append(tag)
        rows = session.scalars(
            select(TextSegment)
            .where(TextSegment.document_id.in_(ids))
            .order_by(TextSegment.document_id, TextSegment.position)
        )
        for s in rows:
            segment = {
                "id": s.id,
                "position": s.position,
                "start": s.start,
                "end": s.end,
                "span": [s.start, s.end],
                "page": s.page,
                "text": s.text,
            }
            if "tags" in details:
                segment["tags"] = by_segment.get(s.id, [])
            segments[s.document_id].append(segment)
    out = []
    for d in docs:
        body: dict[str, Any] = {
            "id": d.id,
            "external_id": d.external_id,
            "text": d.text,
            "length": d.length,
            "segment_count": d.segment_count,
            "segmentation": d.segmentation,
            "source": d.source,
            "pages": d.pages,
            "created_at": d.created_at,
        }
        if "meta" in details:
            body["meta"] = d.meta or {}
        if "segments" in details:
            body["segments"] = segments.get(d.id, [])
        if "tags" in details:
            body["tags"] = tags.get(d.id, [])
        out.append(body)
    return out


def _tags(session: Session, project: TextProject, ids: list[int]) -> Iterable[tuple[int, dict]]:
    """Every tag on the documents' segments, across sessions, names resolved."""
    classes = {
        i: name
        for i, name in session.execute(
            select(TextClass.id, TextClass.name).where(TextClass.project_id == project.id)
        )
    }
    labels = {
        i: name
        for i, name in session.execute(
            select(TextLabel.id, TextLabel.name).where(TextLabel.project_id == project.id)
        )
    }
    rows = session.scalars(
        select(TextAnnotation)
        .where(TextAnnotation.document_id.in_(ids), TextAnnotation.project_id == project.id)
        .order_by(TextAnnotation.document_id, TextAnnotation.session_id, TextAnnotation.segment_id)
    )
    for a in rows:
        for tag in a.tags or []:
            yield (
                a.document_id,
                {
                    "session_id": a.session_id,
                    "segment_id": a.segment_id,
                    "annotator": a.annotator_key,
                    "annotator_id": a.annotator_id,
                    "source": a.source,
                    "class": classes.get(tag.get("class_id")),
                    "label": labels.get(tag.get("label_id")),
                    "start": tag.get("start"),
                    "end": tag.get("end"),
                },
            )


# -- changing and deleting ---------------------------------------------------------------


def update_meta(
    session: Session, principal: Principal, document: TextDocument, meta: dict, text_: str | None
) -> TextDocument:
    """Replace a document's meta; its text never changes (422)."""
    if text_ is not None:
        raise ValidationFailed(
            "A document's text cannot change: its segments and tags hang on it. "
            "Add a new document and delete this one instead.",
            details={"reason": "TEXT_IMMUTABLE"},
        )
    before = {"meta": document.meta}
    document.meta = jsonable(meta)
    audit.record_change(
        session=session,
        principal=principal,
        action="text.document.update",
        target_type="text_document",
        target_id=document.id,
        before=before,
        after={"meta": document.meta},
    )
    return document


def require_documents(session: Session, project: TextProject, ids: Sequence[int]) -> list[int]:
    """``ids`` without repeats, all documents of ``project``, else 422 UNKNOWN_DOCUMENTS
    naming those that are not (another project's documents are not this one's)."""
    wanted = list(dict.fromkeys(ids))
    found: set[int] = set()
    for lo in range(0, len(wanted), 1000):
        found.update(
            session.scalars(
                select(TextDocument.id).where(
                    TextDocument.project_id == project.id,
                    TextDocument.id.in_(wanted[lo : lo + 1000]),
                )
            )
        )
    missing = [i for i in wanted if i not in found]
    if missing:
        raise ValidationFailed(
            f"No document {', '.join(map(str, missing[:10]))} in this project.",
            details={"reason": "UNKNOWN_DOCUMENTS", "ids": missing[:100]},
        )
    return wanted


def delete_many(
    session: Session, principal: Principal, project: TextProject, ids: Sequence[int]
) -> int:
    """Delete documents of ``project`` (their segments and tags go with them); every id
    must be the project's, else nothing is deleted. Group and session counts follow."""
    wanted = require_documents(session, project, ids)
    deleted = _delete_ids(session, project.id, wanted)
    audit.record_change(
        session=session,
        principal=principal,
        action="text.documents.delete",
        target_type="text_project",
        target_id=project.id,
        before={"documents": deleted, "ids": wanted[:100]},
    )
    return deleted


def _delete_ids(session: Session, project_id: int, ids: Sequence[int]) -> int:
    groups: set[int] = set()
    sessions: set[int] = set()
    deleted = 0
    for lo in range(0, len(ids), 1000):
        chunk = ids[lo : lo + 1000]
        groups.update(
            session.scalars(
                select(TextGroupDocument.group_id).where(TextGroupDocument.document_id.in_(chunk))
            )
        )
        sessions.update(
            session.scalars(
                select(TextSessionDocument.session_id).where(
                    TextSessionDocument.document_id.in_(chunk)
                )
            )
        )
        result = session.execute(
            delete(TextDocument)
            .where(TextDocument.project_id == project_id, TextDocument.id.in_(chunk))
            .execution_options(synchronize_session=False)
        )
        deleted += int(getattr(result, "rowcount", 0) or 0)
    count_documents(session, project_id, -deleted)
    recount_groups(session, groups)
    _recount_sessions(session, sessions)
    session.expire_all()
    return deleted


def remove_added(session: Session, project_id: int, ids: Sequence[int]) -> int:
    """Undo what a failed job added (no audit entry: nothing was added, in the end)."""
    return _delete_ids(session, project_id, ids)
