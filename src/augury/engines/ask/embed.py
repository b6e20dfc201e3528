"""Word embeddings for the words no rule links: wordllama's small static model.

The model ships inside the ``wordllama`` package (256 dimensions, ~30 MB), so it is
loaded from the package's own folder with downloads disabled: no network, ever. It is
loaded once per process, on the first question that needs it (~0.3 s), and embeds a
handful of words in well under a millisecond.

>>> vectors = embed(["temperature", "temp max"])
>>> vectors is None or vectors.shape == (2, 256)
True
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any

import numpy as np

_lock = threading.Lock()


@functools.cache
def _model() -> Any:
    try:
        import wordllama
        from wordllama import WordLlama

        folder = Path(wordllama.__file__).parent
        with _lock:
            return WordLlama.load(cache_dir=folder, disable_download=True)
    except Exception:  # a broken install degrades to no fuzzy matching, never an error
        return None


def embed(texts: list[str]) -> np.ndarray | None:
    """Unit-length embeddings of ``texts`` (one row each), or None without the model."""
    model = _model()
    if model is None or not texts:
        return None
    vectors = np.asarray(model.embed(texts), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms
