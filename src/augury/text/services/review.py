"""Human review (HITL): low-confidence predictions go to people, and what they settle on
becomes training data.

A project's :class:`~augury.text.models.TextReviewConfig` says which predictions people
see: those under ``threshold``, of ``class_ids`` (all when null). :func:`submit`, which
batch analyses call with their predictions, turns those into PENDING
:class:`~augury.text.models.TextReviewItem` rows given to the ``assignee_ids`` in turn
(continuing the rotation from the last batch), tells each assignee in a notification,
and queues ONE webhook for the batch.

The webhook goes through alerting's outbox (``alert_delivery``), which the alert
dispatcher sends with retries and backoff, so a receiver that is down loses nothing: the
project's webhook is an alert channel of type ``webhook`` (named
:data:`CHANNEL_NAME`, kept in step with the review settings here), and each batch is
one delivery row whose payload carries its JSON body, signed at send time with the
project's secret (``X-Augury-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>." + body>``, the scheme of every augury webhook, checked by
:func:`augury.alerts.channels.verify_signature`). The secret is made when a webhook is
first set, shown once, and rotated on demand.

A reviewer accepts an item (the prediction was right) or corrects it (tags in the shapes
and under the checks of session tags). Either way the item is settled with one
``UPDATE ... WHERE status = 'PENDING'``, so of two reviewers racing on one item exactly
one wins and the other gets 409; the winner's tags become an annotation (source
``review``) in the project's one REVIEW-mode session, made on first need.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.models import Membership, Role
from augury.accounts.principal import Principal
from augury.alerts import channels as alert_channels
from augury.alerts.channels import webhook as webhook_channel
from augury.alerts.models import Channel, Delivery
from augury.audit import service as audit
from augury.errors import Conflict, NotFound, ValidationFailed
from augury.notifications import service as notifications
from augury.store.db import changed
from augury.store.pagination import PageParams, paginate
from augury.store.upsert import upsert
from augury.text import access
from augury.text.models import (
    ProjectRole,
    SessionMode,
    SessionStatus,
    TextAnnotation,
    TextDocument,
    TextProject,
    TextReviewConfig,
    TextReviewItem,
    TextSegment,
    TextSession,
    TextSessionDocument,
)
from augury.text.schemas.review import (
    ReviewConfigPut,
    ReviewCorrect,
    ReviewPrediction,
)
from augury.text.schemas.sessions import TagIn
from augury.text.services.annotations import (
    Vocabulary,
    annotator_key,
    check_tags,
    resolve_names,
)

PENDING, ACCEPTED, CORRECTED = "PENDING", "ACCEPTED", "CORRECTED"
SOURCE = "review"
"""The source of a reviewed item's annotation."""
CHANNEL_NAME = "Text review webhook of project {project_id}"
"""The alert channel that carries a project's review webhook."""
EVENT = "review"
"""The delivery's event (``X-Augury-Event``)."""
WEBHOOK_ITEMS = 100
"""Items a webhook body lists; a bigger batch says how many more there are."""
REVIEW_SESSION_NAME = "Human review"
DEFAULTS = ReviewConfigPut()


# --- settings ------------------------------------------------------------------------------


def get_config(session: Session, project: TextProject) -> TextReviewConfig | None:
    return session.scalar(select(TextReviewConfig).where(TextReviewConfig.project_id == project.id))


def read_config(
    session: Session, project: TextProject, config: TextReviewConfig | None, secret: str | None
) -> dict:
    """The settings as the API answers them; ``secret`` only when just made."""
    if config is None:
        return {
            "project_id": project.id,
            "configured": False,
            **DEFAULTS.model_dump(exclude={"classes"}),
            "enabled": False,
            "classes": None,
            "class_ids": None,
            "webhook_secret_hint": None,
            "webhook_secret": None,
            "updated_at": None,
        }
    vocab = Vocabulary.load(session, project.id)
    class_ids = None
    if config.class_ids is not None:  # a class deleted since is no longer reviewed
        class_ids = [c for c in config.class_ids if c in vocab.classes]
    return {
        "project_id": project.id,
        "configured": True,
        "enabled": config.enabled,
        "threshold": config.threshold,
        "classes": None if class_ids is None else [vocab.classes[c] for c in class_ids],
        "class_ids": class_ids,
        "assignee_ids": list(config.assignee_ids),
        "webhook_url": config.webhook_url,
        "webhook_secret_hint": _hint(config.webhook_secret),
        "webhook_secret": secret,
        "updated_at": config.updated_at,
    }


