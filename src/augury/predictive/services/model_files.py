"""A model version's file: written when it trains, downloaded and uploaded as a signed
file, and loaded (once, then cached) for every prediction.

**Files.** A READY version's model folder is zipped into the datasets' blob storage
under ``tabular-models/<org>/<model>/<version id>-<content hash>.zip`` with a ``signature.json``
(:mod:`augury.datasets.signed_files`, the same scheme as text models, with a key of its
own). A download is the stored zip signed afresh with the model's name and version; an
upload is refused (422, ``details.reason``) unless it is a zip of only the expected plain
files (``BAD_MODEL_FILE``), signed by this server (``UNSIGNED``), unchanged since
(``TAMPERED``: the header or the files), and of the model's application
(``WRONG_APPLICATION``). Nothing in it is unpickled: the engine's format is JSON, NumPy
arrays read with ``allow_pickle=False`` and LightGBM's text, checked against its hash.

**Loading** (:func:`engine_model`): from memory (a few per process, most recent
first), else the extracted cache ``<data_dir>/tabular-models/cache/<hash>``, else the
zip (extracted once beside the cache, loaded, renamed into place).
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.config import Settings
from augury.datasets import signed_files
from augury.datasets.storage import storage_for
from augury.errors import Conflict
from augury.predictive.models import ModelVersion, PredictiveModel, VersionStatus
from augury.predictive.services import registry
from augury.predictive.services.applications import require_active

FILE_KIND = signed_files.FileKind(
    format="augury-tabular-model-file",
    format_version=1,
    purpose=b"augury tabular model file signature v1",
    signer_label=b"augury tabular model signer",
)
BLOB_PREFIX = "tabular-models"
MAX_ZIP_BYTES = 1 << 30
"""The largest model file an upload takes."""
MAX_UNCOMPRESSED = 2 << 30
"""The most bytes a model file's members may declare."""
MAX_MEMBERS = 64
KEPT_LOADED = 8
"""Loaded models kept in memory per process."""


def blob_key(org_id: int, model_id: int, version_id: int, digest: str) -> str:
    """Where a version's file lives: one per version, even when two versions hold the
    same model (an upload of a download), so deleting one never takes the other's."""
    return f"{BLOB_PREFIX}/{org_id}/{model_id}/{version_id}-{signed_files.hex_of(digest)}.zip"


MODEL_FILES = frozenset({"model.json", "vocabulary.json", "arrays.npz"})
"""What :class:`~augury.engines.artifact.ArtifactFormat` writes into a model folder."""


def cache_root(settings: Settings) -> Path:
    return Path(settings.data_dir) / BLOB_PREFIX / "cache"


def _member_allowed(name: str) -> bool:
    """``signature.json`` or one of the three files of a model folder: nothing else is
    stored, so nothing else can ride along into later downloads."""
    if name == signed_files.SIGNATURE_FILE:
        return True
    head, _, rest = name.partition("/")
    return head == signed_files.MODEL_DIR and rest in MODEL_FILES


def _check_zip(zf: zipfile.ZipFile) -> None:
    if len(zf.infolist()) > MAX_MEMBERS:
        raise signed_files.bad_file(f"The model file holds more than {MAX_MEMBERS} files.")
    signed_files.check_members(
        zf,
        _member_allowed,
        max_uncompressed=MAX_UNCOMPRESSED,
        described="signature.json and the files of model/",
    )
    if not any(n.startswith(f"{signed_files.MODEL_DIR}/") for n in zf.namelist()):
        raise signed_files.bad_file("The model file has no model/ folder.")


def header_for(model: PredictiveModel, version: ModelVersion) -> dict[str, Any]:
    """What a model file's signed header says of the version."""
    return {
        "content_hash": version.content_hash,
        "application": model.application,
        "task": version.task,
        "target": version.target,
        "features": version.features or [],
        "classes": (version.report or {}).get("classes"),
        "name": model.name,
        "version": version.number,
        "metrics": registry.headline(version.metrics),
        "trained_at": version.finished_at.isoformat() if version.finished_at else None,
    }


def write_file(
    settings: Settings, model: PredictiveModel, version: ModelVersion, folder: Path, dst: Path
) -> None:
    """The saved model ``folder`` zipped to ``dst`` with a header signed by this server."""
    signed_files.write_zip(folder, dst, FILE_KIND.sign(settings, header_for(model, version)))


def download(settings: Settings, model: PredictiveModel, version: ModelVersion, dst: Path) -> Path:
    """The version as a file signed now by this server (its name and number in the
    header): the stored model folder with a fresh ``signature.json``."""
    if version.status != VersionStatus.READY or not version.storage_key:
        raise Conflict(
            f"Version {version.number} is {version.status}: only a READY version can be "
            "downloaded.",
            details={"status": version.status},
        )
    src = storage_for(settings).path(version.storage_key)
    return signed_files.resign(src, dst, FILE_KIND.sign(settings, header_for(model, version)))


def _content_hash(engine: Any) -> str | None:
    """The hash a loaded model's files were checked against."""
    digest = getattr(engine, "content_hash", None) or engine.summary().get("content_hash")
    return digest if isinstance(digest, str) else None


