"""The peer the issue names: TF-IDF of word and character n-grams and a logistic
regression (scikit-learn, no embeddings), the standard strong baseline for short-text
classification.

Its settings are the usual ones (word 1-2-grams, character 2-5-grams within word
boundaries, sublinear TF, L2-normalized rows) with C = 30, the better of 10 and 30 on
an 80/20 split of BANKING77 train. For SemEval, categories are one binary model each
with the usual 0.5 threshold, and the polarity of a pair is predicted from the text
"<category> || <sentence>", the usual way to give a single-text classifier the pair.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

C = 30.0


class TfidfLogReg:
    """``fit(texts, labels)``, ``predict(texts)``, ``predict_proba(texts)``."""

    def __init__(self, c: float = C):
        self.c = c
        self.word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        self.char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
        self.head = LogisticRegression(C=c, max_iter=1000)

    def _features(self, texts: list[str], fit: bool = False) -> sp.csr_matrix:
        if fit:
            return sp.hstack(
                [self.word.fit_transform(texts), self.char.fit_transform(texts)], format="csr"
            )
        return sp.hstack([self.word.transform(texts), self.char.transform(texts)], format="csr")

    def fit(self, texts: list[str], labels: list[Any]) -> TfidfLogReg:
        self.head.fit(self._features(texts, fit=True), labels)
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.head.predict_proba(self._features(texts))

    def predict(self, texts: list[str]) -> np.ndarray:
        return self.head.classes_[self.predict_proba(texts).argmax(axis=1)]


def absa_peer(
    train: list[dict[str, Any]], test: list[dict[str, Any]], c: float = 10.0
) -> dict[str, Any]:
    """The peer's category micro-F1 and polarity accuracy on gold categories."""
    categories = sorted({a["category"] for r in train for a in r["aspects"]})
    texts = [r["text"] for r in train]
    test_texts = [r["text"] for r in test]
    word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    X = sp.hstack([word.fit_transform(texts), char.fit_transform(texts)], format="csr")
    Xt = sp.hstack([word.transform(test_texts), char.transform(test_texts)], format="csr")
    tp = fp = fn = 0
    for c_name in categories:
        y = np.array([any(a["category"] == c_name for a in r["aspects"]) for r in train])
        truth = np.array([any(a["category"] == c_name for a in r["aspects"]) for r in test])
        guess = LogisticRegression(C=c, max_iter=1000).fit(X, y).predict(Xt).astype(bool)
        tp, fp, fn = (
            tp + int((guess & truth).sum()),
            fp + int((guess & ~truth).sum()),
            fn + int((~guess & truth).sum()),
        )

    def pairs(records: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
        joined = [f"{a['category']} || {r['text']}" for r in records for a in r["aspects"]]
        return joined, [a["polarity"] for r in records for a in r["aspects"]]

    pair_texts, polarities = pairs(train)
    test_pairs, test_polarities = pairs(test)
    model = TfidfLogReg(c).fit(pair_texts, polarities)
    right = int((model.predict(test_pairs) == np.array(test_polarities)).sum())
    return {"tp": tp, "fp": fp, "fn": fn, "right": right, "pairs": len(test_polarities)}