def _hint(secret: str | None) -> str | None:
    return f"{secret[:4]}…" if secret else None


def _snapshot(config: TextReviewConfig | None) -> dict | None:
    """The settings for the audit log: the secret never, only whether it changed."""
    if config is None:
        return None
    return {
        **audit.snapshot(
            config, ("enabled", "threshold", "class_ids", "assignee_ids", "webhook_url")
        ),
        "webhook_secret": _hint(config.webhook_secret),
    }


def put_config(
    session: Session,
    principal: Principal,
    project: TextProject,
    body: ReviewConfigPut,
    *,
    allowed: Sequence[str] = (),
) -> tuple[TextReviewConfig, str | None]:
    """Save the review settings (fields left out keep their value); returns them and,
    when a webhook was set where none was, its new secret (shown this once).

    ``allowed``: the operator's ``alerts.allowed_private_networks``, which a webhook URL
    on a private address needs, as for alert channels."""
    config = get_config(session, project)
    before = _snapshot(config)
    given = body.model_fields_set
    if config is None:
        config = TextReviewConfig(
            org_id=project.org_id,
            project_id=project.id,
            **DEFAULTS.model_dump(include={"enabled", "threshold", "assignee_ids", "webhook_url"}),
            class_ids=None,
        )
        session.add(config)
    if "enabled" in given:
        config.enabled = body.enabled
    if "threshold" in given:
        config.threshold = body.threshold
    if "classes" in given:
        config.class_ids = resolve_names(
            body.classes, Vocabulary.load(session, project.id).classes, "class"
        )
    if "assignee_ids" in given:
        config.assignee_ids = _check_reviewers(session, project, body.assignee_ids)
    secret = None
    if "webhook_url" in given:
        if body.webhook_url is None:
            config.webhook_url = config.webhook_secret = None
        else:
            if config.webhook_secret is None:
                secret = config.webhook_secret = _new_secret()
            config.webhook_url = _checked_url(body.webhook_url, config.webhook_secret, allowed)
    config.updated_at = clock.now()
    session.flush()
    _sync_channel(session, project, config)
    audit.record_change(
        session=session,
        principal=principal,
        action="text.review_config.create" if before is None else "text.review_config.update",
        target_type="text_project",
        target_id=project.id,
        before=before,
        after=_snapshot(config),
    )
    return config, secret


def rotate_secret(
    session: Session, principal: Principal, project: TextProject
) -> tuple[TextReviewConfig, str]:
    """A new webhook secret, shown once; deliveries sent from now on are signed with it."""
    config = get_config(session, project)
    if config is None or config.webhook_url is None:
        raise Conflict(
            "The project's review has no webhook; set webhook_url first.",
            details={"reason": "NO_WEBHOOK"},
        )
    secret = config.webhook_secret = _new_secret()
    config.updated_at = clock.now()
    _sync_channel(session, project, config)
    audit.record_by(
        session=session,
        principal=principal,
        action="text.review_config.rotate_secret",
        target_type="text_project",
        target_id=project.id,
    )
    return config, secret


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def _checked_url(url: str, secret: str | None, allowed: Sequence[str]) -> str:
    try:
        return alert_channels.validate_config(
            "webhook", {"url": url, "secret": secret}, allowed=allowed
        )["url"]
    except ValueError as exc:
        raise ValidationFailed(
            f"Invalid webhook_url: {exc}", details={"webhook_url": str(exc)}
        ) from exc


def _sync_channel(
    session: Session, project: TextProject, config: TextReviewConfig
) -> Channel | None:
    """The alert channel that carries the webhook, made, changed or removed to match the
    settings (the settings are the truth: a change made to the channel elsewhere is
    overwritten here). The URL's destination was checked when it was set; the sender
    checks the address again, after DNS, each time it posts."""
    channel = _find_channel(session, project)
    if config.webhook_url is None:
        if channel is not None:
            session.delete(channel)
        return None
    wanted = webhook_channel.CHANNEL.validate(
        {"url": config.webhook_url, "secret": config.webhook_secret}
    )
    if channel is None:
        name = CHANNEL_NAME.format(project_id=project.id)
        channel = Channel(org_id=project.org_id, name=name, type="webhook", config=wanted)
        session.add(channel)
        session.flush()
    elif channel.config != wanted or not channel.enabled:
        channel.config = wanted
        channel.enabled = True
    return channel


