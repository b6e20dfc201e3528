"""The models that tag text for the rest of the domain: correction sessions pre-tag with
them, analyses read with them.

A :class:`Predictor` turns texts into tags by class and label id, whatever is behind
it: zero-shot from the classes' (or labels') names, descriptions and examples in an
embedding space (:class:`ZeroShot`), or a trained model version. :func:`predictor_for`
picks one for a project.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from augury.errors import NotFound, ServiceUnavailable, ValidationFailed
from augury.text.models import ProjectType, TextClass, TextLabel, TextProject


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


def predictor_for(session: Session, project: TextProject, model_id: int | None) -> Predictor:
    """The model that pre-tags: ``model_id`` (a trained model, with the text models
    issue) or, for None, zero-shot from the classes (labels for a LABEL project)."""
    if model_id is not None:
        raise NotFound(
            "Model not found: this server has no trained text models yet; leave model_id "
            "out to pre-tag zero-shot from the classes' descriptions and examples."
        )
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