def upload(
    session: Session,
    principal: Principal,
    settings: Settings,
    model: PredictiveModel,
    path: Path,
    *,
    size: int,
) -> ModelVersion:
    """A downloaded model file as a READY version of ``model`` (source ``uploaded``),
    refused (422) unless this server signed it, unchanged, for the model's application
    (see the module's docstring); nothing is written when it is refused."""
    from augury.engines.tabular.automl import ModelError, load

    signed_files.check_size(size, MAX_ZIP_BYTES)
    require_active(session, model.org_id, model.application)
    work = Path(storage_for(settings).staging_file(".tabular-model"))
    key: str | None = None
    try:
        with signed_files.open_zip(path) as zf:
            _check_zip(zf)
            signed = signed_files.read_header(zf, FILE_KIND)
            if not FILE_KIND.verify(settings, signed):
                ours = signed.get("signed_by") == FILE_KIND.signer(settings)
                raise signed_files.bad_file(
                    "The model file was changed since this server signed it."
                    if ours
                    else "The model file was not signed by this server (or it was signed "
                    "with another secret): upload a file this server's download gave, or "
                    "train the model here.",
                    reason="TAMPERED" if ours else "UNSIGNED",
                    signed_by=signed.get("signed_by"),
                )
            if signed.get("application") != model.application:
                raise signed_files.bad_file(
                    f"The model was trained for the {signed.get('application')} application; "
                    f"this model is {model.application}.",
                    reason="WRONG_APPLICATION",
                    application=signed.get("application"),
                )
            folder = work / signed_files.MODEL_DIR
            signed_files.extract_model(zf, folder, MAX_UNCOMPRESSED)
        try:
            engine = load(folder)
        except ModelError as exc:
            raise signed_files.bad_file(
                f"The model file cannot be used: {exc.message}",
                reason="TAMPERED" if exc.code == "MODEL_CORRUPT" else "BAD_MODEL_FILE",
                code=exc.code,
            ) from exc
        digest = _content_hash(engine)
        if not isinstance(digest, str) or digest != signed.get("content_hash"):
            raise signed_files.bad_file(
                "The model's files do not match the content hash it was signed with.",
                reason="TAMPERED",
            )
        summary = engine.summary()
        version = registry.new_version(
            session,
            principal,
            model,
            status=VersionStatus.READY,
            source="uploaded",
            options={
                "uploaded_from": {
                    "name": signed.get("name"),
                    "version": signed.get("version"),
                    "trained_at": signed.get("trained_at"),
                }
            },
            **fields_of(summary),
            content_hash=digest,
            finished_at=clock.now(),
        )
        key = blob_key(model.org_id, model.id, version.id, digest)
        version.size_bytes = storage_for(settings).put(path, key)
        version.storage_key = key
        if model.current_version_id is None:
            model.current_version_id = version.id
        session.flush()
        signed_files.keep_extracted(cache_root(settings), folder, digest)
        loaded.remember(digest, engine)
    except BaseException:
        if key is not None:
            registry.forget_files(settings, [key])
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    audit.record_change(
        session=session,
        principal=principal,
        action="models.version.upload",
        target_type="model_version",
        target_id=version.id,
        after={"model_id": model.id, "number": version.number, "content_hash": digest},
    )
    return version


SUMMARY_COLUMNS = (
    "application",
    "task",
    "target",
    "features",
    "excluded",
    "metrics",
    "training_seconds",
    "content_hash",
)
"""Summary keys with a column of their own; the rest of the summary is the report."""


def fields_of(summary: dict[str, Any]) -> dict[str, Any]:
    """A version's columns from the engine's ``summary()``: task, target, features,
    excluded, metrics, training seconds, and the rest as the report."""
    return {
        "task": summary.get("task"),
        "target": summary.get("target") or "",
        "features": list(summary.get("features") or []),
        "excluded": list(summary.get("excluded") or []),
        "metrics": dict(summary.get("metrics") or {}),
        "training_seconds": summary.get("training_seconds"),
        "report": {k: v for k, v in summary.items() if k not in SUMMARY_COLUMNS},
    }


# --- loading for prediction ----------------------------------------------------------------

loaded = signed_files.LoadedModels(KEPT_LOADED)
"""The engine models this process keeps loaded, by content hash."""


def engine_model(settings: Settings | None, version: ModelVersion) -> Any:
    """The engine's ``TabularModel`` of a READY version: from memory, else the extracted
    cache, else its zip (extracted once, checked, renamed into the cache). 409 for a
    version that is not READY."""
    from augury.engines.tabular.automl import ModelError, load

    digest = version.content_hash
    if version.status != VersionStatus.READY or not digest or not version.storage_key:
        raise Conflict(
            f"Version {version.number} is {version.status}: only a READY version can predict.",
            details={"reason": "NOT_READY", "status": version.status, "number": version.number},
        )
    cached = loaded.get(digest)
    if cached is not None:
        return cached
    settings = settings or Settings()
    try:
        engine = signed_files.load_cached(
            cache_root(settings) / signed_files.hex_of(digest),
            storage_for(settings).path(version.storage_key),
            check=_check_zip,
            load=load,
            max_npz_bytes=MAX_UNCOMPRESSED,
        )
    except ModelError as exc:
        raise Conflict(
            f"The stored model cannot be loaded ({exc.message}): train or upload it again.",
            details={"reason": exc.code, "number": version.number},
        ) from exc
    loaded.remember(digest, engine)
    return engine
