"""Which sentence-embedding model a text project's models are trained and read with.

The built-in one (wordllama; ``None`` here, which the engines read as their default)
unless the project names a local model: a folder directly inside one of the
directories the server's administrator allows (``AUGURY_TEXT__MODEL_DIRS``). A project
stores the folder's name, never a path, and a name with a slash or ``..`` is refused,
so no request (nor an uploaded model file naming its embedder) makes the server read
outside those directories.

A trained model keeps the embedder it was trained with: its name and fingerprint are in
the model's files, so changing the project's embedding model changes only the models
trained from then on. Reading a model whose local embedder is no longer on the server
is 503 (put it back); one whose files changed since it trained is 409 (train again).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from augury.config import Settings
from augury.engines.text.embed import Embedder
from augury.engines.text.model_errors import TextModelError
from augury.errors import AuguryError, Conflict, ServiceUnavailable, ValidationFailed
from augury.text.models import TextProject

FIELD = "embedding_model"
"""The key of ``TextProject.settings`` that holds the folder's name."""
LOCAL_PREFIX = "local:"
"""How a local model's embedder names itself (``local:<folder>``) inside a saved model."""
MAX_NAME = 200


def model_dirs(settings: Settings | None) -> list[Path]:
    """The directories whose folders projects may use, as configured."""
    return [] if settings is None else list(settings.text.model_dirs)


def _folders(settings: Settings | None) -> Iterator[Path]:
    """Every visible folder of the allowed directories; a name in two directories is
    the first one's."""
    seen: set[str] = set()
    for directory in model_dirs(settings):
        try:
            entries = sorted(directory.iterdir())
        except OSError:  # a directory that is gone or unreadable offers nothing
            continue
        for entry in entries:
            if entry.name.startswith(".") or entry.name in seen or not entry.is_dir():
                continue
            seen.add(entry.name)
            yield entry


def available(settings: Settings | None) -> list[dict[str, Any]]:
    """The local models a project may choose: ``{"name", "layout", "dim"}`` for each
    folder that holds one augury can load (``dim`` null when no file states it)."""
    from augury.engines.text.local_embed import inspect_local

    found = []
    for folder in _folders(settings):
        try:
            info = inspect_local(folder)
        except TextModelError:
            continue
        found.append({"name": folder.name, "layout": info.layout, "dim": info.dim})
    return found


def _names(settings: Settings | None) -> list[str]:
    return [m["name"] for m in available(settings)]


def _safe(name: str) -> bool:
    return bool(
        name
        and len(name) <= MAX_NAME
        and not name.startswith(".")
        and ".." not in name
        and not any(c in name for c in "/\\\0")
    )


def check_name(settings: Settings | None, name: str) -> str:
    """``name`` if it is a loadable model folder of an allowed directory; else 422
    saying which names are available."""
    folder = _find(settings, name)
    if folder is None:
        names = _names(settings)
        if not model_dirs(settings):
            why = "this server allows no local embedding models (AUGURY_TEXT__MODEL_DIRS)"
        else:
            why = "available: " + (", ".join(names) if names else "none")
        raise ValidationFailed(
            f"There is no local embedding model named {name!r}; {why}. Leave it null for "
            "the built-in model.",
            details={"reason": "UNKNOWN_EMBEDDING_MODEL", "name": name, "available": names},
        )
    from augury.engines.text.local_embed import inspect_local

    try:
        inspect_local(folder)
    except TextModelError as exc:
        raise ValidationFailed(
            f"The embedding model {name!r} cannot be used: {exc.message}",
            details={"reason": exc.code, "name": name},
        ) from exc
    return name


def _find(settings: Settings | None, name: str) -> Path | None:
    """The folder called ``name`` directly inside an allowed directory (the first that
    has one), or None; an unsafe name is never looked up."""
    if not _safe(name):
        return None
    for directory in model_dirs(settings):
        folder = directory / name
        if folder.is_dir():
            return folder
    return None


def project_model(project: TextProject) -> str | None:
    """The local model the project names, or None for the built-in one."""
    value = (project.settings or {}).get(FIELD)
    return value if isinstance(value, str) and value else None


