"""Model files that this server signs and takes back: the zip checks, the signature and
the extracted cache that text models and predictive models share.

A model file is a zip of ``signature.json`` (a header: format, content hash, what the
model predicts, who signed it and an HMAC-SHA256 over all of that with a key derived
from the server's secret, one key per kind of file) and the model's folder ``model/``.
An upload is bounded (:func:`check_size`), opened (:func:`open_zip`) and read with
:func:`check_members` first (only the expected plain files, within a declared-size
bound: nothing is extracted before), then :func:`read_header` and
:meth:`FileKind.verify`; :func:`extract_model` writes ``model/`` by name and the
engine's loader then checks the files against the content hash they declare. Nothing
in such a file is ever unpickled.

Extracted models are cached under ``<data_dir>/<kind>/cache/<content hash>``: unzipped
beside it under a temporary name and renamed into place (:func:`load_cached`,
:func:`place`), so two workers extracting at once never see half a folder and the cache
survives restarts. Loaded models are kept in memory per process
(:class:`LoadedModels`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import stat
import threading
import uuid
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from augury.config import Settings
from augury.errors import PayloadTooLarge, ValidationFailed

SIGNATURE_FILE = "signature.json"
MODEL_DIR = "model"
MAX_SIGNATURE_BYTES = 1 << 20


@dataclass(frozen=True)
class FileKind:
    """One kind of signed file: its ``format`` name and version, the HKDF purpose of its
    key, and the message the signer's fingerprint is an HMAC of."""

    format: str
    format_version: int
    purpose: bytes
    signer_label: bytes

    def key(self, settings: Settings) -> bytes:
        return settings.derived_key(self.purpose)

    def signer(self, settings: Settings) -> str:
        """Who signs this server's files: a fingerprint of its key, not the key."""
        tag = hmac.new(self.key(settings), self.signer_label, hashlib.sha256).digest()
        return "augury:" + base64.b32encode(tag[:10]).decode().lower()

    def sign(self, settings: Settings, header: dict[str, Any]) -> dict[str, Any]:
        """``header`` with ``format``, ``format_version``, ``signed_by`` and its
        ``signature``."""
        signed = {
            "format": self.format,
            "format_version": self.format_version,
            **{
                k: v
                for k, v in header.items()
                if k not in ("signature", "format", "format_version")
            },
            "signed_by": self.signer(settings),
        }
        signed["signature"] = hmac.new(
            self.key(settings), canonical(signed), hashlib.sha256
        ).hexdigest()
        return signed

    def verify(self, settings: Settings, signed: dict[str, Any]) -> bool:
        """Whether this server's key signed ``signed`` as it is."""
        claimed = signed.get("signature")
        body = {k: v for k, v in signed.items() if k != "signature"}
        expected = hmac.new(self.key(settings), canonical(body), hashlib.sha256).hexdigest()
        return isinstance(claimed, str) and hmac.compare_digest(claimed, expected)


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def bad_file(message: str, reason: str = "BAD_MODEL_FILE", **details: Any) -> ValidationFailed:
    return ValidationFailed(message, details={"reason": reason, **details})


def check_size(size: int, max_bytes: int) -> None:
    """413 for an upload larger than ``max_bytes``, before anything reads it."""
    if size > max_bytes:
        raise PayloadTooLarge(
            f"The model file is larger than {max_bytes:,} bytes.",
            details={"max_bytes": max_bytes},
        )


def open_zip(path: Path) -> zipfile.ZipFile:
    """The uploaded file as a zip (422 BAD_MODEL_FILE when it is none)."""
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise bad_file("The file is not a zip of a model (download one first).") from exc


def check_members(
    zf: zipfile.ZipFile,
    allowed: Callable[[str], bool],
    *,
    max_uncompressed: int,
    required: tuple[str, ...] = (SIGNATURE_FILE,),
    described: str = "",
) -> None:
    """Every member ``allowed`` and a plain file, their declared sizes within
    ``max_uncompressed``, the ``required`` ones present; else 422 BAD_MODEL_FILE."""
    total = 0
    for info in zf.infolist():
        if not allowed(info.filename):
            also = f" (it holds only {described})" if described else ""
            raise bad_file(
                f"The model file holds {info.filename!r}, which is not part of a model{also}.",
                member=info.filename[:300],
            )
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode) or info.is_dir():
            raise bad_file(f"{info.filename} in the model file is not a plain file.")
        total += info.file_size
    if total > max_uncompressed:
        raise bad_file(
            f"The model file unpacks to {total:,} bytes; the limit is {max_uncompressed:,}."
        )
    missing = sorted(set(required) - set(zf.namelist()))
    if missing:
        raise bad_file(f"The model file lacks {', '.join(missing)}.", missing=missing)


