"""Saving and loading text models as data only: JSON and NumPy arrays, never pickle.

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

import hashlib
import json
import os
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .model_errors import TextModelError

FORMAT = "augury-text-model"
FORMAT_VERSION = 1
"""Raised when a change makes older readers misread a model; a reader refuses newer."""

MODEL_FILE, STRINGS_FILE, ARRAYS_FILE = "model.json", "vocabulary.json", "arrays.npz"
MAX_BYTES = 2 << 30
"""The most array bytes a model may declare: a bigger one is refused before reading."""

_NUMERIC_KINDS = frozenset("biuf")


@dataclass(frozen=True)
class Artifact:
    """A loaded model folder: its kind, meta, arrays and string lists, and hash."""

    kind: str
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]
    strings: dict[str, list[str]]
    content_hash: str


def save(
    folder: Path | str,
    kind: str,
    meta: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
    strings: Mapping[str, list[str]] | None = None,
) -> str:
    """Write a model into ``folder`` (created; its files replaced) and return its
    content hash (``sha256:<hex>``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
    for name, a in arrays.items():
        if a.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"array {name!r} is {a.dtype}: only numbers and booleans are saved")
    strings = {name: list(values) for name, values in (strings or {}).items()}
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "arrays": {n: {"dtype": a.dtype.str, "shape": list(a.shape)} for n, a in arrays.items()},
        "meta": dict(meta),
    }
    digest = content_hash(header, strings, arrays)
    named: dict[str, Any] = arrays
    _write_atomically(folder / ARRAYS_FILE, lambda f: np.savez_compressed(f, **named))
    _write_atomically(folder / STRINGS_FILE, lambda f: f.write(_canonical(strings)))
    model = {**header, "content_hash": digest}
    text = json.dumps(model, ensure_ascii=False, indent=1, allow_nan=False).encode()
    _write_atomically(folder / MODEL_FILE, lambda f: f.write(text))
    return digest


def read_header(folder: Path | str) -> dict[str, Any]:
    """``model.json`` of a model folder (or the file itself), checked to be a text
    model of a format this version reads; the arrays are not read."""
    path = Path(folder)
    if path.is_dir():
        path = path / MODEL_FILE
    if not path.is_file():
        raise TextModelError(
            "MODEL_NOT_FOUND", f"No text model at {path.parent}: {MODEL_FILE} is missing."
        )
    try:
        header = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TextModelError("MODEL_FORMAT", f"{path} is not a text model: {exc}") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise TextModelError("MODEL_FORMAT", f"{path} is not an augury text model.")
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise TextModelError(
            "MODEL_FORMAT",
            f"The model is of format version {version}; this augury reads up to "
            f"{FORMAT_VERSION}. Upgrade augury to load it.",
            {"format_version": version},
        )
    for key, kind in (("kind", str), ("arrays", dict), ("meta", dict), ("content_hash", str)):
        if not isinstance(header.get(key), kind):
            raise TextModelError("MODEL_FORMAT", f"{path} has no valid {key!r}.")
    return header


def load(folder: Path | str, kind: str | tuple[str, ...]) -> Artifact:
    """The model in ``folder``, of ``kind`` (or one of several), checked whole: its
    arrays are the declared ones and numeric, and its content hash matches."""
    folder = Path(folder)
    if folder.is_file():
        folder = folder.parent
    header = read_header(folder)
    kinds = (kind,) if isinstance(kind, str) else kind
    if header["kind"] not in kinds:
        wanted = " or ".join(map(repr, kinds))
        raise TextModelError(
            "MODEL_KIND",
            f"This is a {header['kind']!r} model, not {wanted}.",
            {"kind": header["kind"], "expected": list(kinds)},
        )
    specs = _array_specs(header["arrays"])
    arrays = _read_arrays(folder / ARRAYS_FILE, specs)
    strings = _read_strings(folder / STRINGS_FILE)
    expected = {k: v for k, v in header.items() if k != "content_hash"}
    if content_hash(expected, strings, arrays) != header["content_hash"]:
        raise TextModelError(
            "MODEL_CORRUPT",
            "The model's files do not match its content hash: they were changed or cut "
            "short. Download or train it again.",
        )
    return Artifact(header["kind"], header["meta"], arrays, strings, header["content_hash"])


def content_hash(
    header: Mapping[str, Any], strings: Mapping[str, list[str]], arrays: Mapping[str, np.ndarray]
) -> str:
    """``sha256:<hex>`` over the header and strings as canonical JSON and each array's
    name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    h.update(_canonical(header))
    h.update(_canonical(strings))
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(_canonical([name, a.dtype.str, list(a.shape)]))
        h.update(a.tobytes())
    return "sha256:" + h.hexdigest()


def _canonical(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def _array_specs(declared: dict[str, Any]) -> dict[str, tuple[np.dtype, tuple[int, ...]]]:
    specs, total = {}, 0
    for name, spec in declared.items():
        try:
            dtype = np.dtype(spec["dtype"])
            shape = tuple(int(n) for n in spec["shape"])
        except (TypeError, KeyError, ValueError) as exc:
            raise TextModelError("MODEL_FORMAT", f"Array {name!r} is badly declared.") from exc
        if dtype.kind not in _NUMERIC_KINDS or any(n < 0 for n in shape):
            raise TextModelError("MODEL_FORMAT", f"Array {name!r} is not a numeric array.")
        total += dtype.itemsize * int(np.prod(shape, dtype=np.float64))
        specs[name] = (dtype, shape)
    if total > MAX_BYTES:
        raise TextModelError(
            "MODEL_FORMAT",
            f"The model declares {total:,} bytes of arrays; the limit is {MAX_BYTES:,}.",
        )
    return specs


def _read_arrays(
    path: Path, specs: dict[str, tuple[np.dtype, tuple[int, ...]]]
) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            if sorted(npz.files) != sorted(specs):
                raise TextModelError(
                    "MODEL_CORRUPT", f"{path.name} does not hold the arrays {MODEL_FILE} lists."
                )
            arrays = {}
            for name, (dtype, shape) in specs.items():
                a = npz[name]
                if a.dtype != dtype or a.shape != shape:
                    raise TextModelError(
                        "MODEL_CORRUPT", f"Array {name!r} is not the {dtype} {shape} declared."
                    )
                arrays[name] = a
            return arrays
    except TextModelError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise TextModelError("MODEL_CORRUPT", f"{path.name} cannot be read: {exc}") from exc


def _read_strings(path: Path) -> dict[str, list[str]]:
    try:
        strings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TextModelError("MODEL_CORRUPT", f"{path.name} cannot be read: {exc}") from exc
    if not isinstance(strings, dict) or not all(
        isinstance(v, list) and all(isinstance(s, str) for s in v) for v in strings.values()
    ):
        raise TextModelError("MODEL_CORRUPT", f"{path.name} is not lists of strings.")
    return strings


def _write_atomically(path: Path, write: Any) -> None:
    part = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        with open(part, "wb") as f:
            write(f)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
