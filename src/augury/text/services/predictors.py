"""The models that tag text for the rest of the domain: correction sessions pre-tag with
them, analyses read with them.

A :class:`Predictor` turns texts into tags by class and label id, whatever is behind
it: zero-shot from the classes' (or labels') names, descriptions and examples in an
embedding space (:class:`ZeroShot`), or a trained model version (:class:`Trained`).
:func:`predictor_for` picks one for a project: the version asked for, else the
project's active one, else zero-shot.

A trained model predicts names; they become the project's *current* ids through the
version's ``vocabulary`` (the names and ids when it trained): a class renamed since
keeps its id, so its tags follow the rename, and a class deleted since is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from augury.config import Settings
from augury.errors import ServiceUnavailable, ValidationFailed
from augury.text.models import ProjectType, TextClass, TextLabel, TextModelVersion, TextProject
from augury.text.services import modeling
from augury.text.services.training_data import split_pair, vocabulary_of


@dataclass
class Prediction:
    """A model's tags for one text (``{"class_id", "label_id", "confidence"}``) and its
    confidence in them as a whole (what least-confident sampling ranks)."""

    tags: list[dict]
    confidence: float


class Predictor(Protocol):
    key: str
    """The annotator key of its tags: ``model:<id>`` or ``model:zeroshot``."""
    model_id: int | None
    training_size: int
    """Labels it learned from (0 for zero-shot): what the projected score scales."""

    def predict(self, texts: list[str]) -> list[Prediction]: ...

    def embed(self, texts: list[str]) -> np.ndarray | None:
        """Row vectors for diverse sampling; None when the predictor has none."""
        ...


@dataclass
class ZeroShot:
    """Zero-shot from the classes' (or, for LABEL projects, the labels') names,
    descriptions and examples: each text's most similar entry, and for labels any
    other at least :attr:`multi_label_at` sure."""

    entries: list[dict]
    """``{"id", "name", "description", "examples"}`` of the classes or labels."""
    by_label: bool
    key: str = "model:zeroshot"
    model_id: int | None = None
    training_size: int = 0
    multi_label_at: float = 0.5
    _model: Any = field(default=None, repr=False)

    def predict(self, texts: list[str]) -> list[Prediction]:
        from augury.engines.text.zeroshot import ZeroShotModel

        if self._model is None:
            self._model = _model_call(lambda: ZeroShotModel(self.entries))
        ids = {e["name"]: e["id"] for e in self.entries}
        key, other = ("label_id", "class_id") if self.by_label else ("class_id", "label_id")
        out = []
        for ranking in _model_call(lambda: self._model.rank(texts)):
            (top_name, top), *rest = ranking
            chosen = [(top_name, top)]
            if self.by_label:
                chosen += [(n, c) for n, c in rest if c >= self.multi_label_at]
            tags = [{key: ids[n], other: None, "confidence": round(float(c), 4)} for n, c in chosen]
            out.append(Prediction(tags, float(top)))
        return out

    def embed(self, texts: list[str]) -> np.ndarray | None:
        from augury.engines.text.embed import embed

        vectors = embed(texts)
        return None if vectors is None else np.asarray(vectors, dtype=np.float64)


def _model_call(call: Callable[[], Any]) -> Any:
    """``call()``, a text model's refusal (its embedding model missing ...) as a 503."""
    from augury.engines.text.model_errors import TextModelError

    try:
        return call()
    except TextModelError as exc:
        raise ServiceUnavailable(
            f"The model cannot pre-tag: {exc}", details={"reason": getattr(exc, "code", None)}
        ) from exc