def drop_webhook_channel(session: Session, project: TextProject) -> None:
    """Remove the alert channel of the project's review webhook, with its unsent
    deliveries: what deleting the project, or moving it to another organization (where
    the next batch makes a channel of its own), must do first, since channels belong to
    the organization and are not deleted with the project."""
    channel = _find_channel(session, project)
    if channel is not None:
        session.delete(channel)


def _find_channel(session: Session, project: TextProject) -> Channel | None:
    name = CHANNEL_NAME.format(project_id=project.id)
    return session.scalar(
        select(Channel)
        .where(Channel.org_id == project.org_id, Channel.type == "webhook", Channel.name == name)
        .order_by(Channel.id)
        .limit(1)
    )


def _memberships(session: Session, org_id: int, user_ids: Iterable[int]) -> dict[int, str]:
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return {}
    return dict(
        session.execute(
            select(Membership.user_id, Membership.role).where(
                Membership.org_id == org_id,
                Membership.user_id.in_(ids),
                Membership.disabled_at.is_(None),
            )
        ).all()
    )


def _can_review(session: Session, project: TextProject, user_id: int, org_role: str) -> bool:
    person = Principal(org_id=project.org_id, user_id=user_id, role=Role(org_role))
    return access.project_role(session, person, project).rank >= ProjectRole.ANNOTATOR.rank


def _check_reviewers(session: Session, project: TextProject, user_ids: list[int]) -> list[int]:
    """``user_ids`` without repeats, or 422 naming who is not in the organization or
    may not review in the project (reviewers are its annotators and managers)."""
    ids = list(dict.fromkeys(user_ids))
    roles = _memberships(session, project.org_id, ids)
    strangers = [u for u in ids if u not in roles]
    if strangers:
        raise ValidationFailed(
            "Assignees must be people of the organization; these are not: "
            + ", ".join(map(str, strangers[:20])),
            details={"reason": "NOT_A_MEMBER", "user_ids": strangers},
        )
    readers = [u for u in ids if not _can_review(session, project, u, roles[u])]
    if readers:
        raise ValidationFailed(
            "Reviewers are the project's annotators and managers; these people may only "
            "read it: " + ", ".join(map(str, readers[:20])),
            details={"reason": "NOT_A_REVIEWER", "user_ids": readers},
        )
    return ids


# --- the queue -----------------------------------------------------------------------------


def submit(
    session: Session,
    project: TextProject,
    predictions: Iterable[ReviewPrediction | dict[str, Any]],
    *,
    base_url: str = "",
) -> list[TextReviewItem]:
    """Queue the predictions people should review; the new items (none when review is
    off or not configured).

    A prediction is reviewed when it is in scope (any class when the settings name none,
    else one of its tags has one of their classes) and its confidence (the least of its
    in-scope tags', or the prediction's own) is under the threshold. A segment that
    already waits for review is not queued twice (within the batch, its least confident
    prediction is kept). ``base_url`` makes the links of the webhook and the
    notifications absolute (they are relative to the server without it).
    """
    config = get_config(session, project)
    if config is None or not config.enabled:
        return []
    given = [ReviewPrediction.model_validate(p) for p in predictions]
    _check_segments(session, project, given)
    in_scope = None if config.class_ids is None else set(config.class_ids)
    chosen: dict[int, tuple[ReviewPrediction, float]] = {}
    for prediction in given:
        confidence = _reviewed_confidence(prediction, in_scope)
        if confidence is None or confidence >= config.threshold:
            continue
        kept = chosen.get(prediction.segment_id)
        if kept is None or confidence < kept[1]:
            chosen[prediction.segment_id] = (prediction, confidence)
    waiting = _pending_segments(session, project, list(chosen))
    queue = [pair for segment_id, pair in chosen.items() if segment_id not in waiting]
    if not queue:
        return []
    reviewers = _current_reviewers(session, project, config.assignee_ids)
    turn = _next_turn(session, project, reviewers)
    items = []
    for i, (prediction, confidence) in enumerate(queue):
        items.append(
            TextReviewItem(
                org_id=project.org_id,
                project_id=project.id,
                document_id=prediction.document_id,
                segment_id=prediction.segment_id,
                source=dict(prediction.source),
                predicted=[t.model_dump() for t in prediction.tags],
                confidence=confidence,
                status=PENDING,
                assignee_id=reviewers[(turn + i) % len(reviewers)] if reviewers else None,
            )
        )
    session.add_all(items)
    session.flush()
    _notify_assignees(session, project, items)
    if config.webhook_url is not None:
        _queue_webhook(session, project, config, items, base_url)
    return items


