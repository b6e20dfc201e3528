"""Text projects: classes and labels, documents and their segments, labeling and
correction sessions, human review, the models trained on them and the analyses they
run (``client.text``).

Everything lives under a project, so every call takes its ``project_id`` first, and
the groups hang off one attribute: ``client.text.projects``, ``.classes``, ``.labels``,
``.files``, ``.documents``, ``.groups``, ``.sessions``, ``.review``, ``.models`` and
``.analyses``.

A file becomes documents in two steps, as in the UI: :meth:`TextFiles.upload` answers
its columns and first rows, then :meth:`TextDocuments.from_file` makes documents of
the column you pick; :meth:`TextDocuments.upload` does both. A large upload answers
202 with the job that segments it (``{"job": ...}``; wait with ``client.jobs.wait``).
Files go up as streams (httpx reads the open file in chunks) and come down whole.

Training a model and a batch analysis are jobs too, followed on the model or analysis
itself (its ``status`` and ``progress``): ``wait=True`` polls it until it is done and
raises :class:`TextJobError` when it failed or was aborted.
"""

from __future__ import annotations

import builtins
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from augury.client.base import JSON, Resource, _body, _query
from augury.client.errors import AuguryAPIError

if TYPE_CHECKING:
    from augury.client.connection import Client

_PathLike = str | os.PathLike[str]
_Tag = Mapping[str, Any]
"""``{"class": name, "label": name, "start", "end"}``; ``class_id``/``label_id`` also do."""
_Progress = Callable[[JSON], None]
"""Called with the model or analysis at each poll of a wait (to show its ``progress``)."""
_FINISHED = frozenset({"READY", "SUCCEEDED"})
_Several = str | int | Iterable[str | int] | None
"""Class or label filters: a name or id, or several (sent as a repeated parameter)."""


def _names(values: Iterable[str] | None) -> builtins.list[str] | None:
    return None if values is None else builtins.list(values)


def _several(values: str | Iterable[str] | None) -> str | builtins.list[str] | None:
    return values if values is None or isinstance(values, str) else builtins.list(values)


def _details(details: str | Iterable[str] | None) -> str | None:
    """``details`` as the API reads it: a comma list of segments, meta, tags."""
    if details is None or isinstance(details, str):
        return details
    return ",".join(details)


class _ProjectResource(Resource):
    """A group whose routes are under one project."""

    @staticmethod
    def _at(project_id: int, rest: str = "") -> str:
        return f"/text/projects/{project_id}{rest}"


