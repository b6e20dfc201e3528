"""What the ABSA polarity head sees beyond the classifier's features: a sentiment
lexicon's scores and word n-grams marked for negation.

Three thousand sentences teach few sentiment words; a lexicon rated by people knows
thousands. VADER's lexicon (7,500 words, emoticons and slang rated from -4 to 4;
MIT license) ships inside the ``vaderSentiment`` wheel, so it is read from that
package's folder (the module is never imported: nothing runs, nothing downloads).
Negation is scoped the usual way (Pang et al.; NRC-Canada 2014): the words after a
negator, up to the next punctuation mark or contrast word, are *negated*: their
lexicon scores flip and their n-grams carry a ``_NEG`` mark, so "not good" and "good"
are different features. On SemEval-2014 restaurants (5-fold CV of train, the
benchmark's folds), polarity on gold categories went from 71.8 % to 73.4 % with the
lexicon's scores and to 74.1 % with the negation-marked n-grams beside them
(74.05 % by the benchmark's own protocol, which trains the whole model per fold).

>>> [t for t, negated in tokens("The food was not good, but cheap") if negated]
['good']
>>> scores = lexicon_scores(["great food", "not great food", "food"])
>>> scores[:, :2].tolist()  # positive and negative words
[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
>>> marked("I don't like it.")
"i don't like_NEG it_NEG"
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

__all__ = ["SentimentFeatures", "lexicon", "lexicon_scores", "marked", "tokens"]

LEXICON_PACKAGE, LEXICON_FILE = "vaderSentiment", "vader_lexicon.txt"

NEGATORS = frozenset(
    [
        "not",
        "no",
        "never",
        "none",
        "nothing",
        "nobody",
        "nowhere",
        "neither",
        "nor",
        "without",
        "cannot",
        "hardly",
        "barely",
        "isnt",
        "wasnt",
        "dont",
        "didnt",
        "doesnt",
        "cant",
        "couldnt",
        "wont",
        "wouldnt",
        "shouldnt",
        "arent",
        "werent",
        "aint",
        "havent",
        "hasnt",
        "hadnt",
    ]
)
SCOPE_ENDS = frozenset(".,;:!?") | frozenset(
    ["but", "although", "though", "however", "except", "yet"]
)
"""Where a negation's scope ends: punctuation, or a word that turns the sentence."""

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[!?.,;:]")
_MARKED_PATTERN = r"\S+"
_SCORES = 7
"""Lexicon scores per text: counts, sums and extremes of its positive and negative
words, and its last sentiment word's score."""


