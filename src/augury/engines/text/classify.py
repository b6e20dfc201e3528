"""Trained text classifiers: one class per text, or any number of labels.

:func:`train` fits a linear head on :mod:`.features` (word and character n-gram TF-IDF
beside the sentence embedding): a multinomial logistic regression for one class per
text, one binary logistic regression per label for multi-label. Logistic regression
because its probabilities are calibrated well enough to be shown as confidences and
thresholded for a review queue, and because it fits BANKING77's 10,003 texts in well
under the two minutes the issue allows on two cores. The regularization ``c`` was
chosen by cross-validation on BANKING77's training file (benchmarks/text).

With few examples per class (BANKING77 at 10 an intent), two things a large training
set does not need help: each class's name, read as words (``card_arrival`` as "card
arrival"), joins its examples, as it is what zero-shot classifies by; and the sentence
embedding weighs twice as much as with many examples, as the n-grams of ten texts
generalize less than their meaning. Each gained about 1 point at 10-shot (78.6 % to
80.3 % together, mean of 3 samplings); the heavier embedding cost 0.8 points with all
the data, so it fades out between 10 and 50 examples a class.

A multi-label model keeps a threshold per label, chosen on cross-validated
probabilities to maximize that label's F1 (between 0.25 and 0.75: on SemEval-2014
the best lay in 0.3-0.5 and the F1 moved by 0.2 points across it); when every
training text had at least one label, a text gets at least its most likely one.

A model predicts with NumPy alone (its weights times the features, then softmax or
sigmoid), and saves to a folder of JSON and arrays (:mod:`.artifact`), never pickle.

>>> texts = ["my card has not arrived", "when will my card come", "card still not here",
...          "I want a refund", "give me my money back", "refund my purchase"]
>>> model = train(texts, ["card", "card", "card", "refund", "refund", "refund"])
>>> model.classes
['card', 'refund']
>>> [p.label for p in model.predict(["where is my new card", "money back please"])]
['card', 'refund']
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from . import artifact
from .embed import Embedder, default_embedder
from .features import Features, FeatureSettings
from .model_errors import TextModelError

__all__ = [
    "KIND",
    "Prediction",
    "TextModel",
    "TrainSettings",
    "evaluate",
    "load",
    "train",
]

KIND = "text-classifier"
Progress = Callable[[float, str], None]
"""``progress(fraction_done, what)``; a job's abort is an exception raised from it."""
_TUNE_MIN = 20
"""Texts with (and without) a label needed to tune its threshold."""
_BATCH = 2_000
"""Texts transformed at once when predicting: bounds the feature matrix held."""


@dataclass(frozen=True)
class TrainSettings:
    """How a model is trained; ``c`` is the head's inverse L2 strength, ``folds`` the
    cross-validation folds that choose a multi-label model's thresholds.

    ``max_parameters`` bounds a single-label head's weights (classes x features) by
    shrinking the vocabularies: L-BFGS keeps 20 copies of them, so 77 classes and
    37,000 features (BANKING77) already peak at 1.1 GB; the bound keeps a model of
    many classes on a large corpus within about 1.5 GB.

    A single-label model learns from its class names too when ``class_names`` is set,
    and its embedding block weighs ``few_shot_embedding_weight`` with 10 examples a
    class or fewer (the median class's count), ``features.embedding_weight`` with 50
    or more, and in between on a log scale.
    """

    features: FeatureSettings = field(default_factory=FeatureSettings)
    c: float = 30.0
    max_iter: int = 300
    tol: float = 1e-4
    folds: int = 3
    max_parameters: int = 8_000_000
    class_names: bool = True
    few_shot_embedding_weight: float = 2.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "c": self.c,
            "max_iter": self.max_iter,
            "tol": self.tol,
            "folds": self.folds,
            "max_parameters": self.max_parameters,
            "class_names": self.class_names,
            "few_shot_embedding_weight": self.few_shot_embedding_weight,
        }


class Prediction(NamedTuple):
    """One text's prediction: the most likely class and its probability; ``labels``
    are a multi-label model's labels over their thresholds, most likely first (a
    single-label model's: just ``label``)."""

    label: str
    confidence: float
    labels: tuple[str, ...]


