"""Correction sessions: a model pre-tags documents chosen by active learning, people fix
its tags, and every fix updates the projected score of the next model.

**Choosing the documents.** From the project's unlabeled documents (no tag from a
person, an import or a review, in any session), or a group's: ``least_confident``
predicts every segment and takes the documents whose least sure segment is least sure
(uncertainty sampling); ``diverse`` embeds the documents and takes a farthest-first
spread over them (greedy k-centre, from a seeded start), so the sample covers the
collection rather than one confusing corner of it. A pool over :data:`MAX_POOL`
documents is first cut to a seeded random :data:`MAX_POOL`. Small pools are prepared in
the request; larger ones in a ``text.correction`` job (the session SAMPLING, then
PREDICTING, then ANNOTATING).

**Pre-tags.** The model's tags are annotations like anyone's, with source ``model``,
annotator ``model:<id>`` (``model:zeroshot`` for zero-shot) and ``score`` its
confidence; people save their own tags over them, as in a labeling session.

**The predicted score** (:func:`estimate`) is measured, not guessed: each segment a
person checked (saved tags on, or marked done, which accepts the model's tags) is a
label the model never trained on, so the model's accuracy on them is an unbiased
estimate of its accuracy on new text, with a Wilson 95% interval. The next model also
trains on these corrections; for a model trained on ``L`` labels its error is projected
to shrink as a learning curve ``error ∝ 1/sqrt(labels)`` says, by ``sqrt(L / (L + n))``
for ``n`` corrections (the interval scaled alike). Zero-shot has no training labels to
scale, so its projection is its measured accuracy: no gain is claimed.

The model is a project's trained model or, before any, zero-shot from the classes'
names, descriptions and examples (:mod:`augury.text.services.predictors`).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, exists, func, insert, select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.config import Settings
from augury.errors import ValidationFailed
from augury.jobs import service as jobs_service
from augury.text.models import (
    SessionStatus,
    TextAnnotation,
    TextDocument,
    TextGroupDocument,
    TextMark,
    TextProject,
    TextSegment,
    TextSession,
    TextSessionDocument,
)
from augury.text.services.predictors import Prediction, Predictor, predictor_for

JOB_TYPE = "text.correction"
INLINE_SEGMENTS = 2_000
"""Pools of at most this many segments are prepared in the request; larger in a job."""
MAX_POOL = 20_000
"""Documents a pool is cut to (seeded) before the model reads them."""
BATCH = 512
"""Segments per call to the model."""
EMBED_CHARS = 2_000
"""The first characters of a document that its embedding reads (diverse sampling)."""
Z95 = 1.959963984540054


# --- choosing the documents ----------------------------------------------------------------


def unlabeled_pool(session: Session, project: TextProject, group_id: int | None) -> list[int]:
    """Ids of the project's (or group's) documents nobody has labeled in any session."""
    labeled = exists().where(
        and_(TextAnnotation.document_id == TextDocument.id, TextAnnotation.source != "model")
    )
    stmt = select(TextDocument.id).where(TextDocument.project_id == project.id, ~labeled)
    if group_id is not None:
        stmt = stmt.join(TextGroupDocument, TextGroupDocument.document_id == TextDocument.id).where(
            TextGroupDocument.group_id == group_id
        )
    return list(session.scalars(stmt.order_by(TextDocument.id)))


def _segments(session: Session, document_ids: Sequence[int]) -> list[tuple[int, int, str]]:
    """(document id, segment id, text) of the documents, in document and segment order."""
    out: list[tuple[int, int, str]] = []
    for i in range(0, len(document_ids), 1000):
        chunk = list(document_ids[i : i + 1000])
        out += session.execute(
            select(TextSegment.document_id, TextSegment.id, TextSegment.text)
            .where(TextSegment.document_id.in_(chunk))
            .order_by(TextSegment.document_id, TextSegment.position)
        ).tuples()
    return out


def _predict(
    predictor: Predictor,
    segments: list[tuple[int, int, str]],
    progress: Callable[[float], None] | None,
) -> dict[int, Prediction]:
    out: dict[int, Prediction] = {}
    for i in range(0, len(segments), BATCH):
        batch = segments[i : i + BATCH]
        for (_, seg_id, _), pred in zip(
            batch, predictor.predict([t for _, _, t in batch]), strict=True
        ):
            out[seg_id] = pred
        if progress is not None:
            progress(min(1.0, (i + len(batch)) / max(1, len(segments))))
    return out


def farthest_first(vectors: np.ndarray, k: int, start: int) -> list[int]:
    """Row indexes of a greedy k-centre spread: ``start``, then each time the row
    farthest (cosine) from every row chosen so far.

    >>> farthest_first(np.array([[1.0, 0], [0.99, 0.1], [0, 1.0], [-1.0, 0]]), 3, 0)
    [0, 3, 2]
    """
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms == 0, 1.0, norms)
    k = min(k, len(unit))
    chosen = [start]
    distance = 1.0 - unit @ unit[start]
    distance[start] = -np.inf
    while len(chosen) < k:
        nxt = int(np.argmax(distance))
        chosen.append(nxt)
        distance = np.minimum(distance, 1.0 - unit @ unit[nxt])
        distance[chosen] = -np.inf
    return chosen


def _document_texts(session: Session, ids: list[int]) -> list[str]:
    texts: dict[int, str] = {}
    for i in range(0, len(ids), 1000):
        chunk = ids[i : i + 1000]
        texts.update(
            session.execute(
                select(TextDocument.id, func.substr(TextDocument.text, 1, EMBED_CHARS)).where(
                    TextDocument.id.in_(chunk)
                )
            ).all()
        )
    return [texts[i] for i in ids]


@dataclass
class Plan:
    """What :func:`prepare` chose: documents in session order, with their scores, and
    the model's prediction for each of their segments."""

    documents: list[tuple[int, float]] = field(default_factory=list)
    predictions: dict[int, Prediction] = field(default_factory=dict)
    segments: list[tuple[int, int, str]] = field(default_factory=list)