def set_project_model(project: TextProject, name: str | None) -> None:
    """Name the project's embedding model (None: the built-in one); a new dict, so
    SQLAlchemy sees the JSON column change."""
    values = {k: v for k, v in (project.settings or {}).items() if k != FIELD}
    if name is not None:
        values[FIELD] = name
    project.settings = values


def embedder_for(settings: Settings | None, project: TextProject) -> Embedder | None:
    """The embedder a new model of ``project`` trains with: None for the built-in one,
    else its local model, loaded (503 when it is gone or cannot be loaded)."""
    name = project_model(project)
    return None if name is None else _load(settings, name)


def embedder_named(settings: Settings | None, name: str | None) -> Embedder | None:
    """The embedder called ``name`` in a saved model (``local:<folder>``), or None for
    any other (the built-in one, or none at all)."""
    if not name or not name.startswith(LOCAL_PREFIX):
        return None
    folder = name[len(LOCAL_PREFIX) :]
    if not _safe(folder):
        raise ValidationFailed(
            f"The model names an embedding model ({name!r}) that is not a folder name.",
            details={"reason": "BAD_EMBEDDING_MODEL", "name": name},
        )
    return _load(settings, folder)


def embedder_of_model(settings: Settings | None, folder: Path | str) -> Embedder | None:
    """The embedder to load the saved model in ``folder`` with: None for the built-in
    one, else its local model, checked to be the one it was trained with (409 when its
    files changed since, 503 when it is gone)."""
    from augury.engines.text import artifact

    try:
        header = artifact.read_header(folder)
    except TextModelError as exc:
        raise service_error(exc) from exc
    saved = {(e["name"], e.get("fingerprint")) for e in _saved_embedders(header["meta"])}
    local = sorted((n, f) for n, f in saved if str(n).startswith(LOCAL_PREFIX))
    if not local:
        return None
    if len(local) > 1:
        raise ValidationFailed(
            "The model names more than one local embedding model.",
            details={"reason": "BAD_EMBEDDING_MODEL", "names": [n for n, _ in local]},
        )
    name, fingerprint = local[0]
    embedder = embedder_named(settings, name)
    if embedder is not None and embedder.fingerprint != fingerprint:
        raise Conflict(
            f"The embedding model {name[len(LOCAL_PREFIX) :]!r} changed since this model "
            "was trained (its files differ): train the model again.",
            details={
                "reason": "EMBEDDER_MISMATCH",
                "name": name,
                "expected": fingerprint,
                "found": embedder.fingerprint,
            },
        )
    return embedder


def _saved_embedders(meta: Any) -> Iterator[dict[str, Any]]:
    """Every ``{"name", "fingerprint"}`` a model's meta records under ``embedder``, at
    any depth (a classifier's features; an ABSA model's detector and polarity heads)."""
    if isinstance(meta, dict):
        found = meta.get("embedder")
        if isinstance(found, dict) and isinstance(found.get("name"), str):
            yield found
        for value in meta.values():
            yield from _saved_embedders(value)
    elif isinstance(meta, list):
        for value in meta:
            yield from _saved_embedders(value)


def _load(settings: Settings | None, name: str) -> Embedder:
    from augury.engines.text.local_embed import load_local

    folder = _find(settings, name)
    if folder is None:
        raise ServiceUnavailable(
            f"The embedding model {name!r} is not on this server any more (it is looked "
            "for in AUGURY_TEXT__MODEL_DIRS): put it back, or choose another for the project "
            "and train again.",
            details={"reason": "EMBEDDING_MODEL_GONE", "name": name},
        )
    try:
        return load_local(folder)
    except TextModelError as exc:
        raise service_error(exc) from exc


def service_error(exc: TextModelError) -> AuguryError:
    """A text model's refusal as the API answers it: a model trained on other
    embeddings is 409, an embedding model the server cannot load 503, the rest 422."""
    details = {"reason": exc.code, **exc.details}
    if exc.code == "EMBEDDER_MISMATCH":
        return Conflict(exc.message, details=details)
    if exc.code.startswith("LOCAL_MODEL_") or exc.code == "EMBEDDER_UNAVAILABLE":
        return ServiceUnavailable(f"The embedding model cannot be used: {exc}", details=details)
    return ValidationFailed(exc.message, details=details)