class TextModel:
    """A fitted classifier: ``classes``, ``predict_proba``, ``predict``, ``save``."""

    def __init__(
        self,
        features: Features,
        classes: list[str],
        coef: np.ndarray,
        intercept: np.ndarray,
        *,
        multi_label: bool,
        thresholds: np.ndarray | None = None,
        at_least_one: bool = True,
        info: dict[str, Any] | None = None,
        content_hash: str | None = None,
    ):
        self.features = features
        self.classes = classes
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.multi_label = multi_label
        self.thresholds = (
            np.asarray(thresholds, dtype=np.float32)
            if thresholds is not None
            else np.full(len(classes), 0.5, dtype=np.float32)
        )
        self.at_least_one = at_least_one
        self.info = info or {}
        self.content_hash = content_hash

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities, one row per text and one column per class (in ``classes``):
        rows sum to 1 for a single-label model; each is its own for multi-label."""
        texts = _as_texts(texts)
        out = np.empty((len(texts), len(self.classes)), dtype=np.float64)
        for start in range(0, len(texts), _BATCH):
            chunk = texts[start : start + _BATCH]
            out[start : start + len(chunk)] = self.scores_to_proba(self.decision(chunk))
        return out

    def decision(self, texts: Sequence[str]) -> np.ndarray:
        """The head's raw scores (logits) of ``texts``."""
        X = self.features.transform(texts)
        return np.asarray(X @ self.coef.T, dtype=np.float64) + self.intercept

    def scores_to_proba(self, scores: np.ndarray) -> np.ndarray:
        if self.multi_label:
            return sigmoid(scores)
        return softmax(scores)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """The class (and for multi-label, the labels) of each text with confidences."""
        return self.decide(self.predict_proba(texts))

    def decide(self, proba: np.ndarray) -> list[Prediction]:
        """Predictions from probabilities this model gave."""
        out = []
        classes = self.classes
        for row in proba:
            order = np.argsort(-row, kind="stable")
            top = int(order[0])
            if self.multi_label:
                labels = tuple(classes[i] for i in order if row[i] >= self.thresholds[i])
                if not labels and self.at_least_one:
                    labels = (classes[top],)
            else:
                labels = (classes[top],)
            out.append(Prediction(classes[top], float(row[top]), labels))
        return out

    def save(self, folder: Path | str) -> str:
        """Write the model into ``folder``; returns its content hash."""
        meta, arrays, strings = self.state()
        self.content_hash = artifact.save(folder, KIND, meta, arrays, strings)
        return self.content_hash

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, list[str]]]:
        """Meta, arrays and strings of the model (for :mod:`.artifact`, or to nest it in
        another model's files under a prefix)."""
        fmeta, farrays, strings = self.features.state()
        meta = {
            "classes": list(self.classes),
            "multi_label": self.multi_label,
            "at_least_one": self.at_least_one,
            "features": fmeta,
            "info": self.info,
        }
        arrays = {
            **farrays,
            "coef": self.coef,
            "intercept": self.intercept,
            "thresholds": self.thresholds,
        }
        return meta, arrays, strings

    @classmethod
    def restore(
        cls,
        meta: dict[str, Any],
        arrays: dict[str, np.ndarray],
        strings: dict[str, list[str]],
        embedder: Embedder | None = None,
        content_hash: str | None = None,
    ) -> TextModel:
        try:
            features = Features.restore(meta["features"], arrays, strings, embedder)
            classes = [str(c) for c in meta["classes"]]
            model = cls(
                features,
                classes,
                arrays["coef"],
                arrays["intercept"],
                multi_label=bool(meta["multi_label"]),
                thresholds=arrays["thresholds"],
                at_least_one=bool(meta.get("at_least_one", True)),
                info=dict(meta.get("info") or {}),
                content_hash=content_hash,
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, TextModelError):
                raise
            raise TextModelError(
                "MODEL_FORMAT", f"The model's files are incomplete: {exc}"
            ) from exc
        k = len(classes)
        if model.coef.shape != (k, features.width) or model.intercept.shape != (k,):
            raise TextModelError("MODEL_CORRUPT", "The model's weights do not fit its classes.")
        return model


def load(folder: Path | str, embedder: Embedder | None = None) -> TextModel:
    """The classifier saved in ``folder`` (checked: its kind, format and content hash)."""
    saved = artifact.load(folder, KIND)
    return TextModel.restore(saved.meta, saved.arrays, saved.strings, embedder, saved.content_hash)