class TextProjects(_ProjectResource):
    """Projects, their members, clones, transfers, export and import
    (``client.text.projects``)."""

    def list(
        self,
        q: str | None = None,
        *,
        type: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> JSON:
        """One page of the organization's projects; ``q`` searches names, ``type`` is
        CLASS, LABEL, CLASSLABEL or ABSA."""
        return self._page("/text/projects", offset, limit, **_query({"q": q, "type": type}))

    def iter(
        self, q: str | None = None, *, type: str | None = None, page_size: int = 100
    ) -> Iterator[JSON]:
        """Every project matching the filters."""
        return self._iter("/text/projects", page_size, **_query({"q": q, "type": type}))

    def create(
        self,
        name: str,
        type: str = "CLASS",
        *,
        description: str | None = None,
        language: str | None = None,
        segmentation: str | None = None,
    ) -> JSON:
        """A project of ``type`` CLASS (one class per segment), LABEL (multi-label),
        CLASSLABEL or ABSA (aspects with the fixed sentiments POS/NEG/NEU/CONFLICT);
        ``segmentation`` (sentence, paragraph or none) splits its documents."""
        body = _body(
            name=name,
            type=type,
            description=description,
            language=language,
            segmentation=segmentation,
        )
        return self._client.request("POST", "/text/projects", json=body)

    def get(self, project_id: int) -> JSON:
        """A project with its counts (documents, classes, labels, sessions) and your
        ``role`` in it."""
        return self._client.request("GET", self._at(project_id))

    def update(self, project_id: int, **changes: Any) -> JSON:
        """Change ``name``, ``description``, ``language`` or ``segmentation``; what is
        not given stays."""
        return self._client.request("PATCH", self._at(project_id), json=changes)

    def delete(self, project_id: int, *, confirm: bool = False) -> None:
        """Delete the project with its documents, sessions and models. Without
        ``confirm`` the server refuses (:class:`~augury.client.ConflictError`) and its
        ``details`` count what would go (documents, sessions, classes, labels, groups)."""
        params = {"confirm": "true"} if confirm else None
        self._client.request("DELETE", self._at(project_id), params=params)

    # --- members ------------------------------------------------------------------------

    def members(self, project_id: int, *, offset: int = 0, limit: int = 50) -> JSON:
        """One page of the organization's people with their ``role`` in the project:
        the ``explicit_role`` set on it, else what their ``org_role`` gives."""
        return self._page(self._at(project_id, "/members"), offset, limit)

    def iter_members(self, project_id: int, *, page_size: int = 100) -> Iterator[JSON]:
        return self._iter(self._at(project_id, "/members"), page_size)

    def set_member(self, project_id: int, user_id: int, role: str) -> JSON:
        """Give a person of the organization an explicit role: MANAGER, ANNOTATOR or VIEWER."""
        route = self._at(project_id, f"/members/{user_id}")
        return self._client.request("PUT", route, json={"role": role})

    def remove_member(self, project_id: int, user_id: int) -> None:
        """Drop a person's explicit role (their organization role applies again)."""
        self._client.request("DELETE", self._at(project_id, f"/members/{user_id}"))

    # --- copies and moves ---------------------------------------------------------------

    def clone(
        self,
        project_id: int,
        name: str | None = None,
        *,
        org_id: int | None = None,
        include_annotations: bool | None = None,
    ) -> JSON:
        """Copy the project (classes, labels, documents with segments, groups, and with
        ``include_annotations`` its labeled sessions), in this organization or in
        ``org_id``, one you administer; ``name`` defaults to "Copy of <name>"."""
        body = _body(name=name, org_id=org_id, include_annotations=include_annotations)
        return self._client.request("POST", self._at(project_id, "/clone"), json=body)

    def transfer(self, project_id: int, org_id: int) -> JSON:
        """Move the project and everything in it to another organization you administer."""
        body = {"org_id": org_id}
        return self._client.request("POST", self._at(project_id, "/transfer"), json=body)

    # --- labeled data -------------------------------------------------------------------

    def export(
        self,
        project_id: int,
        format: str = "csv",
        *,
        session_id: int | None = None,
        path: _PathLike | None = None,
    ) -> bytes | Path:
        """The labeled data as csv, jsonl or xlsx (one row per segment and tag; the
        format is in docs/text.md): its bytes, or written to ``path``."""
        params = _query({"format": format, "session_id": session_id})
        return self._download(self._at(project_id, "/export"), params, path)

    def import_file(
        self,
        project_id: int,
        path: _PathLike,
        *,
        name: str | None = None,
        create_missing: bool = False,
        timeout: float | None = None,
    ) -> JSON:
        """Import a file in the export's format (csv, jsonl or xlsx): an IMPORT session
        per session the file names (``name`` when it names none), with their documents
        (matched by ``external_id``) and tags: ``{"sessions", "documents_created",
        "annotations", ...}``. Class and label names the project lacks are refused
        unless ``create_missing``."""
        fields = _body(name=name, create_missing="true" if create_missing else None)
        return self._upload(self._at(project_id, "/import"), path, fields, timeout=timeout)


class _Vocabulary(_ProjectResource):
    """Classes and labels: the same calls on ``/classes`` and ``/labels``."""

    _kind = ""

    def list(self, project_id: int, *, offset: int = 0, limit: int = 50) -> JSON:
        """One page of the project's entries, in display order."""
        return self._page(self._at(project_id, f"/{self._kind}"), offset, limit)

    def iter(self, project_id: int, *, page_size: int = 100) -> Iterator[JSON]:
        return self._iter(self._at(project_id, f"/{self._kind}"), page_size)

    def create(
        self,
        project_id: int,
        name: str,
        *,
        description: str | None = None,
        examples: Iterable[str] | None = None,
    ) -> JSON:
        """Add one entry; ``description`` and ``examples`` guide annotators (and
        zero-shot models)."""
        body = _body(name=name, description=description, examples=_names(examples))
        return self._client.request("POST", self._at(project_id, f"/{self._kind}"), json=body)

    def add(
        self, project_id: int, entries: Iterable[Mapping[str, Any] | str]
    ) -> builtins.list[JSON]:
        """Add many at once (all or none): dicts with ``name``, ``description``,
        ``examples``, or plain names. A name the project has already is a
        :class:`~augury.client.ConflictError` naming it."""
        body = [{"name": e} if isinstance(e, str) else dict(e) for e in entries]
        answer = self._client.request("POST", self._at(project_id, f"/{self._kind}"), json=body)
        return answer["items"] if isinstance(answer, dict) else answer

    def get(self, project_id: int, entry_id: int) -> JSON:
        return self._client.request("GET", self._at(project_id, f"/{self._kind}/{entry_id}"))

    def update(self, project_id: int, entry_id: int, **changes: Any) -> JSON:
        """Change ``name``, ``description``, ``examples`` or ``position``; what is not
        given stays."""
        route = self._at(project_id, f"/{self._kind}/{entry_id}")
        return self._client.request("PATCH", route, json=changes)

    def delete(self, project_id: int, entry_id: int) -> JSON:
        """Delete it; the tags that used it go with it (``tags_removed`` counts them)."""
        route = self._at(project_id, f"/{self._kind}/{entry_id}")
        answer: JSON = self._client.request("DELETE", route)
        return answer

    def upload(
        self, project_id: int, path: _PathLike, *, timeout: float | None = None
    ) -> builtins.list[JSON]:
        """Add the entries of a CSV, XLSX or JSON file (columns name, description,
        examples: one a line of the cell), all or none."""
        route = self._at(project_id, f"/{self._kind}/upload")
        answer: Any = self._upload(route, path, timeout=timeout)
        return answer["items"] if isinstance(answer, dict) else answer

    def download(
        self, project_id: int, format: str = "csv", *, path: _PathLike | None = None
    ) -> bytes | Path:
        """Every entry as csv, json or xlsx (what :meth:`upload` reads back): the bytes,
        or written to ``path``."""
        route = self._at(project_id, f"/{self._kind}/download")
        return self._download(route, {"format": format}, path)


class TextClasses(_Vocabulary):
    """A project's classes, or an ABSA project's aspect categories
    (``client.text.classes``)."""

    _kind = "classes"


class TextLabels(_Vocabulary):
    """A project's labels (``client.text.labels``); an ABSA project's are fixed."""

    _kind = "labels"


class TextFiles(_ProjectResource):
    """Files uploaded to pick a column from (``client.text.files``); they expire after
    a day."""

    def upload(self, project_id: int, path: _PathLike, *, timeout: float | None = None) -> JSON:
        """Upload CSV, TXT (a document a line), JSON, JSONL, XLSX, PDF or an image:
        ``{"id", "file_name", "format", "columns", "row_count", "preview"}``, the
        preview's first row being the header."""
        return self._upload(self._at(project_id, "/files"), path, timeout=timeout)

    def get(self, project_id: int, file_id: str) -> JSON:
        return self._client.request("GET", self._at(project_id, f"/files/{file_id}"))


class TextDocuments(_ProjectResource):
    """Documents and their segments (``client.text.documents``)."""

    def create(
        self,
        project_id: int,
        documents: Iterable[Mapping[str, Any] | str],
        *,
        segmentation: str | None = None,
        skip_empty: bool | None = None,
    ) -> JSON:
        """Documents from ``{"text", "id"?, ...}`` dicts (other fields are kept as
        ``meta``) or plain texts. Up to 1,000 answer ``{"items", "count"}`` (ids and
        segment counts); more answer ``{"job": ...}``, the job that makes them.
        ``skip_empty`` leaves out empty texts instead of refusing the call."""
        docs = [{"text": d} if isinstance(d, str) else dict(d) for d in documents]
        body = _body(documents=docs, segmentation=segmentation, skip_empty=skip_empty)
        return self._client.request("POST", self._at(project_id, "/documents"), json=body)

    def from_file(
        self,
        project_id: int,
        file_id: str,
        column: str | int,
        *,
        id_column: str | int | None = None,
        segmentation: str | None = None,
        skip_empty: bool | None = None,
    ) -> JSON:
        """Documents from a column (name or 0-based index) of an uploaded file; the other
        columns become ``meta``, ``id_column`` the documents' own ids. Answers as
        :meth:`create`."""
        body = _body(
            file_id=file_id,
            column=column,
            id_column=id_column,
            segmentation=segmentation,
            skip_empty=skip_empty,
        )
        return self._client.request("POST", self._at(project_id, "/documents"), json=body)

    def from_dataset(
        self,
        project_id: int,
        dataset_id: int,
        column: str | int,
        *,
        version: int | None = None,
        id_column: str | int | None = None,
        segmentation: str | None = None,
        skip_empty: bool | None = None,
    ) -> JSON:
        """Documents from a column of one of the organization's datasets (its latest
        version unless ``version``). Answers as :meth:`create`."""
        body = _body(
            dataset_id=dataset_id,
            version=version,
            column=column,
            id_column=id_column,
            segmentation=segmentation,
            skip_empty=skip_empty,
        )
        return self._client.request("POST", self._at(project_id, "/documents"), json=body)

    def upload(
        self,
        project_id: int,
        path: _PathLike,
        column: str | int = "text",
        *,
        id_column: str | int | None = None,
        segmentation: str | None = None,
        skip_empty: bool | None = None,
        timeout: float | None = None,
    ) -> JSON:
        """Upload a file and make documents of ``column`` in one go: the answer of
        :meth:`from_file` with the uploaded file's preview as ``file``."""
        file = self._upload(self._at(project_id, "/files"), path, timeout=timeout)
        made = self.from_file(
            project_id,
            file["id"],
            column,
            id_column=id_column,
            segmentation=segmentation,
            skip_empty=skip_empty,
        )
        return {**made, "file": file}

    def list(
        self,
        project_id: int,
        q: str | None = None,
        *,
        group_id: int | None = None,
        session_id: int | None = None,
        external_id: str | None = None,
        details: str | Iterable[str] | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> JSON:
        """One page of documents; ``q`` searches their text (the database's full-text
        search), ``details`` adds any of segments, meta, tags."""
        filters = self._filters(q, group_id, session_id, external_id, details)
        return self._page(self._at(project_id, "/documents"), offset, limit, **filters)

    def iter(
        self,
        project_id: int,
        q: str | None = None,
        *,
        group_id: int | None = None,
        session_id: int | None = None,
        external_id: str | None = None,
        details: str | Iterable[str] | None = None,
        page_size: int = 100,
    ) -> Iterator[JSON]:
        """Every document matching the filters."""
        filters = self._filters(q, group_id, session_id, external_id, details)
        return self._iter(self._at(project_id, "/documents"), page_size, **filters)

    @staticmethod
    def _filters(
        q: str | None,
        group_id: int | None,
        session_id: int | None,
        external_id: str | None,
        details: str | Iterable[str] | None,
    ) -> JSON:
        return _query(
            {
                "q": q,
                "group_id": group_id,
                "session_id": session_id,
                "external_id": external_id,
                "details": _details(details),
            }
        )

    def get(
        self, project_id: int, document_id: int, *, details: str | Iterable[str] | None = None
    ) -> JSON:
        """A document with its text; ``details`` adds any of segments, meta, tags."""
        params = _query({"details": _details(details)})
        route = self._at(project_id, f"/documents/{document_id}")
        return self._client.request("GET", route, params=params)

    def update(self, project_id: int, document_id: int, meta: Mapping[str, Any]) -> JSON:
        """Replace a document's ``meta`` (its text never changes: segments and tags hang
        on it)."""
        route = self._at(project_id, f"/documents/{document_id}")
        return self._client.request("PATCH", route, json={"meta": dict(meta)})

    def delete(self, project_id: int, document_id: int) -> None:
        self._client.request("DELETE", self._at(project_id, f"/documents/{document_id}"))

    def delete_many(self, project_id: int, ids: Iterable[int]) -> int:
        """Delete several documents (all of them this project's, or none); how many went."""
        route = self._at(project_id, "/documents/delete")
        answer = self._client.request("POST", route, json={"ids": builtins.list(ids)})
        return int(answer["deleted"])


class TextGroups(_ProjectResource):
    """Named groups of a project's documents (``client.text.groups``)."""

    def list(self, project_id: int, *, offset: int = 0, limit: int = 50) -> JSON:
        return self._page(self._at(project_id, "/groups"), offset, limit)

    def iter(self, project_id: int, *, page_size: int = 100) -> Iterator[JSON]:
        return self._iter(self._at(project_id, "/groups"), page_size)

    def create(
        self,
        project_id: int,
        name: str,
        *,
        description: str | None = None,
        document_ids: Iterable[int] | None = None,
        documents: Iterable[Mapping[str, Any] | str] | None = None,
        file_id: str | None = None,
        column: str | int | None = None,
        id_column: str | int | None = None,
        segmentation: str | None = None,
    ) -> JSON:
        """A group of existing documents (``document_ids``), of new ones
        (``documents``, made as :meth:`TextDocuments.create` does), of a file's column
        (``file_id`` and ``column``), or empty. A large upload fills it in a job: the
        group's ``job``."""
        docs = None
        if documents is not None:
            docs = [{"text": d} if isinstance(d, str) else dict(d) for d in documents]
        body = _body(
            name=name,
            description=description,
            document_ids=None if document_ids is None else builtins.list(document_ids),
            documents=docs,
            file_id=file_id,
            column=column,
            id_column=id_column,
            segmentation=segmentation,
        )
        return self._client.request("POST", self._at(project_id, "/groups"), json=body)

    def get(self, project_id: int, group_id: int) -> JSON:
        return self._client.request("GET", self._at(project_id, f"/groups/{group_id}"))

    def update(self, project_id: int, group_id: int, **changes: Any) -> JSON:
        """Change ``name`` or ``description``."""
        route = self._at(project_id, f"/groups/{group_id}")
        return self._client.request("PATCH", route, json=changes)

    def delete(self, project_id: int, group_id: int) -> None:
        """Delete the group (its documents stay in the project)."""
        self._client.request("DELETE", self._at(project_id, f"/groups/{group_id}"))

    def add_documents(self, project_id: int, group_id: int, ids: Iterable[int]) -> JSON:
        """Add documents of the project: ``{"changed", "document_count"}``."""
        route = self._at(project_id, f"/groups/{group_id}/documents")
        return self._client.request("POST", route, json={"ids": builtins.list(ids)})

    def remove_documents(self, project_id: int, group_id: int, ids: Iterable[int]) -> JSON:
        """Take documents out of the group (they stay in the project)."""
        route = self._at(project_id, f"/groups/{group_id}/documents")
        answer: JSON = self._client.request("DELETE", route, json={"ids": builtins.list(ids)})
        return answer

    def documents(
        self,
        project_id: int,
        group_id: int,
        q: str | None = None,
        *,
        offset: int = 0,
        limit: int = 50,
    ) -> JSON:
        """One page of the group's documents; ``q`` searches their text."""
        route = self._at(project_id, f"/groups/{group_id}/documents")
        return self._page(route, offset, limit, **_query({"q": q}))

    def download(
        self,
        project_id: int,
        group_id: int,
        format: str = "csv",
        *,
        path: _PathLike | None = None,
    ) -> bytes | Path:
        """The group's documents (text, id, meta) as csv, jsonl, json or xlsx."""
        route = self._at(project_id, f"/groups/{group_id}/download")
        return self._download(route, {"format": format}, path)


class TextSessions(_ProjectResource):
    """Labeling, correction and import sessions, and the tags people save in them
    (``client.text.sessions``)."""

    def list(
        self,
        project_id: int,
        *,
        mode: str | Iterable[str] | None = None,
        status: str | Iterable[str] | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> JSON:
        """One page of the sessions you may see (annotators: those assigned to them),
        newest first; ``mode`` and ``status`` take one value or several."""
        filters = _query({"mode": _several(mode), "status": _several(status)})
        return self._page(self._at(project_id, "/sessions"), offset, limit, **filters)

    def iter(
        self,
        project_id: int,
        *,
        mode: str | Iterable[str] | None = None,
        status: str | Iterable[str] | None = None,
        page_size: int = 100,
    ) -> Iterator[JSON]:
        filters = _query({"mode": _several(mode), "status": _several(status)})
        return self._iter(self._at(project_id, "/sessions"), page_size, **filters)

    def create(
        self,
        project_id: int,
        name: str,
        *,
        mode: str | None = None,
        description: str | None = None,
        classes: Iterable[str] | None = None,
        labels: Iterable[str] | None = None,
        sample_size: int | None = None,
        seed: int | None = None,
        document_ids: Iterable[int] | None = None,
        group_id: int | None = None,
        documents: Iterable[Mapping[str, Any] | str] | None = None,
        segmentation: str | None = None,
        file_id: str | None = None,
        column_mapping: Mapping[str, str] | None = None,
        create_missing: bool | None = None,
        assignees: Iterable[int] | None = None,
        strategy: str | None = None,
        model_id: int | None = None,
    ) -> JSON:
        """A session over some of the project's documents: a random ``sample_size``
        (reproducible with ``seed``), ``document_ids``, a ``group_id``, new
        ``documents``, or an already labeled file (``file_id`` with ``column_mapping``
        ``{"text", "class", "label", "aspect"}``: an IMPORT session). ``classes`` and
        ``labels`` (names) narrow what is offered. ``mode="CORRECTION"`` lets a model
        pre-tag a sample chosen by ``strategy`` (least_confident or diverse)."""
        docs = None
        if documents is not None:
            docs = [{"text": d} if isinstance(d, str) else dict(d) for d in documents]
        body = _body(
            name=name,
            mode=mode,
            description=description,
            classes=_names(classes),
            labels=_names(labels),
            sample_size=sample_size,
            seed=seed,
            document_ids=None if document_ids is None else builtins.list(document_ids),
            group_id=group_id,
            documents=docs,
            segmentation=segmentation,
            file_id=file_id,
            column_mapping=None if column_mapping is None else dict(column_mapping),
            create_missing=create_missing,
            assignees=None if assignees is None else builtins.list(assignees),
            strategy=strategy,
            model_id=model_id,
        )
        return self._client.request("POST", self._at(project_id, "/sessions"), json=body)

    def get(self, project_id: int, session_id: int) -> JSON:
        """A session: its mode, status, document count, progress (0-100), classes,
        labels, assignees and, for corrections, the ``predicted_score`` of the next
        model with how it was estimated (``prediction``)."""
        return self._client.request("GET", self._at(project_id, f"/sessions/{session_id}"))

    def update(self, project_id: int, session_id: int, **changes: Any) -> JSON:
        """Change ``name``, ``description``, the ``classes`` and ``labels`` offered, or
        ``status`` (``"FINISHED"`` closes the session, ``"ANNOTATING"`` reopens it)."""
        route = self._at(project_id, f"/sessions/{session_id}")
        return self._client.request("PATCH", route, json=changes)

    def delete(self, project_id: int, session_id: int, *, confirm: bool = False) -> None:
        """Delete the session with its tags and marks (its documents stay). One holding
        labels needs ``confirm``, else :class:`~augury.client.ConflictError` counts them."""
        params = {"confirm": "true"} if confirm else None
        route = self._at(project_id, f"/sessions/{session_id}")
        self._client.request("DELETE", route, params=params)

    def set_assignees(self, project_id: int, session_id: int, user_ids: Iterable[int]) -> JSON:
        """Who labels the session (replaces the list)."""
        route = self._at(project_id, f"/sessions/{session_id}/assignees")
        return self._client.request("PUT", route, json={"user_ids": builtins.list(user_ids)})

    # --- annotating ---------------------------------------------------------------------

    def documents(
        self, project_id: int, session_id: int, *, offset: int = 0, limit: int = 50
    ) -> JSON:
        """One page of the session's documents in its order, each with your done state."""
        return self._page(self._at(project_id, f"/sessions/{session_id}/documents"), offset, limit)

    def iter_documents(
        self, project_id: int, session_id: int, *, page_size: int = 100
    ) -> Iterator[JSON]:
        return self._iter(self._at(project_id, f"/sessions/{session_id}/documents"), page_size)

    def document(
        self,
        project_id: int,
        session_id: int,
        document_id: int,
        *,
        annotator: int | None = None,
    ) -> JSON:
        """A document of the session with its segments and your tags (or, for managers,
        ``annotator``'s), the model's suggestions in a correction session, and the
        ``next``/``previous`` document ids."""
        route = self._at(project_id, f"/sessions/{session_id}/documents/{document_id}")
        return self._client.request("GET", route, params=_query({"annotator": annotator}))

    def save_tags(
        self,
        project_id: int,
        session_id: int,
        document_id: int,
        segment_id: int,
        tags: Iterable[_Tag],
        version: int | None = None,
    ) -> JSON:
        """Replace your tags on a segment; the answer holds the new ``version``.
        ``version`` is the one you read (None: you read none); a stale one raises
        :class:`~augury.client.ConflictError` whose ``details`` hold the current tags
        and version."""
        route = self._at(
            project_id,
            f"/sessions/{session_id}/documents/{document_id}/segments/{segment_id}/tags",
        )
        body = {"tags": [dict(t) for t in tags], "version": version}
        return self._client.request("PUT", route, json=body)

    def mark(
        self,
        project_id: int,
        session_id: int,
        document_id: int,
        name: str = "ANNOTATED",
        *,
        segment_id: int | None = None,
        page: int | None = None,
    ) -> JSON:
        """Mark a segment, a page or (neither given) the whole document ANNOTATED or
        SKIPPED."""
        route = self._mark_route(project_id, session_id, document_id, segment_id, page)
        return self._client.request("POST", route, json={"name": name})

    def unmark(
        self,
        project_id: int,
        session_id: int,
        document_id: int,
        *,
        segment_id: int | None = None,
        page: int | None = None,
    ) -> None:
        """Take a mark back (undo)."""
        route = self._mark_route(project_id, session_id, document_id, segment_id, page)
        self._client.request("DELETE", route)

    def _mark_route(
        self,
        project_id: int,
        session_id: int,
        document_id: int,
        segment_id: int | None,
        page: int | None,
    ) -> str:
        if segment_id is not None and page is not None:
            raise ValueError("mark a segment or a page, not both")
        target = f"/sessions/{session_id}/documents/{document_id}"
        if segment_id is not None:
            target += f"/segments/{segment_id}"
        elif page is not None:
            target += f"/pages/{page}"
        return self._at(project_id, target + "/mark")

    def progress(self, project_id: int, session_id: int) -> JSON:
        """Documents done, segments tagged and skipped, overall and per annotator."""
        return self._client.request("GET", self._at(project_id, f"/sessions/{session_id}/progress"))

    def agreement(self, project_id: int, session_id: int) -> JSON:
        """How far annotators of the same segments agree: Cohen's (two) or Fleiss'
        (more) kappa, with percent agreement and item counts."""
        return self._client.request(
            "GET", self._at(project_id, f"/sessions/{session_id}/agreement")
        )


class TextReview(_ProjectResource):
    """Human review of low-confidence predictions (``client.text.review``)."""

    def config(self, project_id: int) -> JSON:
        """The project's review settings (the webhook secret is never shown again)."""
        return self._client.request("GET", self._at(project_id, "/review/config"))

    def configure(self, project_id: int, **settings: Any) -> JSON:
        """Save review settings; what is not given keeps its value: ``enabled``,
        ``threshold`` (0-1: less confident predictions go to people), ``classes``
        (names; None: every class), ``assignee_ids`` (reviewers, given items in turn)
        and ``webhook_url`` (called, signed, for each batch of new items; None removes
        it). The answer that first sets a webhook holds its ``webhook_secret``, once."""
        if "classes" in settings and settings["classes"] is not None:
            settings["classes"] = builtins.list(settings["classes"])
        if "assignee_ids" in settings:
            settings["assignee_ids"] = builtins.list(settings["assignee_ids"])
        route = self._at(project_id, "/review/config")
        return self._client.request("PUT", route, json=settings)

    def rotate_secret(self, project_id: int) -> JSON:
        """A new webhook secret (shown once); the old one stops signing at once."""
        return self._client.request("POST", self._at(project_id, "/review/config/rotate-secret"))

    def items(
        self,
        project_id: int,
        *,
        status: str | None = None,
        assignee: int | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> JSON:
        """One page of review items (reviewers see theirs, managers all); ``status`` is
        PENDING, ACCEPTED or CORRECTED."""
        filters = _query({"status": status, "assignee": assignee})
        return self._page(self._at(project_id, "/review/items"), offset, limit, **filters)

    def iter_items(
        self,
        project_id: int,
        *,
        status: str | None = None,
        assignee: int | None = None,
        page_size: int = 100,
    ) -> Iterator[JSON]:
        filters = _query({"status": status, "assignee": assignee})
        return self._iter(self._at(project_id, "/review/items"), page_size, **filters)

    def item(self, project_id: int, item_id: int) -> JSON:
        return self._client.request("GET", self._at(project_id, f"/review/items/{item_id}"))

    def accept(self, project_id: int, item_id: int) -> JSON:
        """The prediction was right: it becomes training data as it is."""
        route = self._at(project_id, f"/review/items/{item_id}/accept")
        return self._client.request("POST", route)

    def correct(self, project_id: int, item_id: int, tags: Iterable[_Tag]) -> JSON:
        """The right tags instead (names or ids of the project's classes and labels)."""
        route = self._at(project_id, f"/review/items/{item_id}/correct")
        return self._client.request("POST", route, json={"tags": [dict(t) for t in tags]})


class TextJobError(AuguryAPIError):
    """A training or batch analysis waited for (``wait=True``) that ended FAILED or
    ABORTED.

    The requests succeeded, the work did not, so ``status`` is that of the answer that
    showed it (200); ``code`` is ``TRAINING_FAILED``, ``ANALYSIS_FAILED`` or
    ``ABORTED``, ``message`` the server's reason, and ``details`` holds the model (or
    analysis) as it ended under ``"model"`` (or ``"analysis"``).
    """


def _wait(
    fetch: Callable[[], JSON],
    kind: str,
    timeout: float,
    poll_interval: float,
    on_progress: _Progress | None,
) -> JSON:
    """Poll ``fetch`` until what it answers (a ``kind``: model or analysis) is done.

    Raises :class:`TextJobError` when it failed or was aborted, ``TimeoutError`` when
    it is still going after ``timeout`` seconds (the work itself goes on).
    """
    deadline = time.monotonic() + timeout
    while True:
        current = fetch()
        if on_progress is not None:
            on_progress(current)
        status = current["status"]
        if status in _FINISHED:
            return current
        if status == "ABORTED":
            reason = current.get("error") or "aborted"
            raise TextJobError(200, "ABORTED", f"{kind} {current['id']}: {reason}", {kind: current})
        if status == "FAILED":
            code = "TRAINING_FAILED" if kind == "model" else "ANALYSIS_FAILED"
            reason = current.get("error") or "no reason given"
            raise TextJobError(200, code, f"{kind} {current['id']}: {reason}", {kind: current})
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{kind} {current['id']} is still {status} after {timeout} s")
        time.sleep(min(poll_interval, left))


def _ids(values: Iterable[int] | None) -> builtins.list[int] | None:
    return None if values is None else builtins.list(values)


def _repeated(name: str, values: _Several) -> builtins.list[tuple[str, Any]]:
    """A filter that may repeat (``?class=a&class=b``), as query pairs."""
    if values is None:
        return []
    if isinstance(values, str | int):
        return [(name, values)]
    return [(name, v) for v in values]


class TextModels(_ProjectResource):
    """A project's trained (and uploaded) model versions (``client.text.models``).

    Training is a job: :meth:`train` answers the new version QUEUED, with its
    ``job_id``; ``wait=True`` (or :meth:`wait`) polls it until it is READY and raises
    :class:`TextJobError` if it failed or was aborted.
    """

    def list(
        self,
        project_id: int,
        *,
        name: str | None = None,
        status: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> JSON:
        """One page of the project's model versions, newest first; ``status`` is QUEUED,
        TRAINING, READY, FAILED or ABORTED."""
        filters = _query({"name": name, "status": status})
        return self._page(self._at(project_id, "/models"), offset, limit, **filters)

    def iter(
        self,
        project_id: int,
        *,
        name: str | None = None,
        status: str | None = None,
        page_size: int = 100,
    ) -> Iterator[JSON]:
        filters = _query({"name": name, "status": status})
        return self._iter(self._at(project_id, "/models"), page_size, **filters)

    def train(
        self,
        project_id: int,
        name: str,
        *,
        session_ids: Iterable[int] | None = None,
        train_session_ids: Iterable[int] | None = None,
        test_session_ids: Iterable[int] | None = None,
        test_fraction: float | None = None,
        seed: int | None = None,
        language: str | None = None,
        description: str | None = None,
        file_id: str | None = None,
        column_mapping: Mapping[str, str] | None = None,
        create_missing: bool = False,
        wait: bool = False,
        timeout: float = 600.0,
        poll_interval: float = 0.5,
        on_progress: _Progress | None = None,
    ) -> JSON:
        """Train a model on what people labeled in ``session_ids`` (split by document
        into train and ``test_fraction`` test, reproducibly with ``seed``), or on
        ``train_session_ids`` tested on ``test_session_ids``, or on an uploaded labeled
        file (``file_id`` and its ``column_mapping``, e.g. ``{"text": "review",
        "class": "topic"}``; ``create_missing`` adds names the project lacks). A ``name`` that has
        versions gets the next one. The new version (QUEUED, with its ``job_id``), or
        with ``wait`` the version once READY (``on_progress`` sees it at each poll)."""
        body = _body(
            name=name,
            description=description,
            session_ids=_ids(session_ids),
            train_session_ids=_ids(train_session_ids),
            test_session_ids=_ids(test_session_ids),
            test_fraction=test_fraction,
            seed=seed,
            language=language,
            file_id=file_id,
            column_mapping=dict(column_mapping) if column_mapping is not None else None,
            create_missing=create_missing or None,
        )
        answer = self._client.request("POST", self._at(project_id, "/models"), json=body)
        model: JSON = {**answer["model"], "job_id": answer["job_id"]}
        if not wait:
            return model
        return self.wait(
            project_id,
            model["id"],
            timeout=timeout,
            poll_interval=poll_interval,
            on_progress=on_progress,
        )

    def wait(
        self,
        project_id: int,
        model_id: int,
        *,
        timeout: float = 600.0,
        poll_interval: float = 0.5,
        on_progress: _Progress | None = None,
    ) -> JSON:
        """Poll until the version is READY and return it; :class:`TextJobError` if its
        training failed or was aborted, ``TimeoutError`` after ``timeout`` seconds."""
        return _wait(
            lambda: self.get(project_id, model_id), "model", timeout, poll_interval, on_progress
        )

    def get(self, project_id: int, model_id: int) -> JSON:
        """A version: status, ``progress`` while it trains, ``score`` and ``metrics``
        once trained, whether it is the project's ``active`` one."""
        return self._client.request("GET", self._at(project_id, f"/models/{model_id}"))

    def update(self, project_id: int, model_id: int, **changes: Any) -> JSON:
        """Change ``name`` or ``description``."""
        route = self._at(project_id, f"/models/{model_id}")
        return self._client.request("PATCH", route, json=changes)

    def report(self, project_id: int, model_id: int) -> JSON:
        """How the version did on its test set: ``metrics``, ``per_class`` precision,
        recall, F1 and support, the ``confusion`` matrix, the ``worst`` examples, and
        how it was ``training``."""
        return self._client.request("GET", self._at(project_id, f"/models/{model_id}/report"))

    def compare(self, project_id: int, model_ids: Iterable[int]) -> JSON:
        """Versions side by side: ``{"models", "classes", "per_class": {class:
        {model_id: f1}}}``."""
        params = {"ids": builtins.list(model_ids)}
        return self._client.request("GET", self._at(project_id, "/models/compare"), params=params)

    def promote(self, project_id: int, model_id: int) -> JSON:
        """Make the version the project's active model (analyses and correction sessions
        use it when they name none); the one active before is no longer."""
        route = self._at(project_id, f"/models/{model_id}/promote")
        return self._client.request("POST", route)

    def abort(self, project_id: int, model_id: int) -> JSON:
        """Stop the version's training (it ends ABORTED)."""
        return self._client.request("POST", self._at(project_id, f"/models/{model_id}/abort"))

    def download(
        self, project_id: int, model_id: int, *, path: _PathLike | None = None
    ) -> bytes | Path:
        """The version as a zip signed by the server (what :meth:`upload` takes back):
        its bytes, or written to ``path``."""
        return self._download(self._at(project_id, f"/models/{model_id}/download"), {}, path)

    def upload(
        self, project_id: int, path: _PathLike, name: str, *, timeout: float | None = None
    ) -> JSON:
        """Add a zip that :meth:`download` wrote (on this server) as a READY version
        named ``name``. Another server's file, an edited one, or one of another task or
        vocabulary is a :class:`~augury.client.ValidationError` saying which."""
        route = self._at(project_id, "/models/upload")
        return self._upload(route, path, {"name": name}, timeout=timeout)

    def delete(self, project_id: int, model_id: int, *, confirm: bool = False) -> None:
        """Delete the version and its files. The active one needs ``confirm``, else
        :class:`~augury.client.ConflictError`."""
        params = {"confirm": "true"} if confirm else None
        self._client.request("DELETE", self._at(project_id, f"/models/{model_id}"), params=params)


class TextAnalyses(_ProjectResource):
    """Analyses with a project's model (``client.text.analyses``): ad hoc, for up to
    100 documents in one call, stored nowhere (:meth:`analyze`); or a batch over a
    group, a file or a dataset, run as a job whose results stay to be filtered,
    aggregated and exported (:meth:`create`)."""

    def analyze(
        self,
        project_id: int,
        documents: Iterable[Mapping[str, Any] | str],
        *,
        model_id: int | None = None,
        zero_shot: bool = False,
        segmentation: str | None = None,
    ) -> JSON:
        """Segments with tags and confidences for 1 to 100 documents: ``{"text", "id"?,
        "aspects"?}`` dicts (``aspects``, class names of an ABSA project, asks for their
        sentiment only) or plain texts. Without ``model_id``: the project's active
        model, else (or with ``zero_shot``) zero-shot from the classes' descriptions and
        examples."""
        docs = [{"text": d} if isinstance(d, str) else dict(d) for d in documents]
        body = _body(
            documents=docs,
            model_id=model_id,
            zero_shot=zero_shot or None,
            segmentation=segmentation,
        )
        return self._client.request("POST", self._at(project_id, "/analyze"), json=body)

    def create(
        self,
        project_id: int,
        name: str,
        *,
        model_id: int | None = None,
        zero_shot: bool = False,
        group_id: int | None = None,
        file_id: str | None = None,
        dataset_id: int | None = None,
        version: int | None = None,
        column: str | int | None = None,
        id_column: str | int | None = None,
        time_column: str | int | None = None,
        segmentation: str | None = None,
        review: bool | None = None,
        wait: bool = False,
        timeout: float = 600.0,
        poll_interval: float = 0.5,
        on_progress: _Progress | None = None,
    ) -> JSON:
        """A batch analysis of a group's documents (``group_id``), or of ``column`` of an
        uploaded file (``file_id``) or a dataset (``dataset_id``, its latest
        ``version`` unless given), whose rows become documents of the project.
        ``time_column`` dates the results for :meth:`aggregates`; ``review=False`` keeps
        low-confidence results out of the project's review queue; ``zero_shot`` reads
        with the classes' descriptions though the project has an active model. The analysis (QUEUED,
        with its ``job_id``), or with ``wait`` once SUCCEEDED."""
        body = _body(
            name=name,
            model_id=model_id,
            zero_shot=zero_shot or None,
            group_id=group_id,
            file_id=file_id,
            dataset_id=dataset_id,
            version=version,
            column=column,
            id_column=id_column,
            time_column=time_column,
            segmentation=segmentation,
            review=review,
        )
        answer = self._client.request("POST", self._at(project_id, "/analyses"), json=body)
        analysis: JSON = {**answer["analysis"], "job_id": answer["job_id"]}
        if not wait:
            return analysis
        return self.wait(
            project_id,
            analysis["id"],
            timeout=timeout,
            poll_interval=poll_interval,
            on_progress=on_progress,
        )

    def upload(
        self,
        project_id: int,
        path: _PathLike,
        name: str,
        column: str | int = "text",
        *,
        upload_timeout: float | None = None,
        **options: Any,
    ) -> JSON:
        """Upload a file and analyze its ``column`` in one go; ``options`` are those of
        :meth:`create` (``model_id``, ``id_column``, ``time_column``, ``wait`` ...)."""
        file = self._upload(self._at(project_id, "/files"), path, timeout=upload_timeout)
        return self.create(project_id, name, file_id=file["id"], column=column, **options)

    def wait(
        self,
        project_id: int,
        analysis_id: int,
        *,
        timeout: float = 600.0,
        poll_interval: float = 0.5,
        on_progress: _Progress | None = None,
    ) -> JSON:
        """Poll until the analysis has SUCCEEDED and return it; :class:`TextJobError` if
        it failed or was aborted, ``TimeoutError`` after ``timeout`` seconds."""
        return _wait(
            lambda: self.get(project_id, analysis_id),
            "analysis",
            timeout,
            poll_interval,
            on_progress,
        )

    def list(
        self, project_id: int, *, model_id: int | None = None, offset: int = 0, limit: int = 50
    ) -> JSON:
        """One page of the project's batch analyses, newest first."""
        filters = _query({"model_id": model_id})
        return self._page(self._at(project_id, "/analyses"), offset, limit, **filters)

    def iter(
        self, project_id: int, *, model_id: int | None = None, page_size: int = 100
    ) -> Iterator[JSON]:
        filters = _query({"model_id": model_id})
        return self._iter(self._at(project_id, "/analyses"), page_size, **filters)

    def get(self, project_id: int, analysis_id: int) -> JSON:
        """An analysis: status, ``progress``, documents, segments and results sent to
        review."""
        return self._client.request("GET", self._at(project_id, f"/analyses/{analysis_id}"))

    def rename(self, project_id: int, analysis_id: int, name: str) -> JSON:
        route = self._at(project_id, f"/analyses/{analysis_id}")
        return self._client.request("PATCH", route, json={"name": name})

    def abort(self, project_id: int, analysis_id: int) -> JSON:
        """Stop a queued or running analysis; what it wrote (results, the documents it
        added, review items) goes. One that has ended is a
        :class:`~augury.client.ConflictError`."""
        route = self._at(project_id, f"/analyses/{analysis_id}/abort")
        return self._client.request("POST", route)

    def delete(self, project_id: int, analysis_id: int) -> None:
        """Delete the analysis and its results (a running one is aborted first); the
        documents it added stay in the project."""
        self._client.request("DELETE", self._at(project_id, f"/analyses/{analysis_id}"))

    def results(
        self,
        project_id: int,
        analysis_id: int,
        *,
        classes: _Several = None,
        labels: _Several = None,
        min_confidence: float | None = None,
        max_confidence: float | None = None,
        q: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> JSON:
        """One page of results (a segment with its tags and confidence each): those
        tagged with any of ``classes`` or ``labels`` (names or ids), with a confidence
        in ``[min_confidence, max_confidence]``, whose text contains ``q``."""
        filters = _result_filters(classes, labels, min_confidence, max_confidence, q)
        route = self._at(project_id, f"/analyses/{analysis_id}/results")
        return self._get(route, [*filters, ("offset", offset), ("limit", limit)])

    def iter_results(
        self,
        project_id: int,
        analysis_id: int,
        *,
        classes: _Several = None,
        labels: _Several = None,
        min_confidence: float | None = None,
        max_confidence: float | None = None,
        q: str | None = None,
        page_size: int = 500,
    ) -> Iterator[JSON]:
        """Every result matching the filters (as :meth:`results`), page after page."""
        filters = _result_filters(classes, labels, min_confidence, max_confidence, q)
        route = self._at(project_id, f"/analyses/{analysis_id}/results")
        offset = 0
        while True:
            page = self._get(route, [*filters, ("offset", offset), ("limit", page_size)])
            yield from page["items"]
            if not page["has_more"] or not page["items"]:
                return
            offset += len(page["items"])

    def aggregates(self, project_id: int, analysis_id: int, period: str = "day") -> JSON:
        """Counts per class and label (ABSA: sentiment per aspect), in all (``totals``)
        and per ``period`` (day, week or month) of the results' dates (``series``)."""
        route = self._at(project_id, f"/analyses/{analysis_id}/aggregates")
        return self._client.request("GET", route, params={"period": period})

    def export(
        self,
        project_id: int,
        analysis_id: int,
        format: str = "csv",
        *,
        path: _PathLike | None = None,
    ) -> bytes | Path:
        """The results as csv, jsonl or xlsx: the bytes, or written to ``path``."""
        route = self._at(project_id, f"/analyses/{analysis_id}/export")
        return self._download(route, {"format": format}, path)

    def documents(
        self,
        project_id: int,
        analysis_id: int,
        *,
        classes: _Several = None,
        labels: _Several = None,
        details: str | Iterable[str] | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> JSON:
        """One page of the documents the analysis has results for (with a result tagged
        with one of ``classes`` or ``labels``, when given); ``details`` as for
        :meth:`TextDocuments.list`."""
        params = [
            ("analysis_id", analysis_id),
            *_repeated("class", classes),
            *_repeated("label", labels),
            *_query({"details": _details(details), "offset": offset, "limit": limit}).items(),
        ]
        return self._get(self._at(project_id, "/documents"), params)

    def _get(self, route: str, params: builtins.list[tuple[str, Any]]) -> JSON:
        """GET with query pairs, so a filter can repeat
        (:meth:`~augury.client.Client.request` joins a list's values with commas)."""
        with self._stream("GET", route, params=params) as response:
            response.read()
            answer: JSON = response.json()
            return answer


def _result_filters(
    classes: _Several,
    labels: _Several,
    min_confidence: float | None,
    max_confidence: float | None,
    q: str | None,
) -> builtins.list[tuple[str, Any]]:
    ranges = _query({"min_confidence": min_confidence, "max_confidence": max_confidence, "q": q})
    return [*_repeated("class", classes), *_repeated("label", labels), *ranges.items()]


class Text:
    """Text projects and everything in them (``client.text``): one attribute per kind
    of thing, each taking the ``project_id`` first."""

    def __init__(self, client: Client) -> None:
        self.projects = TextProjects(client)
        self.classes = TextClasses(client)
        self.labels = TextLabels(client)
        self.files = TextFiles(client)
        self.documents = TextDocuments(client)
        self.groups = TextGroups(client)
        self.sessions = TextSessions(client)
        self.review = TextReview(client)
        self.models = TextModels(client)
        self.analyses = TextAnalyses(client)
