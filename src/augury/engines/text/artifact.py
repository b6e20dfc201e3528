"""Saving and loading text models as data only: JSON and NumPy arrays, never pickle
(the text family of :mod:`augury.engines.artifact`).

A model is a folder of three files:

* ``model.json``: the format's name and version, the model's ``kind``, its
  ``content_hash``, the name, dtype and shape of every array, and ``meta`` (class names,
  feature settings, the embedder's name and fingerprint, training counts);
* ``vocabulary.json``: lists of strings (the n-gram vocabularies);
* ``arrays.npz``: the numbers, read with ``allow_pickle=False``.

Nothing in them is code, so an uploaded model file cannot run anything when it loads:
the worst it can be is wrong, and :func:`load` checks it is not. The content hash is a
SHA-256 over the canonical JSON of both files and the bytes of every array in name
order, so it does not depend on how the zip was written and the server can sign it
(and verify the signature) without reading the model.

>>> import tempfile
>>> from pathlib import Path
>>> import numpy as np
>>> folder = Path(tempfile.mkdtemp()) / "model"
>>> digest = save(folder, "demo", {"classes": ["a", "b"]}, {"w": np.eye(2)}, {"v": ["x"]})
>>> loaded = load(folder, "demo")
>>> loaded.meta["classes"], loaded.arrays["w"].shape, loaded.strings, loaded.content_hash == digest
(['a', 'b'], (2, 2), {'v': ['x']}, True)
>>> load(folder, "absa")
Traceback (most recent call last):
...
augury.engines.text.model_errors.TextModelError: This is a 'demo' model, not 'absa'.
"""

from __future__ import annotations

from ..artifact import (
    ARRAYS_FILE,
    MAX_BYTES,
    MODEL_FILE,
    STRINGS_FILE,
    Artifact,
    ArtifactFormat,
    content_hash,
)
from .model_errors import TextModelError

FORMAT = "augury-text-model"
FORMAT_VERSION = 1
"""Raised when a change makes older readers misread a model; a reader refuses newer."""

_FORMAT = ArtifactFormat(FORMAT, FORMAT_VERSION, TextModelError, "text")
save = _FORMAT.save
read_header = _FORMAT.read_header
load = _FORMAT.load

__all__ = [
    "ARRAYS_FILE",
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_BYTES",
    "MODEL_FILE",
    "STRINGS_FILE",
    "Artifact",
    "content_hash",
    "load",
    "read_header",
    "save",
]
