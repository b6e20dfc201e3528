"""A project's labeled sessions as the examples a text model trains and is tested on.

**What counts as a label.** Whatever a person (or an import of people's work) said of a
segment: annotations with source ``human``, ``import`` or ``review``. In a correction
session a person also accepts the model's tags by marking a segment (or its page, or its
document) done without saving tags of their own, as :func:`augury.text.services.
correction.checked` counts it; those accepted tags are that person's label too. Tags
the model left on segments nobody checked are not labels.

**Several annotators on one segment** (in one session or several): the tag set most of
them gave, a tie going to the latest save. A tag's span (``start``/``end``) counts for
its whole segment, so tags are compared as sets of (class, label) pairs; tags of a class
or label deleted since are dropped.

**Targets**, per project type, in the engines' shapes (:mod:`augury.engines.text`):
CLASS one class name per segment (a segment tagged with several classes is ambiguous
and left out, counted); LABEL the list of label names; CLASSLABEL a multi-label target
over (class, label) pairs, each pair one name, ``class + PAIR + label`` (:data:`PAIR` is
NUL, which no class or label name may hold); ABSA ``{"text", "aspects": [{"category",
"polarity"}]}``.

**The split** keeps every document on one side: a document's segments are never in both
the training and the test set, since sentences of one review share words that would make
the test score flattering. Either augury splits the documents (seeded, ``test_fraction``
of the examples in the test set) or the caller names the train and test sessions (a
document in both is tested, not trained on).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury.errors import ValidationFailed
from augury.text.models import (
    ProjectType,
    SessionMode,
    TextAnnotation,
    TextClass,
    TextLabel,
    TextMark,
    TextProject,
    TextSegment,
    TextSession,
)

LABEL_SOURCES = ("human", "import", "review")
"""Annotation sources that are people's labels (a model's suggestions are not)."""
PAIR = "\x00"
"""Between a class and a label name in a CLASSLABEL target: NUL, refused in every name."""
MIN_TEST = 2
"""Examples a test set needs at the least for a score worth showing."""
MAX_SESSIONS = 100

Pair = tuple[int | None, int | None]


@dataclass(frozen=True)
class Example:
    """One labeled segment: its text and its target in the engine's shape."""

    segment_id: int
    document_id: int
    text: str
    target: Any


@dataclass
class TrainingSet:
    """The examples of both sides, the vocabulary they name (``{"classes": {name: id},
    "labels": {name: id}}``, the project's when read) and what was counted on the way."""

    task: str
    train: list[Example]
    test: list[Example]
    vocabulary: dict[str, dict[str, int]]
    counts: dict[str, Any] = field(default_factory=dict)

    def texts(self, side: str) -> list[str]:
        return [e.text for e in getattr(self, side)]

    def targets(self, side: str) -> list[Any]:
        return [e.target for e in getattr(self, side)]

    def target_names(self, side: str = "train") -> list[str]:
        """The class (label, pair, aspect category) names the side's targets use."""
        names: set[str] = set()
        for e in getattr(self, side):
            names.update(target_names(self.task, e.target))
        return sorted(names)


def target_names(task: str, target: Any) -> list[str]:
    if task == ProjectType.CLASS:
        return [target]
    if task == ProjectType.ABSA:
        return [a["category"] for a in target["aspects"]]
    return list(target)


def pair_name(class_name: str, label_name: str) -> str:
    return f"{class_name}{PAIR}{label_name}"


def split_pair(name: str) -> tuple[str, str]:
    class_name, _, label_name = name.partition(PAIR)
    return class_name, label_name


def shown(name: str) -> str:
    """A target name as people read it: a CLASSLABEL pair as ``class/label``."""
    return name.replace(PAIR, "/")


# --- sessions ----------------------------------------------------------------------------