@dataclass
class Trained:
    """A trained (or uploaded) model version of the project.

    ``classes`` and ``labels`` map the names the model predicts to the project's current
    ids (see the module's docstring); a CLASSLABEL model's names are pairs
    (:func:`~augury.text.services.training_data.split_pair`), an ABSA model's are
    aspect categories with the sentiments as labels.
    """

    model: Any
    task: str
    classes: dict[str, int]
    labels: dict[str, int]
    model_id: int | None
    training_size: int
    key: str = ""
    class_names: dict[int, str] = field(default_factory=dict)
    """The project's current class names by id (ABSA: a given category the model never
    saw is judged by its name)."""

    def __post_init__(self) -> None:
        self.key = self.key or f"model:{self.model_id}"

    def predict(self, texts: list[str]) -> list[Prediction]:
        if not texts:
            return []
        if self.task == ProjectType.ABSA:
            return _model_call(lambda: self._aspects(texts))
        proba = _model_call(lambda: self.model.predict_proba(texts))
        if self.task == ProjectType.CLASS:
            return [self._one_class(row) for row in proba]
        return [self._many(row, p) for row, p in zip(proba, self.model.decide(proba), strict=True)]

    def _one_class(self, row: np.ndarray) -> Prediction:
        """The most likely class that still exists, its probability renormalized over
        the classes that do."""
        alive = [i for i, name in enumerate(self.model.classes) if name in self.classes]
        if not alive:
            return Prediction([], 0.0)
        kept = row[alive]
        total = float(kept.sum()) or 1.0
        best = alive[int(np.argmax(kept))]
        confidence = round(float(row[best]) / total, 4)
        tag = {"class_id": self.classes[self.model.classes[best]], "label_id": None}
        return Prediction([{**tag, "confidence": confidence}], confidence)

    def _many(self, row: np.ndarray, decided: Any) -> Prediction:
        index = {name: i for i, name in enumerate(self.model.classes)}
        tags = []
        for name in decided.labels:
            tag = self._tag(name)
            if tag is not None:
                tags.append({**tag, "confidence": round(float(row[index[name]]), 4)})
        if tags:
            confidence = min(t["confidence"] for t in tags)
        else:
            confidence = round(1.0 - float(row.max()), 4) if len(row) else 0.0
        return Prediction(tags, float(confidence))

    def _tag(self, name: str) -> dict | None:
        """A predicted name as the project's current ids; None for one deleted since."""
        if self.task == ProjectType.LABEL:
            lid = self.labels.get(name)
            return None if lid is None else {"class_id": None, "label_id": lid}
        class_name, label_name = split_pair(name)
        cid, lid = self.classes.get(class_name), self.labels.get(label_name)
        return None if cid is None or lid is None else {"class_id": cid, "label_id": lid}

    def _aspects(self, texts: list[str]) -> list[Prediction]:
        detector = self.model.detector
        proba = detector.predict_proba(texts)
        index = {c: i for i, c in enumerate(detector.classes)}
        wanted = [
            [(c, float(row[index[c]])) for c in p.labels if c in self.classes]
            for row, p in zip(proba, detector.decide(proba), strict=True)
        ]
        judged = self._polarities(texts, [[c for c, _ in found] for found in wanted])
        out = []
        for row, found, polarities in zip(proba, wanted, judged, strict=True):
            tags: list[dict[str, Any]] = []
            for (category, seen), (label_id, sure) in zip(found, polarities, strict=True):
                tag = {"class_id": self.classes[category], "label_id": label_id}
                tags.append({**tag, "confidence": round(seen * sure, 4)})
            if tags:
                confidence = min(t["confidence"] for t in tags)
            else:
                confidence = round(1.0 - float(row.max()), 4) if len(row) else 0.0
            out.append(Prediction(tags, float(confidence)))
        return out

    def _polarities(
        self, texts: list[str], categories: list[list[str]]
    ) -> list[list[tuple[int | None, float]]]:
        """Each (text, category) pair's most likely sentiment as (label id, probability);
        a sentiment label deleted since gives None."""
        rows = [i for i, cs in enumerate(categories) for _ in cs]
        flat = [c for cs in categories for c in cs]
        out: list[list[tuple[int | None, float]]] = [[] for _ in texts]
        if not rows:
            return out
        proba = self.model.polarity_proba([texts[i] for i in rows], flat)
        for i, p in zip(rows, proba, strict=True):
            top = int(np.argmax(p))
            out[i].append((self.labels.get(self.model.polarities[top]), float(p[top])))
        return out

    def predict_given(
        self, texts: list[str], class_ids_per_text: list[list[int]]
    ) -> list[Prediction]:
        """ABSA with the aspect categories given (SemEval's subtask 4): each given class's
        sentiment only, in the order given. A class the model never learned is judged by
        what it learned of sentiment anywhere."""
        if self.task != ProjectType.ABSA:
            raise ValidationFailed(
                "Only an aspect-based sentiment model judges given aspects.",
                details={"reason": "NOT_ABSA", "type": self.task},
            )
        by_id = {cid: name for name, cid in self.classes.items()}
        names = [
            [by_id.get(cid, self.class_names.get(cid, f"#{cid}")) for cid in ids]
            for ids in class_ids_per_text
        ]
        judged = _model_call(lambda: self._polarities(texts, names))
        out = []
        for ids, polarities in zip(class_ids_per_text, judged, strict=True):
            tags = [
                {"class_id": cid, "label_id": label_id, "confidence": round(sure, 4)}
                for cid, (label_id, sure) in zip(ids, polarities, strict=True)
            ]
            confidence = min((t["confidence"] for t in tags), default=0.0)
            out.append(Prediction(tags, float(confidence)))
        return out

    def embed(self, texts: list[str]) -> np.ndarray | None:
        features = self.model.features
        if features.embedder is None:
            return None
        return np.asarray(features.embedder.embed(texts), dtype=np.float64)


