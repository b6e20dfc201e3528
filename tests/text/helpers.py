"""Builders every text test shares: an organization to act in, a project made over the
API, its classes and labels, and documents with their segments.

Documents are inserted as rows (:func:`add_documents`), so a test of sessions or
exports does not depend on the upload routes; their segments are the sentences of the
text found by a plain rule (ends at ``.``, ``!`` or ``?``), enough for test texts.
Jobs (training, batch analyses) run in the test's process with :func:`run_job`.
"""

from __future__ import annotations

import itertools
import re

from sqlalchemy import select

from augury.jobs import types as job_types
from augury.jobs.models import Job
from augury.runtime import wiring
from augury.runtime.job_process import JobAborted, JobContext
from augury.text.models import (
    TextAnnotation,
    TextDocument,
    TextProject,
    TextSegment,
    TextSession,
    TextSessionAssignee,
    TextSessionDocument,
)
from tests.fixtures.factories import Account, signup

API = "/api/v1/text/projects"
_seq = itertools.count(1)
_SENTENCE = re.compile(r"[^.!?]*[.!?]+|[^.!?]+$")


def new_org(client, org: str | None = None) -> Account:
    """The owner of a fresh organization (``.headers``, ``.user_id``, ``.org_id``)."""
    return signup(client, org=org or f"Text org {next(_seq)}")


def org_headers(client, org: str | None = None) -> dict:
    """The auth headers of the owner of a fresh organization."""
    return new_org(client, org).headers


def create_project(client, headers: dict, name: str | None = None, type: str = "CLASS", **fields):
    """A project made over the API; its body as the API answers it."""
    body = {"name": name or f"Project {next(_seq)}", "type": type, **fields}
    r = client.post(API, json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def add_classes(client, headers: dict, project_id: int, names: list[str], kind: str = "classes"):
    """Classes (or labels, ``kind="labels"``) added over the API, in order."""
    body = [{"name": n, "description": f"About {n}"} for n in names]
    r = client.post(f"{API}/{project_id}/{kind}", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["items"]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Half-open spans of the sentences of ``text``, without surrounding spaces."""
    spans = []
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans or [(0, len(text))]


def add_documents(
    db,
    project_id: int,
    texts: list[str],
    *,
    external_ids: list[str | None] | None = None,
    meta: list[dict] | None = None,
) -> list[int]:
    """Documents of ``project_id`` with their sentence segments, committed; their ids."""
    ids = []
    with db.session() as s:
        project = s.scalars(select(TextProject).where(TextProject.id == project_id)).one()
        for i, text in enumerate(texts):
            spans = sentence_spans(text)
            doc = TextDocument(
                org_id=project.org_id,
                project_id=project_id,
                external_id=external_ids[i] if external_ids else None,
                text=text,
                meta=meta[i] if meta else {},
                segmentation=project.segmentation,
                source="api",
                length=len(text),
                segment_count=len(spans),
            )
            s.add(doc)
            s.flush()
            s.add_all(
                TextSegment(
                    document_id=doc.id,
                    project_id=project_id,
                    position=n,
                    start=a,
                    end=b,
                    text=text[a:b],
                )
                for n, (a, b) in enumerate(spans)
            )
            ids.append(doc.id)
        project.document_count += len(texts)
    return ids


def segments_of(db, document_id: int) -> list[TextSegment]:
    """The document's segments, in order."""
    with db.session() as s:
        return list(
            s.scalars(
                select(TextSegment)
                .where(TextSegment.document_id == document_id)
                .order_by(TextSegment.position)
            )
        )


def add_session(
    db,
    project_id: int,
    document_ids: list[int],
    *,
    name: str | None = None,
    mode: str = "ANNOTATION",
    assignees: tuple[int, ...] = (),
) -> int:
    """A session of ``project_id`` over ``document_ids`` (as rows), with its assignees."""
    with db.session() as s:
        project = s.get(TextProject, project_id)
        session = TextSession(
            org_id=project.org_id,
            project_id=project_id,
            name=name or f"Session {next(_seq)}",
            mode=mode,
            status="ANNOTATING",
            sampling={"how": "ids"},
            document_count=len(document_ids),
        )
        s.add(session)
        s.flush()
        s.add_all(
            TextSessionDocument(session_id=session.id, document_id=d, position=i)
            for i, d in enumerate(document_ids)
        )
        s.add_all(TextSessionAssignee(session_id=session.id, user_id=u) for u in assignees)
        return session.id


def annotate(
    db,
    session_id: int,
    segment_id: int,
    tags: list[dict],
    *,
    user_id: int | None = None,
    key: str | None = None,
    source: str = "human",
) -> int:
    """One annotator's tags (``[{"class_id", "label_id", "start", "end"}]``, missing keys
    null) on one segment of a session, as a row; its id."""
    with db.session() as s:
        session = s.get(TextSession, session_id)
        segment = s.get(TextSegment, segment_id)
        row = TextAnnotation(
            org_id=session.org_id,
            project_id=session.project_id,
            session_id=session_id,
            document_id=segment.document_id,
            segment_id=segment_id,
            annotator_id=user_id,
            annotator_key=key or (f"user:{user_id}" if user_id else "import"),
            source=source,
            tags=[{k: t.get(k) for k in ("class_id", "label_id", "start", "end")} for t in tags],
        )
        s.add(row)
        s.flush()
        return row.id


def other_org(client, account: Account, name: str | None = None) -> tuple[int, dict]:
    """A second organization ``account`` owns: its id and headers acting in it."""
    r = client.post(
        "/api/v1/organizations",
        json={"name": name or f"Second org {next(_seq)}"},
        headers=account.headers,
    )
    assert r.status_code == 201, r.text
    org_id = r.json()["id"]
    r = client.post(
        "/api/v1/auth/switch", json={"organization_id": org_id}, headers=account.headers
    )
    assert r.status_code == 200, r.text
    return org_id, {"Authorization": f"Bearer {r.json()['access_token']}"}


def run_job(db, settings, job_id: int) -> dict:
    """Run a queued job now, in this process, as a job process would (its real
    :class:`JobContext`: progress, abort checks, notifications), and record its outcome
    as the runner does; the job's exception is raised again."""
    wiring.install()
    with db.session() as s:
        job = s.get(Job, job_id)
        s.expunge(job)
    kind = job_types.registry.load(job.type)
    try:
        result = kind.run(JobContext(db, settings, job), kind.Params.model_validate(job.params))
    except BaseException as exc:
        with db.session() as s:
            s.get(Job, job_id).status = "aborted" if isinstance(exc, JobAborted) else "failed"
        raise
    with db.session() as s:
        row = s.get(Job, job_id)
        row.status, row.result, row.progress = "succeeded", result, 100.0
    return result


def labeled(db, project_id: int, examples: dict[str, list[str]], class_ids: dict, user_id: int):
    """One document per example sentence, tagged with its class by ``user_id`` in one
    labeling session; the session's id."""
    texts = [(name, text) for name, sentences in examples.items() for text in sentences]
    docs = add_documents(db, project_id, [t for _, t in texts])
    sid = add_session(db, project_id, docs)
    for doc, (name, _) in zip(docs, texts, strict=True):
        annotate(
            db, sid, segments_of(db, doc)[0].id, [{"class_id": class_ids[name]}], user_id=user_id
        )
    return sid