def project_sessions(
    session: Session, project: TextProject, ids: Sequence[int], what: str = "session_ids"
) -> list[TextSession]:
    """The project's sessions ``ids`` in order (422 naming any that are not its own)."""
    wanted = list(dict.fromkeys(ids))
    if len(wanted) > MAX_SESSIONS:
        raise ValidationFailed(f"{what}: at most {MAX_SESSIONS} sessions.")
    rows = {
        s.id: s
        for s in session.scalars(
            select(TextSession).where(
                TextSession.id.in_(wanted), TextSession.project_id == project.id
            )
        )
    }
    missing = [i for i in wanted if i not in rows]
    if missing:
        raise ValidationFailed(
            f"{what}: {_ids(missing)} {'is not a session' if len(missing) == 1 else 'are not'}"
            " of this project's sessions.",
            details={"reason": "UNKNOWN_SESSIONS", "field": what, "ids": missing},
        )
    return [rows[i] for i in wanted]


def _ids(ids: Sequence[int]) -> str:
    return ", ".join(str(i) for i in ids[:10]) + (" ..." if len(ids) > 10 else "")


# --- labels --------------------------------------------------------------------------------


@dataclass
class _Verdict:
    tags: frozenset[Pair]
    at: datetime | None


def _pairs(tags: Iterable[dict], classes: dict[int, str], labels: dict[int, str]) -> frozenset:
    """The (class id, label id) pairs of ``tags`` whose class and label still exist."""
    out = set()
    for t in tags or []:
        cid, lid = t.get("class_id"), t.get("label_id")
        if cid is not None and cid not in classes:
            continue
        if lid is not None and lid not in labels:
            continue
        if cid is None and lid is None:
            continue
        out.add((cid, lid))
    return frozenset(out)


def verdicts(
    session: Session,
    sessions: Sequence[TextSession],
    classes: dict[int, str],
    labels: dict[int, str],
) -> dict[int, list[_Verdict]]:
    """Every label people gave, by segment: ``{segment id: [verdict per annotator and
    session]}``."""
    by_segment: dict[int, list[_Verdict]] = defaultdict(list)
    ids = [s.id for s in sessions]
    saved: set[tuple[int, str, int]] = set()
    for sid, key, seg, tags, at in session.execute(
        select(
            TextAnnotation.session_id,
            TextAnnotation.annotator_key,
            TextAnnotation.segment_id,
            TextAnnotation.tags,
            TextAnnotation.updated_at,
        ).where(TextAnnotation.session_id.in_(ids), TextAnnotation.source.in_(LABEL_SOURCES))
    ):
        saved.add((sid, key, seg))
        by_segment[seg].append(_Verdict(_pairs(tags, classes, labels), at))
    for ts in sessions:
        if ts.mode == SessionMode.CORRECTION:
            for seg, verdict in _accepted(session, ts, saved, classes, labels):
                by_segment[seg].append(verdict)
    return by_segment


def _accepted(
    session: Session,
    ts: TextSession,
    saved: set[tuple[int, str, int]],
    classes: dict[int, str],
    labels: dict[int, str],
) -> Iterable[tuple[int, _Verdict]]:
    """The model's tags people accepted in correction session ``ts``: segments marked
    done (by themselves, their page or their document) with no tags of the person's own."""
    model_key = (ts.sampling or {}).get("model", "model:zeroshot")
    suggested: dict[int, tuple[frozenset, int, int | None]] = {}
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
        suggested[seg] = (_pairs(tags, classes, labels), doc, page)
    marks: dict[str, dict[tuple[str, int, int], datetime]] = defaultdict(dict)
    for key, doc, scope, ref, at in session.execute(
        select(
            TextMark.user_key,
            TextMark.document_id,
            TextMark.scope,
            TextMark.ref,
            TextMark.created_at,
        ).where(TextMark.session_id == ts.id, TextMark.name == "ANNOTATED")
    ):
        marks[key][(scope, ref if scope != "document" else doc, doc)] = at
    for key, done in marks.items():
        for seg, (tags, doc, page) in suggested.items():
            if (ts.id, key, seg) in saved:
                continue
            when = (
                done.get(("segment", seg, doc))
                or done.get(("page", page or 1, doc))
                or done.get(("document", doc, doc))
            )
            if when is not None:
                yield seg, _Verdict(tags, when)