def _reviewed_confidence(prediction: ReviewPrediction, classes: set[int] | None) -> float | None:
    if classes is None:
        return prediction.overall
    relevant = [t for t in prediction.tags if t.class_id in classes]
    if not relevant:
        return None
    return min(t.confidence if t.confidence is not None else prediction.overall for t in relevant)


def _check_segments(
    session: Session, project: TextProject, predictions: list[ReviewPrediction]
) -> None:
    """Every prediction names a segment of the project, in the document it says."""
    wanted = {p.segment_id: p.document_id for p in predictions}
    found: dict[int, int] = {}
    ids = list(wanted)
    for i in range(0, len(ids), 5000):
        found.update(
            session.execute(
                select(TextSegment.id, TextSegment.document_id).where(
                    TextSegment.project_id == project.id, TextSegment.id.in_(ids[i : i + 5000])
                )
            )
            .tuples()
            .all()
        )
    wrong = [s for s, d in wanted.items() if found.get(s) != d]
    if wrong:
        raise ValidationFailed(
            "Predictions name segments that are not the project's (or not in the document "
            f"given): {', '.join(map(str, wrong[:20]))}.",
            details={"reason": "UNKNOWN_SEGMENT", "segment_ids": wrong[:1000]},
        )


def _pending_segments(session: Session, project: TextProject, segment_ids: list[int]) -> set[int]:
    out: set[int] = set()
    for i in range(0, len(segment_ids), 5000):
        out.update(
            session.scalars(
                select(TextReviewItem.segment_id).where(
                    TextReviewItem.project_id == project.id,
                    TextReviewItem.status == PENDING,
                    TextReviewItem.segment_id.in_(segment_ids[i : i + 5000]),
                )
            )
        )
    return out


def _current_reviewers(session: Session, project: TextProject, user_ids: list[int]) -> list[int]:
    """The configured assignees who may still review (roles change after configuring)."""
    roles = _memberships(session, project.org_id, user_ids)
    return [u for u in user_ids if u in roles and _can_review(session, project, u, roles[u])]


def _next_turn(session: Session, project: TextProject, reviewers: list[int]) -> int:
    """Where the rotation resumes: after whoever of ``reviewers`` got the last item."""
    if not reviewers:
        return 0
    last = session.scalar(
        select(TextReviewItem.assignee_id)
        .where(
            TextReviewItem.project_id == project.id,
            TextReviewItem.assignee_id.in_(reviewers),
        )
        .order_by(TextReviewItem.id.desc())
        .limit(1)
    )
    return 0 if last is None else reviewers.index(last) + 1


