"""Zero-shot classification: before any label, from the classes' names, descriptions
and examples.

Each class becomes one prototype vector in the embedding space (:mod:`.embed`): the
mean of the unit embeddings of its name (``card_arrival`` read as "card arrival"), its
description and its examples taken together, each of the three that is given counting
once. A text's confidences are a softmax over its cosine similarities to the
prototypes, sharpened by ``temperature`` (the similarities of averaged static vectors
lie close together). On BANKING77's training texts, the 77 intent names alone put the
right one first for 54 % of the texts (chance: 1.3 %); the temperature was chosen
there too, as the one that makes the confidences most likely (lowest log loss).

:class:`ZeroShotModel` has the trained model's ``classes``, ``predict_proba`` and
``predict``, so the server can use either where it pre-tags or analyzes.

>>> classes = [
...     {"name": "delivery", "description": "the parcel or order is late or lost"},
...     {"name": "billing", "description": "charges, invoices, refunds and payments",
...      "examples": ["I was charged twice"]},
... ]
>>> ranked = zero_shot(classes, ["my order never arrived", "why is there an extra fee"])
>>> [r[0].name for r in ranked]
['delivery', 'billing']
>>> round(sum(c for _, c in ranked[0]), 6)
1.0
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from .classify import Prediction
from .embed import Embedder, default_embedder
from .model_errors import TextModelError

__all__ = ["TEMPERATURE", "Ranked", "ZeroShotModel", "zero_shot"]

TEMPERATURE = 0.07
"""Softmax temperature over cosine similarities (the log-loss optimum on BANKING77)."""


class Ranked(NamedTuple):
    """A class and its zero-shot confidence for one text."""

    name: str
    confidence: float


class ZeroShotModel:
    """Class prototypes, ready to score texts."""

    multi_label = False

    def __init__(
        self,
        classes: Sequence[Mapping[str, Any]],
        *,
        embedder: Embedder | None = None,
        temperature: float = TEMPERATURE,
    ):
        self.classes = _names(classes)
        self.embedder = embedder or default_embedder()
        self.temperature = temperature
        self.prototypes = np.vstack([self._prototype(c) for c in classes])

    def _prototype(self, entry: Mapping[str, Any]) -> np.ndarray:
        parts = [_humanize(str(entry["name"]))]
        description = entry.get("description")
        if isinstance(description, str) and description.strip():
            parts.append(description)
        vectors = self.embedder.embed(parts)
        examples = [e for e in entry.get("examples") or [] if isinstance(e, str) and e.strip()]
        if examples:
            vectors = np.vstack([vectors, self.embedder.embed(examples).mean(axis=0)])
        return _unit(vectors.mean(axis=0))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Confidences, one row per text (summing to 1), one column per class."""
        if isinstance(texts, str):
            raise TypeError("texts is a list of strings, not one string")
        vectors = self.embedder.embed(["" if t is None else str(t) for t in texts])
        similarity = vectors.astype(np.float64) @ self.prototypes.T
        z = similarity / self.temperature
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """The most similar class of each text, with its confidence."""
        out = []
        for row in self.predict_proba(texts):
            top = int(np.argmax(row))
            out.append(Prediction(self.classes[top], float(row[top]), (self.classes[top],)))
        return out

    def rank(self, texts: Sequence[str]) -> list[list[Ranked]]:
        """Every class for each text, most likely first."""
        proba = self.predict_proba(texts)
        order = np.argsort(-proba, axis=1, kind="stable")
        return [
            [Ranked(self.classes[j], float(row[j])) for j in idx]
            for row, idx in zip(proba, order, strict=True)
        ]


def zero_shot(
    classes: Sequence[Mapping[str, Any]],
    texts: Sequence[str],
    *,
    embedder: Embedder | None = None,
    temperature: float = TEMPERATURE,
) -> list[list[Ranked]]:
    """For each text, every class as ``(name, confidence)``, most likely first.

    ``classes`` are ``{"name", "description", "examples"}`` (description and examples
    optional); names must be distinct and not blank.
    """
    return ZeroShotModel(classes, embedder=embedder, temperature=temperature).rank(texts)


def _names(classes: Sequence[Mapping[str, Any]]) -> list[str]:
    names = []
    for entry in classes:
        name = entry.get("name") if isinstance(entry, Mapping) else None
        if not isinstance(name, str) or not name.strip():
            raise TextModelError(
                "BAD_CLASSES",
                "Every class needs a name (with a description and examples).",
            )
        names.append(name)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise TextModelError(
            "BAD_CLASSES",
            f"Class names must differ: {', '.join(map(repr, repeated))} repeat.",
            {"repeated": repeated},
        )
    if len(names) < 2:
        raise TextModelError(
            "TOO_FEW_CLASSES",
            "Zero-shot needs at least two classes to choose between.",
            {"classes": names},
        )
    return names


def _humanize(name: str) -> str:
    """``card_arrival``, ``cardArrival`` and ``card-arrival`` as "card arrival"."""
    name = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    return re.sub(r"[_\-/.]+", " ", name).strip() or name


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v