def majority(found: Sequence[_Verdict]) -> frozenset:
    """The tag set most annotators gave; between equally many, the latest saved."""
    counts = Counter(v.tags for v in found)
    top = max(counts.values())
    tied = {tags for tags, n in counts.items() if n == top}
    latest = max(
        (v for v in found if v.tags in tied),
        key=lambda v: v.at.timestamp() if v.at is not None else float("-inf"),
    )
    return latest.tags


# --- targets ---------------------------------------------------------------------------------


def _target(
    task: str, text: str, tags: frozenset, classes: dict[int, str], labels: dict[int, str]
) -> Any | None:
    """The engine target of a segment's tags, or None when they cannot be one."""
    if task == ProjectType.CLASS:
        names = {classes[c] for c, _ in tags if c is not None}
        return next(iter(names)) if len(names) == 1 else None
    if task == ProjectType.LABEL:
        return sorted({labels[lid] for _, lid in tags if lid is not None})
    if task == ProjectType.CLASSLABEL:
        return sorted(
            {
                pair_name(classes[c], labels[lid])
                for c, lid in tags
                if c is not None and lid is not None
            }
        )
    aspects: dict[str, str | None] = {}
    for c, lid in sorted(tags, key=lambda p: (p[0] or 0, p[1] or 0)):
        if c is None:
            continue
        name = classes[c]
        if aspects.get(name) is None:
            aspects[name] = labels[lid] if lid is not None else None
    return {
        "text": text,
        "aspects": [{"category": c, "polarity": p} for c, p in sorted(aspects.items())],
    }


def vocabulary_of(session: Session, project: TextProject) -> tuple[dict[int, str], dict[int, str]]:
    classes = dict(
        session.execute(
            select(TextClass.id, TextClass.name)
            .where(TextClass.project_id == project.id)
            .order_by(TextClass.position, TextClass.id)
        ).all()
    )
    labels = dict(
        session.execute(
            select(TextLabel.id, TextLabel.name)
            .where(TextLabel.project_id == project.id)
            .order_by(TextLabel.position, TextLabel.id)
        ).all()
    )
    return classes, labels


def examples(
    session: Session,
    project: TextProject,
    sessions: Sequence[TextSession],
    classes: dict[int, str],
    labels: dict[int, str],
    counts: Counter,
) -> list[Example]:
    """The labeled segments of ``sessions``, one example each, in document order."""
    found = verdicts(session, sessions, classes, labels)
    out = []
    segment_ids = sorted(found)
    for lo in range(0, len(segment_ids), 1000):
        chunk = segment_ids[lo : lo + 1000]
        for seg, doc, text in session.execute(
            select(TextSegment.id, TextSegment.document_id, TextSegment.text)
            .where(TextSegment.id.in_(chunk))
            .order_by(TextSegment.document_id, TextSegment.position)
        ):
            tags = majority(found[seg])
            if len({v.tags for v in found[seg]}) > 1:
                counts["disagreements"] += 1
            if not text.strip():
                counts["empty_text"] += 1
                continue
            target = _target(project.type, text, tags, classes, labels)
            if target is None:
                counts["ambiguous" if tags else "untagged"] += 1
                continue
            out.append(Example(seg, doc, text, target))
    return out


# --- the split -----------------------------------------------------------------------------


def split_by_document(
    found: list[Example], test_fraction: float, seed: int, task: str
) -> tuple[list[Example], list[Example]]:
    """A seeded split of the documents, about ``test_fraction`` of the examples tested;
    a class that only the test side would have is moved back to train (a model cannot
    learn what it never saw)."""
    by_doc: dict[int, list[Example]] = defaultdict(list)
    for e in found:
        by_doc[e.document_id].append(e)
    docs = sorted(by_doc)
    random.Random(seed).shuffle(docs)
    wanted = round(len(found) * test_fraction)
    test_docs: list[int] = []
    taken = 0
    for doc in docs:
        if taken >= wanted or len(test_docs) >= len(docs) - 1:
            break
        test_docs.append(doc)
        taken += len(by_doc[doc])
    train_docs = [d for d in docs if d not in set(test_docs)]

    def names(doc_ids: Iterable[int]) -> set[str]:
        return {n for d in doc_ids for e in by_doc[d] for n in target_names(task, e.target)}

    for doc in list(test_docs):
        if len(test_docs) == 1:
            break
        if names([doc]) - names(train_docs):
            test_docs.remove(doc)
            train_docs.append(doc)
    keep = set(test_docs)
    train = [e for e in found if e.document_id not in keep]
    test = [e for e in found if e.document_id in keep]
    return train, test