Opener = Callable[[], AbstractContextManager[Session]]
"""Opens a unit of work for one read or write. The job opens one per step, so it holds
no transaction (SQLite's write lock) while the model runs or it reports progress; the
request passes its own session (:func:`within`)."""


def within(session: Session) -> Opener:
    return lambda: nullcontext(session)


def choose(
    open_session: Opener,
    predictor: Predictor,
    pool: list[int],
    *,
    sample_size: int,
    strategy: str,
    seed: int,
    progress: Callable[[float, str], None] | None = None,
) -> Plan:
    """Pick ``sample_size`` documents of ``pool`` by ``strategy`` and predict their segments."""
    rng = random.Random(seed)
    if len(pool) > MAX_POOL:
        pool = sorted(rng.sample(pool, MAX_POOL))
    plan = Plan()
    report = (lambda share: progress(share * 100, "predicting")) if progress else None
    if strategy == "diverse":
        with open_session() as session:
            texts = _document_texts(session, pool)
        vectors = predictor.embed(texts)
        if vectors is None:  # no embedding: the documents' own model confidences spread them
            with open_session() as session:
                segments = _segments(session, pool)
            vectors = _confidence_vectors(predictor, segments, pool)
        picked = [pool[i] for i in farthest_first(vectors, sample_size, rng.randrange(len(pool)))]
        with open_session() as session:
            plan.segments = _segments(session, picked)
        plan.predictions = _predict(predictor, plan.segments, report)
        scores = _document_scores(plan.segments, plan.predictions)
        plan.documents = [(doc, scores.get(doc, 0.0)) for doc in picked]
    else:
        with open_session() as session:
            segments = _segments(session, pool)
        predictions = _predict(predictor, segments, report)
        scores = _document_scores(segments, predictions)
        ranked = sorted(scores.items(), key=lambda item: (item[1], item[0]))[:sample_size]
        keep = {doc for doc, _ in ranked}
        plan.documents = ranked
        plan.segments = [s for s in segments if s[0] in keep]
        plan.predictions = {s[1]: predictions[s[1]] for s in plan.segments}
    return plan


def _confidence_vectors(
    predictor: Predictor, segments: list[tuple[int, int, str]], pool: list[int]
) -> np.ndarray:
    predictions = _predict(predictor, segments, None)
    dims: dict[tuple, int] = {}
    rows: dict[int, dict[int, float]] = defaultdict(dict)
    for doc, seg, _ in segments:
        for tag in predictions[seg].tags:
            col = dims.setdefault((tag.get("class_id"), tag.get("label_id")), len(dims))
            rows[doc][col] = rows[doc].get(col, 0.0) + float(tag.get("confidence") or 0.0)
    out = np.zeros((len(pool), max(1, len(dims))))
    for i, doc in enumerate(pool):
        for col, value in rows[doc].items():
            out[i, col] = value
    return out


def _document_scores(
    segments: list[tuple[int, int, str]], predictions: dict[int, Prediction]
) -> dict[int, float]:
    """A document's score: its least sure segment's confidence."""
    scores: dict[int, float] = {}
    for doc, seg, _ in segments:
        conf = predictions[seg].confidence
        scores[doc] = min(scores.get(doc, conf), conf)
    return scores