def _review_link(project: TextProject, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/text/projects/{project.id}/review"


def _notify_assignees(session: Session, project: TextProject, items: list[TextReviewItem]) -> None:
    """Each assignee who got items is told how many (one notification per batch)."""
    counts: dict[int, int] = {}
    for item in items:
        if item.assignee_id is not None:
            counts[item.assignee_id] = counts.get(item.assignee_id, 0) + 1
    for user_id, n in counts.items():
        notifications.notify(
            session,
            org_id=project.org_id,
            user_id=user_id,
            kind="text.review",
            title=f"{n} prediction{'s' if n != 1 else ''} to review in {project.name}",
            link=_review_link(project, ""),
            data={"project_id": project.id, "items": n},
        )


def _queue_webhook(
    session: Session,
    project: TextProject,
    config: TextReviewConfig,
    items: list[TextReviewItem],
    base_url: str,
) -> Delivery | None:
    """One outbox row for the batch; the dispatcher signs and sends it."""
    channel = _sync_channel(session, project, config)
    if channel is None:
        return None
    now = clock.now()
    delivery = Delivery(
        org_id=project.org_id,
        channel_id=channel.id,
        trigger_id=None,
        event=EVENT,
        payload={"json": webhook_body(session, project, items, base_url, now.isoformat())},
        status="pending",
        attempts=0,
        next_attempt_at=now.timestamp(),
    )
    session.add(delivery)
    session.flush()
    return delivery


def webhook_body(
    session: Session,
    project: TextProject,
    items: list[TextReviewItem],
    base_url: str,
    created_at: str,
) -> dict:
    """The JSON a review webhook posts: the project, how many items, and the first
    :data:`WEBHOOK_ITEMS` of them with their text and the model's tags."""
    vocab = Vocabulary.load(session, project.id)
    shown = items[:WEBHOOK_ITEMS]
    texts = _segment_texts(session, [i.segment_id for i in shown])
    externals = _external_ids(session, [i.document_id for i in shown])
    review_url = _review_link(project, base_url)
    return {
        "version": "1",
        "event": "review.items_created",
        "project": {"id": project.id, "name": project.name},
        "review_url": review_url,
        "count": len(items),
        "truncated": len(items) > len(shown),
        "items": [
            {
                "id": item.id,
                "document_id": item.document_id,
                "external_id": externals.get(item.document_id),
                "segment_id": item.segment_id,
                "text": texts.get(item.segment_id, ""),
                "confidence": item.confidence,
                "predicted": vocab.tags_out(item.predicted),
                "assignee_id": item.assignee_id,
                "source": item.source,
                "url": f"{review_url}?item={item.id}",
            }
            for item in shown
        ],
        "created_at": created_at,
    }


def _segment_texts(session: Session, segment_ids: list[int]) -> dict[int, str]:
    if not segment_ids:
        return {}
    return dict(
        session.execute(
            select(TextSegment.id, TextSegment.text).where(TextSegment.id.in_(segment_ids))
        )
        .tuples()
        .all()
    )


def _external_ids(session: Session, document_ids: list[int]) -> dict[int, str | None]:
    if not document_ids:
        return {}
    return dict(
        session.execute(
            select(TextDocument.id, TextDocument.external_id).where(
                TextDocument.id.in_(document_ids)
            )
        )
        .tuples()
        .all()
    )


# --- reading items -------------------------------------------------------------------------


def _is_manager(session: Session, principal: Principal, project: TextProject) -> bool:
    return access.project_role(session, principal, project) == ProjectRole.MANAGER


def list_items(
    session: Session,
    principal: Principal,
    project: TextProject,
    page: PageParams,
    *,
    status: str | None = None,
    assignee: int | None = None,
) -> tuple[list[TextReviewItem], int]:
    """Review items, oldest first: a manager's all, a reviewer's their own."""
    stmt = select(TextReviewItem).where(TextReviewItem.project_id == project.id)
    if not _is_manager(session, principal, project):
        stmt = stmt.where(TextReviewItem.assignee_id == principal.user_id)
    if status is not None:
        stmt = stmt.where(TextReviewItem.status == status)
    if assignee is not None:
        stmt = stmt.where(TextReviewItem.assignee_id == assignee)
    return paginate(session, stmt.order_by(TextReviewItem.id), page)


def get_item(
    session: Session, principal: Principal, project: TextProject, item_id: int
) -> TextReviewItem:
    """One item of the project; one assigned to someone else does not exist for a
    reviewer who is not a manager (404)."""
    item = session.scalar(
        select(TextReviewItem).where(
            TextReviewItem.id == item_id, TextReviewItem.project_id == project.id
        )
    )
    if item is None or (
        item.assignee_id != principal.user_id and not _is_manager(session, principal, project)
    ):
        raise NotFound("Review item not found.")
    return item


def read_items(session: Session, project: TextProject, items: list[TextReviewItem]) -> list[dict]:
    """Items as the API answers them: with their segment's text and the tags' names."""
    vocab = Vocabulary.load(session, project.id)
    segments = {
        s.id: s
        for s in session.scalars(
            select(TextSegment).where(TextSegment.id.in_([i.segment_id for i in items]))
        )
    }
    externals = _external_ids(session, [i.document_id for i in items])
    review_session = _review_session_id(session, project)
    out = []
    for item in items:
        segment = segments.get(item.segment_id)
        out.append(
            {
                "id": item.id,
                "project_id": item.project_id,
                "document_id": item.document_id,
                "external_id": externals.get(item.document_id),
                "segment_id": item.segment_id,
                "text": segment.text if segment else "",
                "start": segment.start if segment else 0,
                "end": segment.end if segment else 0,
                "predicted": vocab.tags_out(item.predicted),
                "confidence": item.confidence,
                "final": None if item.final is None else vocab.tags_out(item.final),
                "status": item.status,
                "source": item.source,
                "assignee_id": item.assignee_id,
                "reviewed_by_id": item.reviewed_by_id,
                "reviewed_at": item.reviewed_at,
                "created_at": item.created_at,
                "review_session_id": review_session if item.status != PENDING else None,
            }
        )
    return out


def _review_session_id(session: Session, project: TextProject) -> int | None:
    return session.scalar(
        select(TextSession.id)
        .where(TextSession.project_id == project.id, TextSession.mode == SessionMode.REVIEW)
        .order_by(TextSession.id)
        .limit(1)
    )


# --- reviewing -----------------------------------------------------------------------------


def accept(
    session: Session, principal: Principal, project: TextProject, item: TextReviewItem
) -> TextReviewItem:
    """The prediction was right: its tags become training data as they are."""
    tags = [
        TagIn(
            class_id=t.get("class_id"),
            label_id=t.get("label_id"),
            start=t.get("start"),
            end=t.get("end"),
        )
        for t in item.predicted
    ]
    return _settle(session, principal, project, item, ACCEPTED, tags)


def correct(
    session: Session,
    principal: Principal,
    project: TextProject,
    item: TextReviewItem,
    body: ReviewCorrect,
) -> TextReviewItem:
    """The reviewer's tags replace the prediction's and become training data."""
    return _settle(session, principal, project, item, CORRECTED, body.tags)


def _settle(
    session: Session,
    principal: Principal,
    project: TextProject,
    item: TextReviewItem,
    status: str,
    tags: list[TagIn],
) -> TextReviewItem:
    if item.status != PENDING:
        raise _already_reviewed(item)
    segment = session.get(TextSegment, item.segment_id)
    if segment is None:
        raise NotFound("The item's segment no longer exists.")
    final = check_tags(project, Vocabulary.load(session, project.id), segment, tags)
    now = clock.now()
    won = changed(
        session,
        update(TextReviewItem)
        .where(TextReviewItem.id == item.id, TextReviewItem.status == PENDING)
        .values(status=status, final=final, reviewed_by_id=principal.user_id, reviewed_at=now)
        .execution_options(synchronize_session=False),
    )
    settled = session.scalars(
        select(TextReviewItem)
        .where(TextReviewItem.id == item.id)
        .execution_options(populate_existing=True)
    ).one()
    if not won:
        raise _already_reviewed(settled)
    _record_annotation(session, principal, project, segment, final)
    return settled


def _already_reviewed(item: TextReviewItem) -> Conflict:
    return Conflict(
        f"The item was already reviewed ({item.status}).",
        details={
            "reason": "ALREADY_REVIEWED",
            "status": item.status,
            "reviewed_by_id": item.reviewed_by_id,
        },
    )


def review_session(session: Session, project: TextProject) -> TextSession:
    """The project's REVIEW session, made on first need: one per project, even when two
    reviewers need it at once (the project row is locked while it is looked for)."""
    session.execute(
        select(TextProject.id).where(TextProject.id == project.id).with_for_update(key_share=True)
    )
    found = session.scalar(
        select(TextSession)
        .where(TextSession.project_id == project.id, TextSession.mode == SessionMode.REVIEW)
        .order_by(TextSession.id)
        .limit(1)
    )
    if found is not None:
        return found
    made = TextSession(
        org_id=project.org_id,
        project_id=project.id,
        name=REVIEW_SESSION_NAME,
        description="What reviewers accepted or corrected in the review queue.",
        mode=SessionMode.REVIEW,
        status=SessionStatus.ANNOTATING,
        sampling={"how": "review"},
    )
    session.add(made)
    session.flush()
    return made


def _record_annotation(
    session: Session,
    principal: Principal,
    project: TextProject,
    segment: TextSegment,
    tags: list[dict],
) -> None:
    """The reviewer's tags on the segment in the REVIEW session (replacing theirs)."""
    ts = review_session(session, project)
    now = clock.now()
    position = session.scalar(
        select(func.count())
        .select_from(TextSessionDocument)
        .where(TextSessionDocument.session_id == ts.id)
    )
    upsert(
        session,
        TextSessionDocument.__table__,
        [{"session_id": ts.id, "document_id": segment.document_id, "position": position or 0}],
        keys=["session_id", "document_id"],
    )
    upsert(
        session,
        TextAnnotation.__table__,
        [
            {
                "org_id": project.org_id,
                "project_id": project.id,
                "session_id": ts.id,
                "document_id": segment.document_id,
                "segment_id": segment.id,
                "annotator_id": principal.user_id,
                "annotator_key": annotator_key(principal),
                "source": SOURCE,
                "tags": tags,
                "score": None,
                "version": 1,
                "updated_at": now,
            }
        ],
        keys=["session_id", "segment_id", "annotator_key"],
        update=["tags", "updated_at", "annotator_id"],
        add=["version"],
    )
    ts.document_count = (
        session.scalar(
            select(func.count())
            .select_from(TextSessionDocument)
            .where(TextSessionDocument.session_id == ts.id)
        )
        or 0
    )
    ts.updated_at = now
