"""Retrieval over passages: BM25 and vector similarity, fused by reciprocal rank.

Two views of a question find different passages. **BM25** (Robertson & Zaragoza, 2009)
finds the ones that share its rare words (a product name, an error code, "refund");
**cosine similarity** of embeddings (the built-in wordllama vectors, or a local model's)
finds the ones that say the same in other words ("money back"). Each alone misses what
the other finds, so both rank the passages and **reciprocal rank fusion** (Cormack,
Clarke & Büttcher, SIGIR 2009) merges the rankings: a passage scores
``sum(1 / (60 + rank))`` over the lists that rank it (rank 1, 2, ...). ``k = 60`` is the
paper's constant: it flattens the head of each list so that one list's first place
does not drown the other's second, and needs no calibration between BM25 scores (0 to
any) and cosines (-1 to 1), which is why fusion by rank beats fusion by score when
the two scales differ this much. Without vectors (``None``) retrieval is lexical only.

BM25 is written here instead of taken from a library (rank-bm25, bm25s, a search
engine): it is forty lines over a sparse matrix, a library would be one more
dependency for that, and the part that decides quality is the tokenization, which
we control: case folded, accents stripped ("café" finds "cafe"), a short stopword list
(the words that carry no topic), and a light suffix stemmer ("refunds", "refunded",
"refunding" -> "refund") that is safe across the languages augury's users write in
(no language-specific dictionary). Parameters are the usual ``k1 = 1.2``, ``b = 0.75``,
with Lucene's non-negative IDF. The weight of every (passage, term) is computed when
the index is built, so a question costs one sparse column sum.

:meth:`Index.confidence` says how sure we are that the best passage answers the
question, in [0, 1]: a logistic function of the best hit's cosine and of how much of
the question's content words (weighted by IDF) that passage holds. Its coefficients were
fitted on ``make bench-chat`` with cross-validation over topics (docs/benchmarks.md,
"Chat retrieval"); a use case's ``min_confidence`` is compared with it.

>>> index = Index.build(
...     ["Refunds are paid back to the card within 5 days.",
...      "Our shop opens at 9 and closes at 18.",
...      "Parcels are shipped by post and arrive in 3 days."],
...     titles=["Refunds", "Opening hours", "Shipping"],
... )
>>> [h.index for h in index.search("when do I get my refund?", None)]
[0]
>>> index.search("what time does the shop open", None)[0].index
1
>>> question = "when is the shop opening"
>>> index.confidence(question, index.search(question, None)) > 0.5
True
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = [
    "RRF_K",
    "Hit",
    "Index",
    "decode",
    "encode",
    "terms",
]

RRF_K = 60
"""Reciprocal rank fusion's constant (Cormack et al. 2009): a passage's fused score is
``sum(1 / (RRF_K + rank))`` over the rankings that hold it."""
DEPTH = 100
"""How deep each ranking goes into the fusion: passages below it in both are not hits."""
K1, B = 1.2, 0.75
"""BM25's term-frequency saturation and length normalisation (the usual values)."""

