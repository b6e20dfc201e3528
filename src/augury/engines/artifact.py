"""Model files as data only: JSON and NumPy arrays, never pickle.

A model is a folder of three files:

* ``model.json``: the format's name and version, the model's ``kind``, its
  ``content_hash``, the name, dtype and shape of every array, and ``meta`` (whatever the
  model needs to rebuild itself: settings, names, counts);
* ``vocabulary.json``: lists of strings (vocabularies, category levels, the text of
  gradient-boosted trees);
* ``arrays.npz``: the numbers, read with ``allow_pickle=False``.

Nothing in them is code, so an uploaded model file cannot run anything when it loads:
the worst it can be is wrong, and :meth:`ArtifactFormat.load` checks it is not. The
content hash is a SHA-256 over the canonical JSON of both files and the bytes of every
array in name order, so it does not depend on how a zip was written, and a server can
sign it (and verify the signature) without reading the model.

Each family of models (text, tabular) is an :class:`ArtifactFormat` with its own name,
version and error class, so a text model is never read as a tabular one.

>>> import tempfile
>>> fmt = ArtifactFormat("augury-demo-model", 1, ValueError, "demo")
>>> folder = Path(tempfile.mkdtemp()) / "model"
>>> digest = fmt.save(folder, "demo", {"classes": ["a", "b"]}, {"w": np.eye(2)}, {"v": ["x"]})
>>> loaded = fmt.load(folder, "demo")
>>> loaded.meta["classes"], loaded.arrays["w"].shape, loaded.strings, loaded.content_hash == digest
(['a', 'b'], (2, 2), {'v': ['x']}, True)
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FILE, STRINGS_FILE, ARRAYS_FILE = "model.json", "vocabulary.json", "arrays.npz"
MAX_BYTES = 2 << 30
"""The most array bytes a model may declare: a bigger one is refused before reading."""

_NUMERIC_KINDS = frozenset("biuf")

ErrorFactory = Callable[..., Exception]
"""``error(code, message, details=None)``: the family's error class."""


@dataclass(frozen=True)
class Artifact:
    """A loaded model folder: its kind, meta, arrays and string lists, and hash."""

    kind: str
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]
    strings: dict[str, list[str]]
    content_hash: str


