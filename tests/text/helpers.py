"""Builders every text test shares: an organization to act in, a project made over the
API, its classes and labels, and documents with their segments.

Documents are inserted as rows (:func:`add_documents`), so a test of sessions or
exports does not depend on the upload routes; their segments are the sentences of the
text found by a plain rule (ends at ``.``, ``!`` or ``?``), enough for test texts.
"""

from __future__ import annotations

import itertools
import re

from sqlalchemy import select

from augury.text.models import TextDocument, TextProject, TextSegment
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