def store(session: Session, ts: TextSession, predictor: Predictor, plan: Plan) -> None:
    """The chosen documents in session order and the model's tags on their segments."""
    session.execute(
        insert(TextSessionDocument),
        [
            {"session_id": ts.id, "document_id": doc, "position": n, "score": round(score, 6)}
            for n, (doc, score) in enumerate(plan.documents)
        ],
    )
    now = clock.now()
    rows = []
    for doc, seg, _ in plan.segments:
        pred = plan.predictions[seg]
        rows.append(
            {
                "org_id": ts.org_id,
                "project_id": ts.project_id,
                "session_id": ts.id,
                "document_id": doc,
                "segment_id": seg,
                "annotator_id": None,
                "annotator_key": predictor.key,
                "source": "model",
                "tags": pred.tags,
                "score": round(pred.confidence, 6),
                "version": 1,
                "updated_at": now,
            }
        )
    for i in range(0, len(rows), 5000):
        session.execute(insert(TextAnnotation), rows[i : i + 5000])
    ts.document_count = len(plan.documents)
    ts.status = SessionStatus.ANNOTATING
    ts.updated_at = now


# --- creating ------------------------------------------------------------------------------


def create(
    session: Session,
    principal: Principal,
    project: TextProject,
    ts: TextSession,
    *,
    model_id: int | None,
    sample_size: int | None,
    strategy: str,
    seed: int | None,
    group_id: int | None,
    settings: Settings | None,
) -> None:
    """Choose and pre-tag the documents of a new correction session ``ts`` (flushed),
    in the request for a small pool, else in a ``text.correction`` job."""
    predictor = predictor_for(session, project, model_id, settings)
    pool = unlabeled_pool(session, project, group_id)
    if not pool:
        raise ValidationFailed(
            "No unlabeled documents to correct"
            + (" in this group." if group_id is not None else " in this project."),
            details={"reason": "NO_UNLABELED_DOCUMENTS"},
        )
    seed = random.SystemRandom().randrange(2**31) if seed is None else seed
    ts.model_id = model_id
    ts.sampling = {
        "how": strategy,
        "sample_size": sample_size or 20,
        "seed": seed,
        "group_id": group_id,
        "pool": len(pool),
        "model": predictor.key,
        "training_size": predictor.training_size,
    }
    segments = session.scalar(
        select(func.coalesce(func.sum(TextDocument.segment_count), 0)).where(
            TextDocument.id.in_(pool[: INLINE_SEGMENTS + 1])
        )
    )
    if len(pool) <= INLINE_SEGMENTS and int(segments or 0) <= INLINE_SEGMENTS:
        prepare(within(session), ts.id, predictor, pool, ts.sampling)
        return
    ts.status = SessionStatus.SAMPLING
    job = jobs_service.create(
        session=session,
        org_id=project.org_id,
        type=JOB_TYPE,
        params={"session_id": ts.id},
        user_id=principal.user_id,
        quotas=settings.quotas if settings is not None else None,
    )
    ts.job_id = job.id


def prepare(
    open_session: Opener,
    ts_id: int,
    predictor: Predictor,
    pool: list[int],
    sampling: dict,
    progress: Callable[[float, str], None] | None = None,
) -> int:
    """Choose and pre-tag the documents of session ``ts_id`` as its ``sampling`` says;
    returns how many were chosen."""
    plan = choose(
        open_session,
        predictor,
        pool,
        sample_size=int(sampling["sample_size"]),
        strategy=sampling["how"],
        seed=int(sampling["seed"]),
        progress=progress,
    )
    with open_session() as session:
        ts = session.get(TextSession, ts_id)
        if ts is None:
            raise ValueError(f"text session {ts_id} was deleted while it was prepared")
        store(session, ts, predictor, plan)
        return ts.document_count


class PrepareCorrection:
    """The ``text.correction`` job: a large correction session's sampling and pre-tags."""

    name = JOB_TYPE
    title = "Text: choose and pre-tag a correction session's documents"
    notify = True

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        session_id: int = Field(ge=1, le=2**31 - 1)

    def run(self, ctx, params: Params) -> dict:
        try:
            with ctx.session() as session:
                ts, project = self._load(session, ctx.org_id, params.session_id)
                predictor = predictor_for(session, project, ts.model_id, ctx.settings)
                pool = unlabeled_pool(session, project, ts.sampling.get("group_id"))
                if not pool:
                    raise ValueError("no unlabeled documents are left to correct")
                ts.status = SessionStatus.PREDICTING
                sampling = dict(ts.sampling)
                project_id = project.id
            count = prepare(
                ctx.session, params.session_id, predictor, pool, sampling, progress=ctx.progress
            )
        except BaseException:
            with ctx.session() as session:
                row = session.get(TextSession, params.session_id)
                if row is not None and row.org_id == ctx.org_id:
                    row.status = SessionStatus.FAILED
                    row.updated_at = clock.now()
            raise
        return {"session_id": params.session_id, "project_id": project_id, "documents": count}

    @staticmethod
    def notification(status: str, result: dict) -> dict:
        """A ready session links to its page; a failed one to the job (the default)."""
        if status != "succeeded" or "project_id" not in result:
            return {}
        return {
            "title": f"Correction session ready: {result['documents']} documents to check",
            "link": f"/text/projects/{result['project_id']}/sessions/{result['session_id']}",
        }

    @staticmethod
    def _load(session: Session, org_id: int, session_id: int) -> tuple[TextSession, TextProject]:
        ts = session.get(TextSession, session_id)
        if ts is None or ts.org_id != org_id:
            raise ValueError(f"text session {session_id} not found")
        return ts, session.get_one(TextProject, ts.project_id)