@functools.cache
def lexicon() -> dict[str, float]:
    """VADER's word ratings from the installed ``vaderSentiment`` package (empty when
    it is not installed: the scores are then all zero, and the n-grams still learn)."""
    spec = importlib.util.find_spec(LEXICON_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / LEXICON_FILE
    if not path.is_file():
        return {}
    ratings = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            try:
                ratings[parts[0]] = float(parts[1])
            except ValueError:
                continue
    return ratings


def tokens(text: str) -> list[tuple[str, bool]]:
    """Lower-cased words and punctuation, each with whether a negation covers it."""
    out, negated = [], False
    for token in _TOKEN.findall(text.lower()):
        if token in SCOPE_ENDS:
            out.append((token, False))
            negated = False
            continue
        out.append((token, negated))
        if token.replace("'", "") in NEGATORS or token.endswith("n't"):
            negated = True
    return out


def _rating(ratings: dict[str, float], token: str, negated: bool) -> float:
    value = ratings.get(token)
    if value is None:
        value = ratings.get(token.replace("'", ""), 0.0)
    return -value if negated else value


def lexicon_scores(texts: Sequence[str]) -> np.ndarray:
    """Per text: how many positive and negative words, their sums, the highest and
    lowest rating and the last one (negated words flipped), float32."""
    ratings = lexicon()
    out = np.zeros((len(texts), _SCORES), dtype=np.float32)
    for row, text in enumerate(texts):
        values = [_rating(ratings, t, n) for t, n in tokens(text)]
        values = [v for v in values if v]
        if not values:
            continue
        positive = [v for v in values if v > 0]
        negative = [v for v in values if v < 0]
        out[row] = [
            len(positive),
            len(negative),
            sum(positive),
            sum(negative),
            max(values),
            min(values),
            values[-1],
        ]
    return out


def marked(text: str) -> str:
    """The text's words with ``_NEG`` on the negated ones (scope ends dropped, "but"
    kept: it turns the sentence)."""
    return " ".join(
        t + ("_NEG" if negated else "")
        for t, negated in tokens(text)
        if t not in SCOPE_ENDS or t == "but"
    )


class SentimentFeatures:
    """Fitted: the lexicon scores' standardization (scaled to ``weight``) and the
    vocabulary and IDF weights of negation-marked word 1-2-grams."""

    def __init__(self, center: np.ndarray, scale: np.ndarray, vectorizer: TfidfVectorizer | None):
        self.center = np.asarray(center, dtype=np.float32)
        self.scale = np.asarray(scale, dtype=np.float32)
        self.vectorizer = vectorizer

    @property
    def width(self) -> int:
        return len(self.center) + (0 if self.vectorizer is None else len(self.vectorizer.idf_))

    @classmethod
    def fit(
        cls, texts: Sequence[str], weight: float = 0.3
    ) -> tuple[SentimentFeatures, sp.csr_matrix]:
        """Learn from ``texts``; return the features with their matrix. ``weight``: the
        standardized scores' scale (0.3 and 1 scored alike; the smaller one is kinder to
        the optimizer)."""
        scores = lexicon_scores(texts)
        center = scores.mean(axis=0)
        scale = (weight / (scores.std(axis=0) + 1e-6)).astype(np.float32)
        vectorizer = _vectorizer(min_df=2 if len(texts) >= 2_000 else 1)
        try:
            fitted = cls(center, scale, vectorizer.fit([marked(t) for t in texts]))
        except ValueError:  # no words at all (emoji only): the scores alone
            fitted = cls(center, scale, None)
        return fitted, fitted.transform(texts)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        blocks = [sp.csr_matrix((lexicon_scores(texts) - self.center) * self.scale)]
        if self.vectorizer is not None:
            blocks.append(self.vectorizer.transform([marked(t) for t in texts]))
        return sp.hstack(blocks, format="csr", dtype=np.float32)

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
        terms: list[str] = []
        idf = np.zeros(0, dtype=np.float32)
        if self.vectorizer is not None:
            terms = [""] * len(self.vectorizer.vocabulary_)
            for term, column in self.vectorizer.vocabulary_.items():
                terms[column] = term
            idf = np.asarray(self.vectorizer.idf_, dtype=np.float32)
        arrays = {
            "sentiment_center": self.center,
            "sentiment_scale": self.scale,
            "negated_idf": idf,
        }
        return arrays, {"negated_vocabulary": terms}

    @classmethod
    def restore(
        cls, arrays: dict[str, np.ndarray], strings: dict[str, list[str]]
    ) -> SentimentFeatures:
        terms = strings["negated_vocabulary"]
        idf = arrays["negated_idf"]
        if len(terms) != len(idf):
            raise ValueError("the negated n-grams and their IDF weights differ in size")
        vectorizer = None
        if terms:
            vectorizer = _vectorizer(vocabulary={t: i for i, t in enumerate(terms)})
            vectorizer.idf_ = idf.astype(np.float64)
        return cls(arrays["sentiment_center"], arrays["sentiment_scale"], vectorizer)


def _vectorizer(**settings: Any) -> TfidfVectorizer:
    return TfidfVectorizer(
        ngram_range=(1, 2),
        token_pattern=_MARKED_PATTERN,
        lowercase=False,
        sublinear_tf=True,
        dtype=np.float32,
        **settings,
    )