def trained(
    session: Session, project: TextProject, model: TextModelVersion, settings: Settings | None
) -> Trained:
    """The version ready to predict, its names mapped to the project's current ids."""
    engine_model = _model_call(lambda: modeling.load_engine_model(settings, model))
    classes, labels = vocabulary_of(session, project)
    vocabulary = model.vocabulary or {}
    then_classes = vocabulary.get("classes") or {}
    then_labels = vocabulary.get("labels") or {}
    return Trained(
        model=engine_model,
        task=model.task,
        classes={n: i for n, i in then_classes.items() if i in classes},
        labels={n: i for n, i in then_labels.items() if i in labels},
        model_id=model.id,
        training_size=modeling.training_size(model),
        class_names=classes,
    )


def predictor_for(
    session: Session,
    project: TextProject,
    model_id: int | None,
    settings: Settings | None = None,
    *,
    zero_shot: bool = False,
) -> Predictor:
    """The model that tags: version ``model_id`` of the project (404 for none of its
    own, 409 while it is not READY); for None the project's active version, else (or
    when ``zero_shot`` asks for it) zero-shot from the classes (labels for a LABEL
    project). ``settings`` say where the model files are (the server's environment when
    not given)."""
    if model_id is not None:
        return trained(session, project, modeling.get(session, project, model_id), settings)
    active = None if zero_shot else modeling.active_model(session, project)
    if active is not None:
        return trained(session, project, active, settings)
    if project.type in (ProjectType.CLASSLABEL, ProjectType.ABSA):
        raise ValidationFailed(
            f"Zero-shot cannot pre-tag a {project.type} project's pairs (a sentiment or "
            "label per class needs a trained model); train a model first.",
            details={"reason": "NEEDS_MODEL", "type": project.type},
        )
    by_label = project.type == ProjectType.LABEL
    table: Any = TextLabel if by_label else TextClass
    rows = session.scalars(
        select(table).where(table.project_id == project.id).order_by(table.position, table.id)
    ).all()
    if len(rows) < 2:
        what = "labels" if by_label else "classes"
        raise ValidationFailed(
            f"Zero-shot needs at least two {what} to choose between; add them (with a "
            "description and examples) first.",
            details={"reason": "TOO_FEW_CLASSES", what: [r.name for r in rows]},
        )
    entries = [
        {"id": r.id, "name": r.name, "description": r.description, "examples": list(r.examples)}
        for r in rows
    ]
    return ZeroShot(entries, by_label=by_label)
