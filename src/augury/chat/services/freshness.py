"""Stale attachments: a periodic task that re-indexes a use case whose attached sources
changed after its ``indexed_at``.

An attachment is read when the use case is indexed (:mod:`augury.chat.services.index`);
it is stale when, since then,

* an attached dataset got a newer version (``DatasetVersion.created_at`` later), or
  is gone;
* an attached text project got a document (``TextDocument.created_at`` later), or is gone;
* an attached text document is gone, or is a newer row under its id (a database may reuse
  a deleted row's id); documents have no ``updated_at``, so a text changed in place is
  read again only by ``POST .../reindex``;

a source that is gone and already named in ``index.error`` is not stale (it was gone when
indexed). Each run finds at most :data:`BATCH` such use cases in one query (only use cases
with attachments, their pieces joined to their sources by ``EXISTS``) plus one for the
``chat.index`` jobs waiting or running, and asks each for a re-index the way
``POST .../reindex`` does (:func:`augury.chat.services.index.request_reindex`: a
``chat.index`` job, or inline where the job type is not registered); a use case with a
``chat.index`` job pending or running gets no second one.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, and_, cast, exists, func, literal, not_, or_, select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.chat.models import ChatKnowledge, ChatUseCase, KnowledgeKind
from augury.chat.services import index
from augury.errors import AuguryError
from augury.jobs.models import Job, JobStatus

if TYPE_CHECKING:
    from augury.config import Settings

log = logging.getLogger("augury.chat.freshness")

BATCH = 50
"""Use cases re-indexed at most per run (the rest wait for the next run)."""


FAILED_WAIT = timedelta(hours=1)
"""A use case whose index job failed waits this long before it is queued again (a source
that makes indexing fail is not retried every minute)."""


def _active_jobs(session: Session) -> set[int]:
    """Use cases with a ``chat.index`` job waiting or running, or one that failed in the
    last :data:`FAILED_WAIT`."""
    params = session.scalars(
        select(Job.params).where(
            Job.type == index.JOB_TYPE,
            or_(
                Job.status.in_((JobStatus.pending, JobStatus.running)),
                and_(
                    Job.status == JobStatus.failed,
                    Job.finished_at >= clock.now() - FAILED_WAIT,
                ),
            ),
        )
    )
    out = set()
    for p in params:
        use_case_id = (p or {}).get("use_case_id")
        if isinstance(use_case_id, int):
            out.add(use_case_id)
    return out


def _stale_condition() -> Any:
    """Where a piece's source changed (or went) after its use case was indexed."""
    from augury.datasets.models import Dataset, DatasetVersion
    from augury.text.models import TextDocument, TextProject

    since = ChatUseCase.indexed_at
    ref = ChatKnowledge.ref_id
    org = ChatKnowledge.org_id
    named = func.coalesce(ChatUseCase.index_error, "").contains(
        literal("#") + cast(ChatKnowledge.id, String) + literal(": ")
    )
    dataset_gone = ~exists().where(Dataset.id == ref, Dataset.org_id == org)
    dataset_newer = exists().where(
        DatasetVersion.dataset_id == ref,
        DatasetVersion.org_id == org,
        DatasetVersion.created_at > since,
    )
    project_gone = ~exists().where(TextProject.id == ref, TextProject.org_id == org)
    project_newer = exists().where(
        TextDocument.project_id == ref,
        TextDocument.org_id == org,
        TextDocument.created_at > since,
    )
    document_gone = ~exists().where(TextDocument.id == ref, TextDocument.org_id == org)
    document_newer = exists().where(
        TextDocument.id == ref, TextDocument.org_id == org, TextDocument.created_at > since
    )
    return or_(
        since.is_(None),
        and_(
            ChatKnowledge.kind == KnowledgeKind.DATASET,
            or_(dataset_newer, and_(dataset_gone, not_(named))),
        ),
        and_(
            ChatKnowledge.kind == KnowledgeKind.PROJECT,
            or_(project_newer, and_(project_gone, not_(named))),
        ),
        and_(
            ChatKnowledge.kind == KnowledgeKind.DOCUMENT,
            or_(document_newer, and_(document_gone, not_(named))),
        ),
    )


def stale_use_cases(session: Session, limit: int = BATCH) -> list[ChatUseCase]:
    """Use cases (at most ``limit``) with an attachment changed since they were indexed
    and no ``chat.index`` job waiting or running, oldest index first."""
    busy = _active_jobs(session)
    stale = (
        select(ChatKnowledge.use_case_id)
        .join(ChatUseCase, ChatUseCase.id == ChatKnowledge.use_case_id)
        .where(ChatKnowledge.kind.in_(index.ATTACHMENTS), _stale_condition())
        .correlate(None)
    )
    query = (
        select(ChatUseCase)
        .where(ChatUseCase.id.in_(stale))
        .order_by(ChatUseCase.indexed_at, ChatUseCase.id)
        .limit(limit)
    )
    if busy:
        query = query.where(ChatUseCase.id.not_in(busy))
    return list(session.scalars(query))


def reindex_stale(session: Session, settings: Settings | None, limit: int = BATCH) -> int:
    """Ask every stale use case (at most ``limit``) for a re-index; how many were asked."""
    asked = 0
    for use_case in stale_use_cases(session, limit):
        principal = Principal(org_id=use_case.org_id)
        try:
            with session.begin_nested():
                index.request_reindex(session, settings, principal, use_case)
        except AuguryError as exc:  # e.g. the organization's active jobs quota
            log.warning("use case %s not re-indexed: %s", use_case.id, exc.message)
            continue
        index.forget(use_case.id)
        asked += 1
    return asked


class StaleAttachments:
    """A periodic task (run by the stream processor): re-index the use cases whose
    attachments changed after they were indexed."""

    name = "chat.stale_attachments"
    every_s = 60.0

    def __init__(self, settings: Settings | None = None):
        self.settings = settings

    def run(self, db) -> int:
        with db.session() as session:
            return reindex_stale(session, self.settings)