def train(
    texts: Sequence[str],
    targets: Sequence[str] | Sequence[Sequence[str]],
    *,
    multi_label: bool = False,
    settings: TrainSettings | None = None,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> TextModel:
    """Fit a classifier on ``texts`` and their ``targets``: a class name per text, or
    for ``multi_label`` a list of label names per text (possibly empty).

    Texts that are empty or blank teach nothing and are left out (counted in
    ``model.info["dropped_empty"]``); so are, for single-label, texts with no class.
    Raises :class:`TextModelError` when fewer than two classes have examples.
    """
    settings = settings or TrainSettings()
    report = progress or (lambda fraction, what: None)
    started = time.perf_counter()
    texts, label_sets, dropped = _clean(texts, targets, multi_label)
    classes = sorted({label for labels in label_sets for label in labels})
    if len(classes) < 2:
        raise TextModelError(
            "TOO_FEW_CLASSES",
            f"Training needs examples of at least two classes; found {len(classes)}"
            + (f" ({classes[0]!r})" if classes else "")
            + ". Label more texts.",
            {"classes": classes},
        )
    report(0.0, "features")
    if settings.features.use_embeddings and embedder is None:
        embedder = default_embedder()
    index = {c: i for i, c in enumerate(classes)}
    if multi_label:
        fsettings = settings.features
    else:
        y = np.array([index[labels[0]] for labels in label_sets])
        fsettings = _few_shot(_bounded(settings, len(classes)), settings, np.bincount(y))
    features, X = Features.fit(texts, fsettings, embedder)
    if not multi_label and settings.class_names:
        X = sp.vstack([X, features.transform([_readable(c) for c in classes])], format="csr")
        y = np.concatenate([y, np.arange(len(classes))])
    report(0.2, "fitting")
    if multi_label:
        Y = np.zeros((len(texts), len(classes)), dtype=bool)
        for row, labels in enumerate(label_sets):
            Y[row, [index[label] for label in labels]] = True
        coef, intercept = fit_binary(X, Y, settings, report, 0.2, 0.6)
        thresholds = choose_thresholds(X, Y, settings, report, 0.8, 0.2)
        at_least_one = bool(Y.any(axis=1).all())
        counts = {c: int(n) for c, n in zip(classes, Y.sum(axis=0), strict=True)}
    else:
        coef, intercept = _fit_multinomial(X, y, len(classes), settings)
        thresholds, at_least_one = None, True
        counts = {classes[i]: int(n) for i, n in sorted(Counter(y[: len(texts)].tolist()).items())}
    info = {
        "examples": len(texts),
        "dropped_empty": dropped,
        "class_counts": counts,
        "train_seconds": round(time.perf_counter() - started, 3),
        "settings": settings.to_dict(),
    }
    report(1.0, "done")
    return TextModel(
        features,
        classes,
        coef,
        intercept,
        multi_label=multi_label,
        thresholds=thresholds,
        at_least_one=at_least_one,
        info=info,
    )


def _bounded(settings: TrainSettings, k: int) -> FeatureSettings:
    """The feature settings with vocabularies small enough for ``k`` classes' weights
    to stay within ``max_parameters``."""
    per_vocabulary = max(1_000, settings.max_parameters // (2 * k))
    if per_vocabulary < settings.features.max_features:
        return replace(settings.features, max_features=per_vocabulary)
    return settings.features


def _few_shot(
    features: FeatureSettings, settings: TrainSettings, counts: np.ndarray
) -> FeatureSettings:
    """``features`` with the embedding weight for this many examples a class: the
    few-shot weight at 10 or fewer, the usual one at 50 or more, log-interpolated."""
    share = math.log(50 / max(float(np.median(counts)), 1.0)) / math.log(5)
    share = min(max(share, 0.0), 1.0)
    if share == 0.0:
        return features
    low, high = features.embedding_weight, settings.few_shot_embedding_weight
    return replace(features, embedding_weight=low + share * (high - low))


def _readable(name: str) -> str:
    """A class name as words: ``card_arrival`` and ``cardArrival`` as "card arrival"."""
    name = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    return re.sub(r"[_\-/.]+", " ", name).strip() or name


def _clean(
    texts: Sequence[str], targets: Sequence[Any], multi_label: bool
) -> tuple[list[str], list[list[str]], int]:
    if len(texts) != len(targets):
        raise TextModelError(
            "BAD_TARGETS", f"{len(texts)} texts but {len(targets)} targets: give one per text."
        )
    kept_texts, kept_labels, dropped = [], [], 0
    for text, target in zip(texts, targets, strict=True):
        labels = _labels(target, multi_label)
        if not isinstance(text, str) or not text.strip() or (not multi_label and not labels):
            dropped += 1
            continue
        kept_texts.append(text)
        kept_labels.append(labels)
    if not kept_texts:
        raise TextModelError("NO_TEXT", "There is no labeled text to train on.")
    return kept_texts, kept_labels, dropped


def _labels(target: Any, multi_label: bool) -> list[str]:
    if target is None:
        return []
    if multi_label:
        if isinstance(target, str) or not isinstance(target, Sequence | set | frozenset):
            raise TextModelError(
                "BAD_TARGETS", "A multi-label target is a list of label names per text."
            )
        return sorted({str(t) for t in target if t is not None and str(t).strip()})
    if isinstance(target, str):
        return [target] if target.strip() else []
    if isinstance(target, Sequence | set | frozenset):
        raise TextModelError(
            "BAD_TARGETS",
            "A single-label target is one class name per text; for lists "
            "of labels train with multi_label=True.",
        )
    return [str(target)]


def _fit_multinomial(
    X: sp.csr_matrix, y: np.ndarray, k: int, settings: TrainSettings
) -> tuple[np.ndarray, np.ndarray]:
    head = LogisticRegression(C=settings.c, max_iter=settings.max_iter, tol=settings.tol)
    head.fit(X, y)
    if k == 2:  # sklearn keeps one row for two classes: softmax of (-z/2, z/2) is sigmoid(z)
        coef = np.vstack([-head.coef_[0], head.coef_[0]]) / 2
        return coef, np.array([-head.intercept_[0], head.intercept_[0]]) / 2
    return head.coef_, head.intercept_


def fit_binary(
    X: sp.csr_matrix,
    Y: np.ndarray,
    settings: TrainSettings,
    report: Progress,
    start: float,
    span: float,
) -> tuple[np.ndarray, np.ndarray]:
    """One logistic regression per label; a label on every text (or none) gets a
    constant, the log-odds of its smoothed rate."""
    k = Y.shape[1]
    coef = np.zeros((k, X.shape[1]), dtype=np.float32)
    intercept = np.zeros(k, dtype=np.float32)
    for j in range(k):
        column = Y[:, j]
        if column.all() or not column.any():
            rate = (column.sum() + 0.5) / (len(column) + 1)
            intercept[j] = math.log(rate / (1 - rate))
        else:
            head = LogisticRegression(C=settings.c, max_iter=settings.max_iter, tol=settings.tol)
            head.fit(X, column)
            coef[j], intercept[j] = head.coef_[0], head.intercept_[0]
        report(start + span * (j + 1) / k, "fitting")
    return coef, intercept


def choose_thresholds(
    X: sp.csr_matrix,
    Y: np.ndarray,
    settings: TrainSettings,
    report: Progress,
    start: float,
    span: float,
) -> np.ndarray:
    """Per label, the probability cut that maximizes its F1 on cross-validated
    probabilities, between 0.25 and 0.75; 0.5 for a label with fewer than
    ``_TUNE_MIN`` texts with it or without it, whose F1 would be mostly noise."""
    n, k = Y.shape
    folds = min(settings.folds, n)
    thresholds = np.full(k, 0.5, dtype=np.float32)
    if folds < 2:
        return thresholds
    order = np.random.default_rng(0).permutation(n)
    fold_of = np.empty(n, dtype=int)
    fold_of[order] = np.arange(n) % folds
    proba = np.zeros((n, k))
    for f in range(folds):
        held = fold_of == f
        coef, intercept = fit_binary(X[~held], Y[~held], settings, lambda *_: None, 0, 0)
        proba[held] = sigmoid(np.asarray(X[held] @ coef.T) + intercept)
        report(start + span * (f + 1) / folds, "choosing thresholds")
    grid = np.round(np.arange(0.25, 0.76, 0.05), 2)
    for j in range(k):
        if min(Y[:, j].sum(), (~Y[:, j]).sum()) < max(_TUNE_MIN, folds):
            continue
        scores = [_f1(proba[:, j] >= t, Y[:, j]) for t in grid]
        best = max(scores)
        ties = [t for t, s in zip(grid, scores, strict=True) if s == best]
        thresholds[j] = min(ties, key=lambda t: abs(t - 0.5))
    return thresholds


def _f1(predicted: np.ndarray, truth: np.ndarray) -> float:
    tp = int((predicted & truth).sum())
    denominator = int(predicted.sum() + truth.sum())
    return 2 * tp / denominator if denominator else 1.0


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _as_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("texts is a list of strings, not one string")
    return ["" if t is None else str(t) for t in texts]


def evaluate(
    model: TextModel,
    texts: Sequence[str],
    targets: Sequence[str] | Sequence[Sequence[str]],
    *,
    worst: int = 10,
) -> dict[str, Any]:
    """How ``model`` does on held-out ``texts``: a JSON-able report.

    ``accuracy`` (single-label: share of texts whose class is right; multi-label: share
    whose label set is exactly right), ``micro_f1``, ``macro_f1``, ``per_class``
    (precision, recall, F1, support), ``confusion`` (single-label: rows are the true
    class, columns the predicted, in ``classes`` order; multi-label: per label
    ``tp``/``fp``/``fn``), and ``worst``: the texts it got most wrong (lowest
    probability of the truth), for a person to read. Targets naming a class the model
    does not know count as wrong.
    """
    texts = _as_texts(texts)
    if len(texts) != len(targets):
        raise TextModelError("BAD_TARGETS", f"{len(texts)} texts but {len(targets)} targets.")
    if not texts:
        raise TextModelError("NO_TEXT", "There is no text to evaluate on.")
    proba = model.predict_proba(texts)
    predictions = model.decide(proba)
    classes = model.classes
    index = {c: i for i, c in enumerate(classes)}
    truth = [_labels(t, model.multi_label) for t in targets]
    tp, fp, fn = Counter[str](), Counter[str](), Counter[str]()
    exact = 0
    for p, labels in zip(predictions, truth, strict=True):
        predicted, true = set(p.labels), set(labels)
        exact += predicted == true
        for c in predicted & true:
            tp[c] += 1
        for c in predicted - true:
            fp[c] += 1
        for c in true - predicted:
            fn[c] += 1
    names = sorted(set(classes) | {c for labels in truth for c in labels}, key=str)
    per_class = {}
    for c in names:
        precision = tp[c] / (tp[c] + fp[c]) if tp[c] + fp[c] else 0.0
        recall = tp[c] / (tp[c] + fn[c]) if tp[c] + fn[c] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp[c] + fn[c],
        }
    total_tp, total_fp, total_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    micro = 2 * total_tp / (2 * total_tp + total_fp + total_fn) if total_tp else 0.0
    supported = [v["f1"] for v in per_class.values() if v["support"]]
    report: dict[str, Any] = {
        "n": len(texts),
        "classes": classes,
        "accuracy": round(exact / len(texts), 4),
        "micro_f1": round(micro, 4),
        "macro_f1": round(float(np.mean(supported)), 4) if supported else 0.0,
        "per_class": per_class,
    }
    if model.multi_label:
        report["confusion"] = {c: {"tp": tp[c], "fp": fp[c], "fn": fn[c]} for c in classes}
    else:
        matrix = np.zeros((len(classes), len(classes)), dtype=int)
        for p, labels in zip(predictions, truth, strict=True):
            if labels and labels[0] in index:
                matrix[index[labels[0]], index[p.label]] += 1
        report["confusion"] = matrix.tolist()
    report["worst"] = _worst(texts, truth, proba, predictions, index, worst)
    return report


def _worst(
    texts: list[str],
    truth: list[list[str]],
    proba: np.ndarray,
    predictions: list[Prediction],
    index: dict[str, int],
    n: int,
) -> list[dict[str, Any]]:
    wrong = []
    for row, (labels, p) in enumerate(zip(truth, predictions, strict=True)):
        if set(labels) == set(p.labels):
            continue
        known = [proba[row, index[c]] for c in labels if c in index]
        wrong.append((min(known) if known else 0.0, row))
    wrong.sort()
    return [
        {
            "index": row,
            "text": texts[row],
            "truth": truth[row],
            "predicted": list(predictions[row].labels),
            "confidence": round(predictions[row].confidence, 4),
            "truth_probability": round(float(score), 4),
        }
        for score, row in wrong[:n]
    ]