# --- the predicted score -------------------------------------------------------------------


def wilson(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of ``correct`` successes in ``n`` trials.

    >>> [round(x, 3) for x in wilson(8, 10)]
    [0.49, 0.943]
    """
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _pairs(tags: list[dict]) -> frozenset:
    return frozenset((t.get("class_id"), t.get("label_id")) for t in tags)


def checked(session: Session, ts: TextSession) -> tuple[int, int]:
    """(correct, checked): the segments people checked and how many of them the model
    had right. A person's saved tags are their verdict; a segment they marked done (on
    its own, by its page or by its document) without saving accepts the model's tags."""
    model_key = (ts.sampling or {}).get("model", "model:zeroshot")
    model: dict[int, frozenset] = {}
    where: dict[int, tuple[int, int | None]] = {}
    for seg, tags, doc, page in session.execute(
        select(
            TextAnnotation.segment_id,
            TextAnnotation.tags,
            TextSegment.document_id,
            TextSegment.page,
        )
        .join(TextSegment, TextSegment.id == TextAnnotation.segment_id)
        .where(TextAnnotation.session_id == ts.id, TextAnnotation.annotator_key == model_key)
    ):
        model[seg] = _pairs(tags)
        where[seg] = (doc, page)
    verdicts: dict[tuple[str, int], frozenset] = {}
    for key, seg, tags in session.execute(
        select(TextAnnotation.annotator_key, TextAnnotation.segment_id, TextAnnotation.tags).where(
            TextAnnotation.session_id == ts.id, TextAnnotation.source == "human"
        )
    ):
        if seg in model:
            verdicts[(key, seg)] = _pairs(tags)
    accepted: dict[str, set] = defaultdict(set)
    for key, doc, scope, ref in session.execute(
        select(TextMark.user_key, TextMark.document_id, TextMark.scope, TextMark.ref).where(
            TextMark.session_id == ts.id, TextMark.name == "ANNOTATED"
        )
    ):
        accepted[key].add((scope, ref if scope != "document" else doc, doc))
    for key, marks in accepted.items():
        for seg, (doc, page) in where.items():
            if (key, seg) in verdicts:
                continue
            if (
                ("segment", seg, doc) in marks
                or ("document", doc, doc) in marks
                or ("page", page or 1, doc) in marks
            ):
                verdicts[(key, seg)] = model[seg]
    correct = sum(1 for (_, seg), tags in verdicts.items() if tags == model[seg])
    return correct, len(verdicts)


def estimate(correct: int, n: int, training_size: int) -> dict | None:
    """The predicted score of the next model from ``correct`` of ``n`` checked segments
    of a model trained on ``training_size`` labels (see the module's docstring)."""
    if n == 0:
        return None
    accuracy = correct / n
    low, high = wilson(correct, n)
    shrink = math.sqrt(training_size / (training_size + n)) if training_size > 0 else 1.0
    return {
        "score": round(1 - (1 - accuracy) * shrink, 4),
        "low": round(1 - (1 - low) * shrink, 4),
        "high": round(1 - (1 - high) * shrink, 4),
        "accuracy": round(accuracy, 4),
        "accuracy_low": round(low, 4),
        "accuracy_high": round(high, 4),
        "correct": correct,
        "checked": n,
        "training_size": training_size,
        "method": (
            "accuracy on corrected segments (held out from training), Wilson 95% interval; "
            + (
                f"error scaled by sqrt({training_size}/({training_size}+{n})) for the "
                "corrections the next model adds"
                if training_size > 0
                else "zero-shot: no training labels to scale, no gain claimed"
            )
        ),
    }


def refresh_score(session: Session, ts: TextSession) -> dict | None:
    """Re-estimate the session's predicted score after a correction (and keep it)."""
    session.flush()
    correct, n = checked(session, ts)
    ts.predicted_score = estimate(correct, n, int((ts.sampling or {}).get("training_size", 0)))
    return ts.predicted_score
