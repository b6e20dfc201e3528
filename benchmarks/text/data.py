"""The benchmark's data: BANKING77's and SemEval-2014 restaurants' training files in
``../shared/data`` (their test splits are held out: never read here), and the splits
of them the benchmark evaluates on."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
BANKING = DATA / "banking77" / "train.csv"
SEMEVAL = DATA / "semeval14-restaurants" / "Restaurants_Train_v2.xml"
POLARITY = {"positive": "POS", "negative": "NEG", "neutral": "NEU", "conflict": "CONFLICT"}
"""SemEval's polarity names as augury's ABSA projects spell them."""


def banking(path: Path = BANKING) -> tuple[list[str], list[str]]:
    """BANKING77 train: 10,003 texts and their intents (read with a CSV parser: 10 texts
    hold newlines)."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def semeval(path: Path = SEMEVAL) -> list[dict[str, Any]]:
    """SemEval-2014 restaurants train: 3,041 records ``{"text", "aspects"}``, each
    sentence's categories once (two sentences list one twice, with the same polarity)."""
    records = []
    for sentence in ET.parse(path).getroot().iter("sentence"):
        aspects: dict[str, str] = {}
        for a in sentence.iter("aspectCategory"):
            aspects.setdefault(a.get("category", ""), POLARITY[a.get("polarity", "")])
        records.append(
            {
                "text": sentence.findtext("text") or "",
                "aspects": [{"category": c, "polarity": p} for c, p in aspects.items()],
            }
        )
    return records


def stratified_folds(labels: list[str], k: int, seed: int = 0) -> list[np.ndarray]:
    """``k`` disjoint index sets, each class spread evenly over them (shuffled)."""
    rng = np.random.default_rng(seed)
    by_class: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_class[label].append(i)
    folds: list[list[int]] = [[] for _ in range(k)]
    offset = 0
    for label in sorted(by_class):
        members = rng.permutation(by_class[label])
        for j, i in enumerate(members):
            folds[(offset + j) % k].append(int(i))
        offset += len(members)
    return [np.array(sorted(f)) for f in folds]


def shuffled_folds(n: int, k: int, seed: int = 0) -> list[np.ndarray]:
    """``k`` disjoint index sets of ``range(n)`` after a shuffle."""
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(order[j::k]) for j in range(k)]


def few_shot(labels: list[str], per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` random examples of every class to train on, and the rest."""
    rng = np.random.default_rng(seed)
    by_class: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_class[label].append(i)
    picks = [rng.choice(by_class[c], per_class, replace=False) for c in sorted(by_class)]
    chosen = np.sort(np.concatenate(picks))
    rest = np.setdiff1d(np.arange(len(labels)), chosen)
    return chosen, rest
