"""Sentence embeddings: the mean of wordllama's static token vectors.

wordllama's wheel carries its weights (``l2_supercat_256``: one 256-d vector for each
of the 32,000 tokens of Llama 2's tokenizer, 16 MB), so the model loads from the
package's own folder with downloads disabled: no network, ever. A text's embedding is
the mean of its tokens' vectors, scaled to unit length. Experiments on BANKING77
(benchmarks/text) found plain mean pooling better than IDF or SIF weighting, and
better than mean and max pooling together by less than the noise.

The mean is a sparse matrix (texts x vocabulary, token counts over text lengths) times
the vector table, so a 100,000-character document costs its tokens' count, never a
tokens x 256 array; and the tokenizer is used without padding, which wordllama's own
``embed`` turns on and which would make a batch cost its longest text times its size.
After loading nothing is mutated, so one embedder serves any number of threads.

>>> vectors = embed(["my card has not arrived", "", "🙂"])
>>> vectors.shape, vectors.dtype.name
((3, 256), 'float32')
>>> [round(float(v), 3) for v in (vectors**2).sum(axis=1)]
[1.0, 0.0, 1.0]
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from .model_errors import TextModelError

WORDLLAMA = "wordllama/l2_supercat_256"
"""The name a model's settings record for the built-in embedder."""

_CHUNK_CHARS = 4_000_000
"""Characters tokenized per batch: bounds the token id lists held at once."""

_load_lock = threading.Lock()


class Embedder(Protocol):
    """What the classifiers need of an embedding model.

    ``name`` and ``fingerprint`` are written into a saved model, which refuses to load
    against another embedder: its weights were fitted on these vectors.
    """

    name: str
    dim: int

    @property
    def fingerprint(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class StaticEmbedder:
    """Mean-pooled token vectors, unit length; zero for a text with no tokens."""

    def __init__(self, name: str, vectors: np.ndarray, tokenizer: Any):
        self.name = name
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.dim = int(self.vectors.shape[1])
        self.tokenizer = tokenizer

    @functools.cached_property
    def fingerprint(self) -> str:
        """The first 16 hex digits of the SHA-256 of the vector table."""
        return hashlib.sha256(self.vectors.tobytes()).hexdigest()[:16]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text, float32."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start, stop in _chunks(texts):
            out[start:stop] = self._pool(texts[start:stop])
        return out

    def _pool(self, texts: Sequence[str]) -> np.ndarray:
        encoded = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        ids = [e.ids for e in encoded]
        lengths = np.fromiter((len(i) for i in ids), dtype=np.int64, count=len(ids))
        cols = np.fromiter((t for i in ids for t in i), dtype=np.int64, count=int(lengths.sum()))
        np.clip(cols, 0, len(self.vectors) - 1, out=cols)
        rows = np.repeat(np.arange(len(ids)), lengths)
        counts = sp.csr_matrix(
            (np.ones(len(cols), dtype=np.float32), (rows, cols)),
            shape=(len(ids), len(self.vectors)),
        )
        sums = np.asarray(counts @ self.vectors, dtype=np.float32)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return sums / norms


def _chunks(texts: Sequence[str]) -> list[tuple[int, int]]:
    """Consecutive ranges of ``texts`` of about ``_CHUNK_CHARS`` characters each."""
    bounds, start, size = [], 0, 0
    for i, text in enumerate(texts):
        size += len(text)
        if size >= _CHUNK_CHARS:
            bounds.append((start, i + 1))
            start, size = i + 1, 0
    if start < len(texts):
        bounds.append((start, len(texts)))
    return bounds


@functools.cache
def default_embedder() -> StaticEmbedder:
    """wordllama's built-in model, loaded once per process (~0.3 s)."""
    try:
        import wordllama
        from wordllama import WordLlama

        folder = Path(wordllama.__file__).parent
        with _load_lock:
            model = WordLlama.load(cache_dir=folder, disable_download=True)
            tokenizer = model.tokenizer
            tokenizer.no_padding()
            tokenizer.no_truncation()
    except Exception as exc:  # a broken install is reported, not a traceback
        raise TextModelError(
            "EMBEDDER_UNAVAILABLE", f"The embedding model could not be loaded: {exc}"
        ) from exc
    return StaticEmbedder(WORDLLAMA, model.embedding, tokenizer)


def embed(texts: Sequence[str]) -> np.ndarray | None:
    """Unit-length embeddings of ``texts`` with the built-in model (float32, one row a
    text; zero for a text with no tokens), or None when the model cannot be loaded."""
    try:
        model = default_embedder()
    except TextModelError:
        return None
    return model.embed(texts)