def read_header(zf: zipfile.ZipFile, kind: FileKind) -> dict[str, Any]:
    """The file's ``signature.json`` (422 when it is not JSON or not of ``kind``)."""
    if zf.getinfo(SIGNATURE_FILE).file_size > MAX_SIGNATURE_BYTES:
        raise bad_file("The model file's signature.json is too large.")
    try:
        signed = json.loads(zf.read(SIGNATURE_FILE))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise bad_file("The model file's signature.json is not JSON.") from exc
    if not isinstance(signed, dict) or signed.get("format") != kind.format:
        raise bad_file("This is not a model file augury wrote (signature.json).")
    return signed


def check_npz(path: Path, max_bytes: int) -> None:
    """A NumPy ``.npz`` is itself a zip: its members are bounded too, before NumPy reads."""
    try:
        with zipfile.ZipFile(path) as npz:
            total = sum(i.file_size for i in npz.infolist())
    except zipfile.BadZipFile as exc:
        raise bad_file("The model's arrays cannot be read.") from exc
    if total > max_bytes:
        raise bad_file(f"The model's arrays unpack to {total:,} bytes, over the limit.")


def extract_model(zf: zipfile.ZipFile, folder: Path, max_npz_bytes: int) -> None:
    """The files of ``model/`` into ``folder``, each written by name (never a path the
    zip chooses), its ``.npz`` arrays bounded before NumPy reads them. Call it after
    :func:`check_members`, which allows only plain names under ``model/``."""
    folder.mkdir(parents=True)
    for info in zf.infolist():
        if not info.filename.startswith(f"{MODEL_DIR}/"):
            continue
        dst = folder / Path(info.filename).name
        with zf.open(info) as fin, open(dst, "wb") as fout:
            shutil.copyfileobj(fin, fout)
        if dst.suffix == ".npz":
            check_npz(dst, max_npz_bytes)


def _header(signed: dict[str, Any]) -> tuple[zipfile.ZipInfo, str]:
    """``signature.json``'s entry, dated 1980-01-01 (a name alone is dated now, so two
    downloads of one model a second apart differed in bytes)."""
    info = zipfile.ZipInfo(SIGNATURE_FILE, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info, json.dumps(signed, ensure_ascii=False, indent=1)


def write_zip(folder: Path, dst: Path, signed: dict[str, Any]) -> None:
    """``signed`` as ``signature.json`` and the files of ``folder`` under ``model/``."""
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(*_header(signed))
        for path in sorted(folder.iterdir()):
            zf.write(path, f"{MODEL_DIR}/{path.name}")


def resign(src: Path, dst: Path, signed: dict[str, Any]) -> Path:
    """A copy of the model file ``src`` with ``signed`` as its header."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        zout.writestr(*_header(signed))
        for info in zin.infolist():
            if info.filename != SIGNATURE_FILE:
                zout.writestr(info, zin.read(info.filename))
    return dst


def hex_of(digest: str) -> str:
    return digest.removeprefix("sha256:")


def place(staged: Path, final: Path) -> None:
    """Rename a finished folder into place; another's copy already there wins."""
    try:
        os.rename(staged, final)
    except OSError:
        if not final.is_dir():
            raise
        shutil.rmtree(staged, ignore_errors=True)


def keep_extracted(cache_root: Path, folder: Path, digest: str) -> None:
    """Copy a freshly saved model folder into the cache (a rename; another's copy wins)."""
    final = cache_root / hex_of(digest)
    if final.is_dir():
        return
    final.parent.mkdir(parents=True, exist_ok=True)
    staged = final.with_name(f".{final.name}.{uuid.uuid4().hex}")
    shutil.copytree(folder, staged)
    place(staged, final)


def staged_beside(final: Path) -> Path:
    """A fresh temporary name next to ``final``, for extracting into it."""
    final.parent.mkdir(parents=True, exist_ok=True)
    return final.with_name(f".{final.name}.{uuid.uuid4().hex}")


def load_cached(
    final: Path,
    src: Path,
    *,
    check: Callable[[zipfile.ZipFile], None],
    load: Callable[[Path], Any],
    max_npz_bytes: int,
    matches: Callable[[Any], bool] = lambda _engine: True,
) -> Any:
    """The model extracted at ``final``; when it is not there yet, the stored zip ``src``
    (``check``-ed, unzipped beside ``final``, loaded) renamed into place, unless the
    loaded model does not ``match`` what ``final`` names (then it is not cached)."""
    if final.is_dir():
        return load(final)
    staged = staged_beside(final)
    try:
        with zipfile.ZipFile(src) as zf:
            check(zf)
            extract_model(zf, staged, max_npz_bytes)
        engine = load(staged)
        if matches(engine):
            place(staged, final)
        return engine
    finally:
        shutil.rmtree(staged, ignore_errors=True)


class LoadedModels:
    """The engine models a process keeps loaded, by content hash: the ``keep`` most
    recently used, so a busy model is not read from disk for every prediction."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._models: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str) -> Any | None:
        with self._lock:
            if digest not in self._models:
                return None
            self._models.move_to_end(digest)
            return self._models[digest]

    def remember(self, digest: str, engine: Any) -> None:
        with self._lock:
            self._models[digest] = engine
            self._models.move_to_end(digest)
            while len(self._models) > self.keep:
                self._models.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()
