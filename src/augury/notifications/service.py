"""Leaving, listing and reading notifications, and the one every finished job leaves.

Whatever finishes off the request path calls :func:`notify` in the transaction that
records its outcome, so a notification exists exactly when the outcome does. A person
reads only their own, in the organization they act in: every read and change here is
scoped by both ``org_id`` and ``user_id``, and anything else is "not found".

This module sits below jobs (jobs leave notifications; notifications know nothing of
jobs), so :func:`job_finished` takes the finished job's facts as plain values.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from augury import clock
from augury.errors import NotFound
from augury.notifications.models import Notification
from augury.store.db import changed
from augury.store.pagination import PageParams, paginate

log = logging.getLogger("augury.notifications")

TITLE_CHARS = 300
KIND_CHARS = 50
LINK_CHARS = 500
BODY_CHARS = 10_000
"""Longer text is cut (with an ellipsis) rather than refused: a notification is a
courtesy, never a reason for the work it reports on to fail."""

NOTIFIED_JOB_STATUSES = ("succeeded", "failed")
"""A job ending otherwise (aborted) was stopped by someone who knows it stopped."""


def notify(
    session: Session,
    *,
    org_id: int,
    user_id: int,
    kind: str,
    title: str,
    body: str = "",
    link: str | None = None,
    data: dict | None = None,
) -> Notification:
    """Leave a notification for ``user_id``, committed with the caller's transaction."""
    row = Notification(
        org_id=org_id,
        user_id=user_id,
        kind=_cut(kind, KIND_CHARS),
        title=_cut(title, TITLE_CHARS),
        body=_cut(body, BODY_CHARS),
        link=_cut(link, LINK_CHARS) if link else None,
        data=dict(data or {}),
    )
    session.add(row)
    session.flush()
    return row


def _described(job_type: Any, status: str, result: dict) -> dict[str, str]:
    """What the job type's own ``notification`` hook says; a hook that fails is logged
    and ignored, so it cannot undo the job's outcome recorded in the same transaction."""
    describe = getattr(job_type, "notification", None)
    if not callable(describe):
        return {}
    try:
        given = describe(status, result) or {}
        return {k: str(v) for k, v in given.items() if k in ("title", "body", "link") and v}
    except Exception:
        log.exception("the notification hook of job type %s failed", job_type)
        return {}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mine(org_id: int, user_id: int):
    return (Notification.org_id == org_id, Notification.user_id == user_id)


def list_page(
    session: Session, *, org_id: int, user_id: int, page: PageParams, unread: bool = False
) -> tuple[list[Notification], int]:
    """A person's notifications in one organization, newest first; ``unread``: only those."""
    stmt = select(Notification).where(*_mine(org_id, user_id))
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    return paginate(session, stmt.order_by(Notification.id.desc()), page)


def unread_count(session: Session, *, org_id: int, user_id: int) -> int:
    """How many of a person's notifications are unread (the UI's bell)."""
    stmt = (
        select(func.count())
        .select_from(Notification)
        .where(*_mine(org_id, user_id), Notification.read_at.is_(None))
    )
    return int(session.scalar(stmt) or 0)


def get(session: Session, *, org_id: int, user_id: int, notification_id: int) -> Notification:
    """One of a person's notifications; anyone else's is RESOURCE_NOT_FOUND."""
    row = session.scalar(
        select(Notification).where(Notification.id == notification_id, *_mine(org_id, user_id))
    )
    if row is None:
        raise NotFound("Notification not found.")
    return row


def mark_read(notification: Notification) -> Notification:
    """Mark read; one already read keeps the time it was first read."""
    if notification.read_at is None:
        notification.read_at = clock.now()
    return notification


def mark_unread(notification: Notification) -> Notification:
    notification.read_at = None
    return notification


def mark_all_read(session: Session, *, org_id: int, user_id: int) -> int:
    """Mark every unread notification of a person read; how many were."""
    return changed(
        session,
        update(Notification)
        .where(*_mine(org_id, user_id), Notification.read_at.is_(None))
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False),
    )


def job_finished(
    session: Session,
    *,
    job_type: Any,
    job_id: int,
    org_id: int,
    user_id: int | None,
    status: str,
    error: str | None = None,
    result: dict | None = None,
) -> Notification | None:
    """Tell whoever started a job that it ended, when its type opts in.

    A job type opts in with the class attribute ``notify = True``. It may also define
    ``notification(status, result) -> dict`` returning any of ``title``, ``body`` and
    ``link`` to say more than "<title> finished" (a model's page rather than the job's).
    Nothing is left for a job nobody started (the system's), for other types, or for an
    ending other than succeeded or failed. Returns the notification, or None.
    """
    if not getattr(job_type, "notify", False) or user_id is None:
        return None
    status = str(status)
    if status not in NOTIFIED_JOB_STATUSES:
        return None
    what = str(getattr(job_type, "title", "") or getattr(job_type, "name", "") or "A job")
    text = {
        "title": f"{what} finished" if status == "succeeded" else f"{what} failed",
        "body": "" if status == "succeeded" else (error or "The job failed."),
        "link": f"/jobs/{job_id}",
    }
    text |= _described(job_type, status, result or {})
    return notify(
        session,
        org_id=org_id,
        user_id=user_id,
        kind=f"job.{status}",
        title=text["title"],
        body=text["body"],
        link=text["link"] or None,
        data={"job_id": job_id, "job_type": getattr(job_type, "name", None), "status": status},
    )
