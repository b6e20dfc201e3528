"""Job types of the text domain.

``text.documents`` (:class:`AddDocuments`) adds a large upload's documents: JSON
documents the request checked and stashed, an uploaded file's column, or a dataset's.
It reads and checks them, inserts them batch by batch (each batch its own transaction,
so progress can be written between them, SQLite having one writer), and on any failure,
an abort included, deletes what it had added: a failed upload leaves nothing. Whoever
started it gets a notification when it ends, succeeded or failed.
"""

from __future__ import annotations

import contextlib

from pydantic import BaseModel, ConfigDict, Field

from augury.accounts.principal import Principal
from augury.datasets.storage import storage_for
from augury.errors import AuguryError
from augury.jobs.types import ended_by_abort
from augury.notifications.service import notify
from augury.text.models import TextGroup, TextProject
from augury.text.schemas.documents import Column, Segmentation, SourceOptions
from augury.text.services import documents, files

MAX_ID = 2**31 - 1


class AddDocuments:
    name = "text.documents"
    title = "Text: add documents to a project (read, check, segment, store)"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        project_id: int = Field(ge=1, le=MAX_ID)
        stash_key: str | None = Field(None, max_length=255)
        file_id: str | None = Field(None, max_length=36)
        dataset_id: int | None = Field(None, ge=1, le=MAX_ID)
        version: int | None = Field(None, ge=1, le=MAX_ID)
        column: Column | None = None
        id_column: Column | None = None
        segmentation: Segmentation | None = None
        skip_empty: bool = False
        group_id: int | None = Field(None, ge=1, le=MAX_ID)

    def run(self, ctx, params: Params) -> dict:
        """Add the documents; an abort (``JobAborted``) or a failure removes them, and
        only a failure is notified (whoever aborts knows)."""
        added: list[int] = []
        try:
            result = self._add(ctx, params, added)
        except BaseException as exc:
            self._undo(ctx, params.project_id, added)
            if isinstance(exc, Exception) and not ended_by_abort(ctx, exc):
                self._tell(ctx, params.project_id, failed=_reason(exc))
            raise
        finally:
            if params.stash_key:
                _drop_stash(ctx.settings, params.stash_key)
        self._tell(ctx, params.project_id, result=result)
        return result

    def _add(self, ctx, params: Params, added: list[int]) -> dict:
        options = SourceOptions.model_validate(
            params.model_dump(exclude={"project_id", "stash_key", "group_id"})
        )
        principal = Principal(org_id=ctx.org_id, user_id=ctx.user_id)
        ctx.progress(1.0, "reading the documents")
        with ctx.session() as session:
            project = _project(session, ctx.org_id, params.project_id)
            if params.stash_key:
                docs = documents.unstash(ctx.settings, params.stash_key)
                source = "api"
            elif params.file_id:
                text_file = files.get(session, project, params.file_id)
                docs = documents.from_file(ctx.settings, text_file, options)
                source = "file"
            else:
                docs = documents.from_dataset(session, ctx.settings, ctx.org_id, options)
                source = "dataset"
            docs = documents.checked(docs, skip_empty=params.skip_empty)
            documents.require_new_ids(session, project.id, docs)
        total = len(docs)
        segments = 0
        ctx.progress(5.0, f"{total} documents to add")
        for lo in range(0, total, documents.BATCH):
            with ctx.session() as session:
                project = _project(session, ctx.org_id, params.project_id)
                batch = documents.add(
                    session,
                    principal,
                    project,
                    docs[lo : lo + documents.BATCH],
                    segmentation=params.segmentation,
                    source=source,
                    audited=False,
                )
                added += [a.id for a in batch]
                segments += sum(a.segment_count for a in batch)
            done = min(total, lo + documents.BATCH)
            ctx.progress(5.0 + 93.0 * done / max(1, total), f"{done} of {total} documents")
        with ctx.session() as session:
            project = _project(session, ctx.org_id, params.project_id)
            grouped = params.group_id is not None and session.get(TextGroup, params.group_id)
            if grouped:
                documents.join_group(session, params.group_id, added)  # type: ignore[arg-type]
            mode = params.segmentation or project.segmentation
            documents.audit_added(session, principal, project, len(added), source, mode)
        return {
            "project_id": params.project_id,
            "documents": len(added),
            "segments": segments,
            "group_id": params.group_id if grouped else None,
            "first_id": added[0] if added else None,
            "last_id": added[-1] if added else None,
        }

    @staticmethod
    def _undo(ctx, project_id: int, added: list[int]) -> None:
        if not added:
            return
        with ctx.session() as session:
            documents.remove_added(session, project_id, added)

    @staticmethod
    def _tell(ctx, project_id: int, *, result: dict | None = None, failed: str | None = None):
        """The notification of the upload's end, for whoever started it."""
        if ctx.user_id is None:
            return
        with ctx.session() as session:
            project = session.get(TextProject, project_id)
            name = project.name if project is not None else f"project {project_id}"
            if failed is None:
                assert result is not None
                title = f"{result['documents']:,} documents added to {name}"
                body = f"Split into {result['segments']:,} segments."
            else:
                title = f"Adding documents to {name} failed"
                body = f"{failed} Nothing was added."
            notify(
                session,
                org_id=ctx.org_id,
                user_id=ctx.user_id,
                kind="text.upload",
                title=title,
                body=body,
                link=f"/text/projects/{project_id}",
                data={
                    "job_id": ctx.job_id,
                    "project_id": project_id,
                    "status": "failed" if failed else "succeeded",
                    **({"documents": result["documents"]} if result else {}),
                },
            )


def _project(session, org_id: int, project_id: int) -> TextProject:
    project = session.get(TextProject, project_id)
    if project is None or project.org_id != org_id:
        raise ValueError(f"text project {project_id} not found (deleted meanwhile?)")
    return project


def _reason(exc: BaseException) -> str:
    if isinstance(exc, AuguryError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def _drop_stash(settings, key: str) -> None:
    with contextlib.suppress(AuguryError):  # a stray stash is harmless
        storage_for(settings).delete(key)