CONFIDENCE = {"semantic": 3.5, "coverage": 1.43, "bias": -3.03}
"""Confidence with vectors: ``sigmoid(semantic * cosine + coverage * coverage + bias)``,
a logistic regression fitted by ``make bench-chat`` (leave-one-topic-out held-out ROC
AUC 0.76, calibration error 0.07): a best hit with cosine 0.8 holding all the
question's words scores 0.77, one with cosine 0.5 holding half of them 0.36, an
off-topic question (cosine 0.1, no word) 0.06."""
CONFIDENCE_LEXICAL = {"coverage": 2.31, "bias": -2.07}
"""Confidence without vectors: ``sigmoid(coverage * coverage + bias)``, fitted the same
way (held-out ROC AUC 0.69): all the question's words 0.56, none 0.11."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS = _words(
    "a an the and or but if then than so of to in on at by for with from into about as "
    "is are was were be been being am do does did done have has had having i me my mine we "
    "us our you your yours he him his she her it its they them their this that these those "
    "there here what which who whom whose when where why how can could would should will "
    "shall may might must not no nor too very just also any some all each every other "
    "such own same more most only up down out over under again once please hi hello thanks "
    "thank yes ok okay get got tell know want need like let "
    "el la los las un una unos unas y o de del en con por para que es son al se lo le "
    "les une des et ou du au aux est sont ce cette pour par dans sur qui "
    "der die das den dem des ein eine und oder ist sind mit von zu im am für auf"
)
"""Words that say nothing about a topic: English, and the commonest of Spanish, French and
German (question words are in: "how long" finds passages by "long", not by "how")."""

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _fold(text: str) -> str:
    """Case folded, accents stripped (NFKD, combining marks dropped)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _stem(word: str) -> str:
    """A light suffix stemmer: plurals, -ing, -ed, -ly and a final -e (Harman's S-stemmer,
    extended), so that a verb's forms meet: "close", "closed", "closing" are one term."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith(("ches", "shes", "xes", "zes")) and len(word) > 5:
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith("thing"):  # "something", "nothing": no verb inside
            break
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # "shipped" -> "shipp" -> "ship"
            break
    else:
        if word.endswith("ly") and len(word) > 5:
            word = word[:-2]
    if len(word) > 4 and word.endswith("e") and not word.endswith("ee"):
        word = word[:-1]  # "close", "closes", "closed", "closing" -> "clos"
    return word


def terms(text: str) -> list[str]:
    """The BM25 terms of ``text``: folded, stopwords out, stemmed.

    >>> terms("The Cafés were refunding 2 orders!")
    ['cafe', 'refund', '2', 'order']
    """
    return [_stem(w) for w in _WORD.findall(_fold(text)) if w not in _STOPWORDS]


@dataclass(frozen=True, slots=True)
class Hit:
    """A passage found: its ``index`` in the texts given to :meth:`Index.build`, its
    fused ``score``, its BM25 score (``lexical``, 0 when it shares no term), its cosine
    (``semantic``, None without vectors) and its ``rank`` (1 is the best)."""

    index: int
    score: float
    lexical: float
    semantic: float | None
    rank: int


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class Index:
    """BM25 over passages' titles and texts, and their unit-length vectors (optional).

    Build it with :meth:`build`; it is not changed after, so threads may share it.
    """

    def __init__(
        self,
        weights: sp.csc_matrix,
        vocabulary: dict[str, int],
        idf: np.ndarray,
        doc_terms: list[frozenset[str]],
        vectors: np.ndarray | None,
    ):
        self.weights = weights
        self.vocabulary = vocabulary
        self.idf = idf
        self.doc_terms = doc_terms
        self.vectors = vectors

    def __len__(self) -> int:
        return len(self.doc_terms)

    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        titles: Sequence[str] | None = None,
        vectors: np.ndarray | None = None,
    ) -> Index:
        """The index of ``texts`` (a title, where given, is searched with its text) and
        their ``vectors``: an (n, d) float32 array of unit rows, or None."""
        n = len(texts)
        if titles is not None and len(titles) != n:
            raise ValueError(f"{len(titles)} titles for {n} texts")
        if vectors is not None:
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            if vectors.ndim != 2 or vectors.shape[0] != n:
                raise ValueError(f"vectors must be an ({n}, d) array, not {vectors.shape}")
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        counts: list[int] = []
        lengths = np.zeros(n, dtype=np.float64)
        doc_terms: list[frozenset[str]] = []
        for i, text in enumerate(texts):
            words = terms(f"{titles[i]}\n{text}" if titles and titles[i] else text)
            lengths[i] = len(words)
            bag = Counter(words)
            doc_terms.append(frozenset(bag))
            for word, c in bag.items():
                rows.append(i)
                cols.append(vocabulary.setdefault(word, len(vocabulary)))
                counts.append(c)
        v = len(vocabulary)
        tf = sp.csr_matrix((np.asarray(counts, dtype=np.float64), (rows, cols)), shape=(n, v))
        df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=v).astype(np.float64)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        avgdl = float(lengths.mean()) if n and lengths.mean() > 0 else 1.0
        norm = K1 * (1.0 - B + B * lengths / avgdl)
        data = tf.data
        row_of = np.repeat(np.arange(n), np.diff(tf.indptr))
        weighted = data * (K1 + 1.0) / (data + norm[row_of]) * idf[tf.indices]
        weights = sp.csr_matrix((weighted, tf.indices, tf.indptr), shape=(n, v)).tocsc()
        return cls(weights, vocabulary, idf, doc_terms, vectors)

    def lexical_scores(self, query: str) -> np.ndarray:
        """BM25 of every passage for ``query`` (0 where no term is shared)."""
        ids = [self.vocabulary[t] for t in terms(query) if t in self.vocabulary]
        if not ids or not len(self):
            return np.zeros(len(self))
        return np.asarray(self.weights[:, ids].sum(axis=1)).ravel()

    def semantic_scores(self, query_vector: np.ndarray | None) -> np.ndarray | None:
        """Cosine of every passage with ``query_vector`` (unit length), or None."""
        if self.vectors is None or query_vector is None or not len(self):
            return None
        q = np.asarray(query_vector, dtype=np.float32).ravel()
        if q.shape[0] != self.vectors.shape[1] or not np.any(q):
            return None
        return self.vectors @ q

    def search(self, query: str, query_vector: np.ndarray | None = None, k: int = 5) -> list[Hit]:
        """The ``k`` best passages for ``query``, fused (see the module); lexical only
        without vectors, where a passage that shares no term with the query is no hit."""
        if not len(self) or k <= 0:
            return []
        lexical = self.lexical_scores(query)
        semantic = self.semantic_scores(query_vector)
        fused = np.zeros(len(self))
        depth = min(DEPTH, len(self))
        lex_order = np.argsort(-lexical, kind="stable")[:depth]
        lex_order = lex_order[lexical[lex_order] > 0]
        fused[lex_order] += 1.0 / (RRF_K + np.arange(1, len(lex_order) + 1))
        if semantic is not None:
            sem_order = np.argsort(-semantic, kind="stable")[:depth]
            fused[sem_order] += 1.0 / (RRF_K + np.arange(1, len(sem_order) + 1))
        order = np.argsort(-fused, kind="stable")
        order = order[fused[order] > 0][:k]
        return [
            Hit(
                index=int(i),
                score=float(fused[i]),
                lexical=float(lexical[i]),
                semantic=None if semantic is None else float(semantic[i]),
                rank=r,
            )
            for r, i in enumerate(order, start=1)
        ]

    def coverage(self, query: str, index: int) -> float:
        """The share of ``query``'s content terms, weighted by IDF, that passage
        ``index`` holds (0 to 1; a term no passage holds weighs as the rarest)."""
        words = set(terms(query))
        if not words:
            return 0.0
        top = float(self.idf.max()) if len(self.idf) else 1.0
        held = self.doc_terms[index]
        total = got = 0.0
        for word in words:
            j = self.vocabulary.get(word)
            w = float(self.idf[j]) if j is not None else top
            total += w
            if word in held:
                got += w
        return got / total if total else 0.0

    def confidence(self, query: str, hits: Sequence[Hit]) -> float:
        """How sure we are that the best of ``hits`` answers ``query``, in [0, 1] (see
        the module): 0 without hits."""
        if not hits:
            return 0.0
        best = hits[0]
        cover = self.coverage(query, best.index)
        if best.semantic is not None:
            c = CONFIDENCE
            x = c["semantic"] * best.semantic + c["coverage"] * cover + c["bias"]
        else:
            c = CONFIDENCE_LEXICAL
            x = c["coverage"] * cover + c["bias"]
        return round(_sigmoid(x), 4)


def encode(vectors: np.ndarray) -> bytes:
    """Vectors as bytes for storage: float32, little-endian, row after row.

    >>> decode(encode(np.array([1.0, 0.5])), 2)
    array([[1. , 0.5]], dtype=float32)
    """
    return np.ascontiguousarray(vectors, dtype="<f4").tobytes()


def decode(data: bytes, dim: int) -> np.ndarray:
    """The (n, ``dim``) float32 array that :func:`encode` wrote."""
    if dim <= 0 or len(data) % (4 * dim):
        raise ValueError(f"{len(data)} bytes are not rows of {dim} float32 values")
    return np.frombuffer(data, dtype="<f4").reshape(-1, dim).astype(np.float32)