def build(
    session: Session,
    project: TextProject,
    *,
    session_ids: Sequence[int] | None = None,
    train_session_ids: Sequence[int] | None = None,
    test_session_ids: Sequence[int] | None = None,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> TrainingSet:
    """The training and test examples of ``project`` from its sessions (see the module's
    docstring), refused with a 422 that says what to do when they cannot train a model
    worth testing."""
    classes, labels = vocabulary_of(session, project)
    counts: Counter = Counter()
    if session_ids:
        sessions = project_sessions(session, project, session_ids)
        found = examples(session, project, sessions, classes, labels, counts)
        train, test = split_by_document(found, test_fraction, seed, project.type)
    elif train_session_ids and test_session_ids:
        train_sessions = project_sessions(session, project, train_session_ids, "train_session_ids")
        test_sessions = project_sessions(session, project, test_session_ids, "test_session_ids")
        test = examples(session, project, test_sessions, classes, labels, counts)
        tested = {e.document_id for e in test}
        train = []
        for e in examples(session, project, train_sessions, classes, labels, counts):
            if e.document_id in tested:
                counts["tested_not_trained"] += 1
            else:
                train.append(e)
    else:
        raise ValidationFailed(
            "Name the sessions to train on: `session_ids` (augury splits them into training "
            "and test documents), or `train_session_ids` and `test_session_ids`.",
            details={"reason": "NO_SESSIONS"},
        )
    built = TrainingSet(
        task=project.type,
        train=train,
        test=test,
        vocabulary={
            "classes": {name: cid for cid, name in classes.items()},
            "labels": {name: lid for lid, name in labels.items()},
        },
        counts={
            "train": len(train),
            "test": len(test),
            "train_documents": len({e.document_id for e in train}),
            "test_documents": len({e.document_id for e in test}),
            **{k: counts[k] for k in sorted(counts)},
        },
    )
    check(built)
    return built


def check(built: TrainingSet) -> None:
    """Refuse a set that cannot train a model worth testing: fewer than two classes (the
    session with one class), or too few examples to test on."""
    names = built.target_names("train")
    what = _words(built.task)
    if built.task == ProjectType.ABSA:
        polarities = {
            a["polarity"] for e in built.train for a in e.target["aspects"] if a["polarity"]
        }
        if not names or len(polarities) < 2:
            raise ValidationFailed(
                "Training an aspect-based sentiment model needs labeled aspects with at "
                f"least two sentiments; the sessions have {len(names)} aspect categories "
                f"and the sentiments {sorted(polarities)}. Label more segments.",
                details={
                    "reason": "TOO_FEW_CLASSES",
                    "classes": [shown(n) for n in names],
                    "labels": sorted(polarities),
                    "counts": built.counts,
                },
            )
    elif len(names) < 2:
        raise ValidationFailed(
            f"Training needs labeled examples of at least two {what}; the training "
            f"sessions have {len(names)}"
            + (f" ({shown(names[0])!r})" if names else "")
            + f". Label segments of other {what} too.",
            details={
                "reason": "TOO_FEW_CLASSES",
                "classes": [shown(n) for n in names],
                "counts": built.counts,
            },
        )
    if len(built.test) < MIN_TEST:
        raise ValidationFailed(
            f"Too few labeled examples to test the model on ({len(built.test)} in the test "
            f"set, {len(built.train)} to train on; at least {MIN_TEST} are needed): label "
            "more documents, raise test_fraction, or name test sessions.",
            details={"reason": "TOO_FEW_EXAMPLES", "counts": built.counts},
        )


def _words(task: str) -> str:
    return {
        ProjectType.CLASS: "classes",
        ProjectType.LABEL: "labels",
        ProjectType.CLASSLABEL: "class/label pairs",
    }.get(ProjectType(task), "aspect categories")