@dataclass(frozen=True)
class ArtifactFormat:
    """One family of model files: ``name`` and ``version`` go into every ``model.json``
    (a reader refuses another name or a newer version), ``error`` is raised with a
    stable code for anything wrong, and ``label`` names the family in messages."""

    name: str
    version: int
    error: ErrorFactory
    label: str

    def save(
        self,
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
            "format": self.name,
            "format_version": self.version,
            "kind": kind,
            "arrays": {
                n: {"dtype": a.dtype.str, "shape": list(a.shape)} for n, a in arrays.items()
            },
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

    def read_header(self, folder: Path | str) -> dict[str, Any]:
        """``model.json`` of a model folder (or the file itself), checked to be a model of
        this family in a format version this reader knows; the arrays are not read."""
        path = Path(folder)
        if path.is_dir():
            path = path / MODEL_FILE
        if not path.is_file():
            raise self.error(
                "MODEL_NOT_FOUND",
                f"No {self.label} model at {path.parent}: {MODEL_FILE} is missing.",
            )
        try:
            header = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise self.error("MODEL_FORMAT", f"{path} is not a {self.label} model: {exc}") from exc
        if not isinstance(header, dict) or header.get("format") != self.name:
            raise self.error("MODEL_FORMAT", f"{path} is not an augury {self.label} model.")
        version = header.get("format_version")
        if not isinstance(version, int) or version > self.version:
            raise self.error(
                "MODEL_FORMAT",
                f"The model is of format version {version}; this augury reads up to "
                f"{self.version}. Upgrade augury to load it.",
                {"format_version": version},
            )
        for key, kind in (("kind", str), ("arrays", dict), ("meta", dict), ("content_hash", str)):
            if not isinstance(header.get(key), kind):
                raise self.error("MODEL_FORMAT", f"{path} has no valid {key!r}.")
        return header

    def load(self, folder: Path | str, kind: str | tuple[str, ...]) -> Artifact:
        """The model in ``folder``, of ``kind`` (or one of several), checked whole: its
        arrays are the declared ones and numeric, and its content hash matches."""
        folder = Path(folder)
        if folder.is_file():
            folder = folder.parent
        header = self.read_header(folder)
        kinds = (kind,) if isinstance(kind, str) else kind
        if header["kind"] not in kinds:
            wanted = " or ".join(map(repr, kinds))
            raise self.error(
                "MODEL_KIND",
                f"This is a {header['kind']!r} model, not {wanted}.",
                {"kind": header["kind"], "expected": list(kinds)},
            )
        specs = self._array_specs(header["arrays"])
        arrays = self._read_arrays(folder / ARRAYS_FILE, specs)
        strings = self._read_strings(folder / STRINGS_FILE)
        expected = {k: v for k, v in header.items() if k != "content_hash"}
        if content_hash(expected, strings, arrays) != header["content_hash"]:
            raise self.error(
                "MODEL_CORRUPT",
                "The model's files do not match its content hash: they were changed or cut "
                "short. Download or train it again.",
            )
        return Artifact(header["kind"], header["meta"], arrays, strings, header["content_hash"])

    def _array_specs(self, declared: dict[str, Any]) -> dict[str, tuple[np.dtype, tuple[int, ...]]]:
        specs, total = {}, 0
        for name, spec in declared.items():
            try:
                dtype = np.dtype(spec["dtype"])
                shape = tuple(int(n) for n in spec["shape"])
            except (TypeError, KeyError, ValueError) as exc:
                raise self.error("MODEL_FORMAT", f"Array {name!r} is badly declared.") from exc
            if dtype.kind not in _NUMERIC_KINDS or any(n < 0 for n in shape):
                raise self.error("MODEL_FORMAT", f"Array {name!r} is not a numeric array.")
            total += dtype.itemsize * int(np.prod(shape, dtype=np.float64))
            specs[name] = (dtype, shape)
        if total > MAX_BYTES:
            raise self.error(
                "MODEL_FORMAT",
                f"The model declares {total:,} bytes of arrays; the limit is {MAX_BYTES:,}.",
            )
        return specs

    def _read_arrays(
        self, path: Path, specs: dict[str, tuple[np.dtype, tuple[int, ...]]]
    ) -> dict[str, np.ndarray]:
        try:
            with np.load(path, allow_pickle=False) as npz:
                if sorted(npz.files) != sorted(specs):
                    raise self.error(
                        "MODEL_CORRUPT", f"{path.name} does not hold the arrays {MODEL_FILE} lists."
                    )
                arrays = {}
                for name, (dtype, shape) in specs.items():
                    a = npz[name]
                    if a.dtype != dtype or a.shape != shape:
                        raise self.error(
                            "MODEL_CORRUPT", f"Array {name!r} is not the {dtype} {shape} declared."
                        )
                    arrays[name] = a
                return arrays
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            if getattr(exc, "code", None) is not None:  # our own error, already worded
                raise
            raise self.error("MODEL_CORRUPT", f"{path.name} cannot be read: {exc}") from exc

    def _read_strings(self, path: Path) -> dict[str, list[str]]:
        try:
            strings = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise self.error("MODEL_CORRUPT", f"{path.name} cannot be read: {exc}") from exc
        if not isinstance(strings, dict) or not all(
            isinstance(v, list) and all(isinstance(s, str) for s in v) for v in strings.values()
        ):
            raise self.error("MODEL_CORRUPT", f"{path.name} is not lists of strings.")
        return strings


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


def _write_atomically(path: Path, write: Any) -> None:
    part = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        with open(part, "wb") as f:
            write(f)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
