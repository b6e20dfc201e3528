"""A project's model versions: trained from its labeled sessions, tested, compared,
promoted, downloaded and uploaded as signed files, deleted.

**Training** (:func:`start_training`, then the ``text.train`` job :class:`TrainModel`)
checks in the request what would make it fail (no sessions, another project's, a
session with one class, too few examples to test on: 422s that say what to do), then
trains in a job: the examples (:mod:`augury.text.services.training_data`), the engine
(:mod:`augury.engines.text.classify` or :mod:`~augury.engines.text.absa`) with the job's
progress and abort, the test report, and the model folder zipped into the datasets'
blob storage (``text-models/<org>/<model>/<content hash>.zip``). A failure leaves the
version FAILED with the engine's readable reason; an abort leaves it ABORTED with no
file anywhere.

**Loading** a version for prediction (:func:`load_engine_model`) unzips it once into
``<data_dir>/text-models/cache/<content hash>``: extracted beside it under a temporary
name, checked against the hash, then renamed into place, so two workers extracting at
once never see half a folder and the cache survives restarts. Loaded models are kept in
memory per process (a few, most recent first).

**The file** a download gives is the model folder (``model/``) and ``signature.json``:
the format, content hash, project type, the classes and labels it predicts, name,
version, metrics, who signed it (a fingerprint of the server's key) and an HMAC-SHA256
over all of that with a key derived (HKDF) from the server's secret. An upload is
refused (422) unless this server signed it, the files match the hash, its project type
is this project's and every class and label it names is one the project has; a zip with
other members, paths, links or more declared bytes than :data:`MAX_UNCOMPRESSED` is
refused before anything is extracted. The zip checks, the signature and the cache are
:mod:`augury.datasets.signed_files`, shared with predictive models (:data:`FILE_KIND`
is this file's kind: its format and its key's HKDF purpose).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.config import Settings
from augury.datasets import signed_files
from augury.datasets.signed_files import MODEL_DIR, SIGNATURE_FILE, bad_file
from augury.datasets.storage import storage_for
from augury.engines.text.model_errors import TextModelError
from augury.errors import AuguryError, Conflict, NotFound, ValidationFailed
from augury.events import service as events
from augury.jobs import service as jobs_service
from augury.jobs.models import Job, JobStatus
from augury.jobs.types import ended_by_abort
from augury.notifications.service import notify
from augury.store.pagination import PageParams, paginate
from augury.text.models import (
    ModelStatus,
    ModelTask,
    ProjectType,
    TextModelVersion,
    TextProject,
    TextSession,
)
from augury.text.schemas.models import ModelCreate, ModelUpdate
from augury.text.services import embedders, training_data
from augury.text.services.training_data import TrainingSet, shown

JOB_TYPE = "text.train"
WORST = 20
"""Test examples a report lists, most wrong first."""
FILE_KIND = signed_files.FileKind(
    format="augury-text-model-file",
    format_version=1,
    purpose=b"augury text model file signature v1",
    signer_label=b"augury text model signer",
)
"""The text model file: these four values are what every file signed so far was signed
with (the HKDF purpose and the signer label above all): changing one refuses them all."""
MEMBERS = tuple(
    sorted(
        (
            SIGNATURE_FILE,
            f"{MODEL_DIR}/model.json",
            f"{MODEL_DIR}/vocabulary.json",
            f"{MODEL_DIR}/arrays.npz",
        )
    )
)
"""A text model file holds these four files and nothing else."""
MAX_ZIP_BYTES = 1 << 30
"""The largest model file an upload takes."""
MAX_UNCOMPRESSED = (2 << 30) + (512 << 20)
"""The most bytes a model file's members may declare (arrays as the engine bounds them,
and their vocabularies)."""
KEPT_LOADED = 4
"""Loaded models kept in memory per process."""
AUDITED = ("name", "description")


# --- reading -------------------------------------------------------------------------------


def get(session: Session, project: TextProject, model_id: int) -> TextModelVersion:
    """The project's model version ``model_id`` (404 for any other's), its status made
    to agree with its job (a job that ended without telling: the server stopped)."""
    model = session.scalar(
        select(TextModelVersion).where(
            TextModelVersion.id == model_id, TextModelVersion.project_id == project.id
        )
    )
    if model is None:
        raise NotFound("Model not found.", details={"model_id": model_id})
    settle(session, [model])
    return model


def list_page(
    session: Session,
    project: TextProject,
    page: PageParams,
    *,
    name: str | None = None,
    status: str | None = None,
) -> tuple[list[TextModelVersion], int]:
    """The project's versions, newest first."""
    stmt = select(TextModelVersion).where(TextModelVersion.project_id == project.id)
    if name is not None:
        stmt = stmt.where(TextModelVersion.name == name)
    if status is not None:
        stmt = stmt.where(TextModelVersion.status == status)
    rows, total = paginate(
        session, stmt.order_by(TextModelVersion.created_at.desc(), TextModelVersion.id.desc()), page
    )
    settle(session, rows)
    return rows, total


def settle(session: Session, models: Sequence[TextModelVersion]) -> None:
    """A version still QUEUED or TRAINING whose job ended (aborted before it started,
    or cut off by a restart) takes the job's ending."""
    waiting = [m for m in models if m.status in (ModelStatus.QUEUED, ModelStatus.TRAINING)]
    for model, aborted in jobs_service.ended(session, waiting):
        if aborted:
            model.status = ModelStatus.ABORTED
        else:
            model.status = ModelStatus.FAILED
            model.error = model.error or "The training job ended without a model (the server "
            "stopped while it ran?). Train it again."
        model.updated_at = clock.now()


def read_many(session: Session, models: Sequence[TextModelVersion]) -> list[dict[str, Any]]:
    """The models' JSON (``ModelRead``), with their jobs' progress."""
    jobs = jobs_service.by_id(session, (m.job_id for m in models))
    return [_read(m, jobs.get(m.job_id) if m.job_id is not None else None) for m in models]


def read(session: Session, model: TextModelVersion) -> dict[str, Any]:
    return read_many(session, [model])[0]


def _read(model: TextModelVersion, job: Job | None) -> dict[str, Any]:
    if model.status == ModelStatus.READY:
        progress = 100.0
    else:
        progress = float(job.progress) if job is not None else 0.0
    training = dict(model.training or {})
    return {
        "id": model.id,
        "project_id": model.project_id,
        "name": model.name,
        "version": model.version,
        "description": model.description,
        "task": model.task,
        "status": model.status,
        "progress": round(progress, 1),
        "origin": model.origin,
        "active": model.active,
        "base": training.get("base"),
        "language": training.get("language"),
        "score": (model.metrics or {}).get("score"),
        "metrics": model.metrics,
        "training": training,
        "classes": list(training.get("classes") or []),
        "content_hash": model.content_hash,
        "size_bytes": model.size_bytes,
        "job_id": model.job_id,
        "error": model.error,
        "created_at": model.created_at,
        "trained_at": model.trained_at,
        "created_by_id": model.created_by_id,
    }


def report(session: Session, model: TextModelVersion) -> dict[str, Any]:
    """The version's test report (409 until it is trained)."""
    if model.status != ModelStatus.READY:
        raise Conflict(
            f"The model is {model.status}: it has a report once it is READY.",
            details={"status": model.status},
        )
    full = model.report or {}
    return {
        "model_id": model.id,
        "metrics": model.metrics,
        "per_class": full.get("per_class", {}),
        "classes": full.get("classes", list((model.training or {}).get("classes") or [])),
        "confusion": full.get("confusion"),
        "worst": full.get("worst", []),
        "training": model.training or {},
    }


def compare(session: Session, project: TextProject, ids: Sequence[int]) -> dict[str, Any]:
    """Versions side by side: each class's F1 per version."""
    wanted = list(dict.fromkeys(ids))
    if not 1 <= len(wanted) <= 20:
        raise ValidationFailed("ids: name 1 to 20 models to compare.")
    models = [get(session, project, i) for i in wanted]
    classes: list[str] = []
    per_class: dict[str, dict[str, float | None]] = {}
    for model in models:
        for name, scores in ((model.report or {}).get("per_class") or {}).items():
            if name not in per_class:
                classes.append(name)
                per_class[name] = {str(m.id): None for m in models}
            per_class[name][str(model.id)] = scores.get("f1")
    return {"models": read_many(session, models), "classes": classes, "per_class": per_class}


# --- training ------------------------------------------------------------------------------


def _next_version(session: Session, project: TextProject, name: str) -> int:
    latest = session.scalar(
        select(func.max(TextModelVersion.version)).where(
            TextModelVersion.project_id == project.id, TextModelVersion.name == name
        )
    )
    return int(latest or 0) + 1


def _build(session: Session, project: TextProject, plan: dict[str, Any]) -> TrainingSet:
    return training_data.build(
        session,
        project,
        session_ids=plan.get("session_ids"),
        train_session_ids=plan.get("train_session_ids"),
        test_session_ids=plan.get("test_session_ids"),
        test_fraction=float(plan.get("test_fraction", 0.2)),
        seed=int(plan.get("seed", 0)),
    )


def _import_session(
    session: Session,
    principal: Principal,
    project: TextProject,
    body: ModelCreate,
    settings: Settings | None,
) -> TextSession:
    """The IMPORT session of the labeled file ``body`` names, as ``POST .../sessions``
    would make it (named after the model)."""
    # Imported here: sessions use correction sessions, which use the models.
    from augury.text.schemas.sessions import SessionCreate
    from augury.text.services import sessions

    wanted = SessionCreate(
        name=f"{body.name.strip()}: labeled file",
        file_id=body.file_id,
        column_mapping=body.column_mapping,
        create_missing=body.create_missing,
    )
    return sessions.create(session, principal, settings, project, wanted)


def start_training(
    session: Session,
    principal: Principal,
    project: TextProject,
    body: ModelCreate,
    settings: Settings | None,
) -> tuple[TextModelVersion, Job]:
    """A new version of ``body.name``, QUEUED, and the ``text.train`` job that trains it;
    the labels are checked first so that what cannot train is refused here. A labeled
    file becomes an IMPORT session first, in the same transaction."""
    session_ids = body.session_ids
    if body.file_id is not None:
        session_ids = [_import_session(session, principal, project, body, settings).id]
    plan: dict[str, Any] = {
        "session_ids": session_ids,
        "train_session_ids": body.train_session_ids,
        "test_session_ids": body.test_session_ids,
        "test_fraction": body.test_fraction,
        "seed": body.seed,
        "language": body.language,
    }
    built = _build(session, project, plan)
    name = body.name.strip()
    model = TextModelVersion(
        org_id=project.org_id,
        project_id=project.id,
        name=name,
        version=_next_version(session, project, name),
        description=body.description,
        task=ModelTask(project.type),
        status=ModelStatus.QUEUED,
        origin="trained",
        training={**plan, "counts": built.counts},
        vocabulary=built.vocabulary,
        created_by_id=principal.user_id,
    )
    session.add(model)
    session.flush()
    job = jobs_service.create(
        session=session,
        org_id=project.org_id,
        type=JOB_TYPE,
        params={"model_id": model.id},
        user_id=principal.user_id,
        quotas=settings.quotas if settings is not None else None,
    )
    model.job_id = job.id
    audit.record_change(
        session=session,
        principal=principal,
        action="text.model.train",
        target_type="text_model",
        target_id=model.id,
        after={
            **audit.snapshot(model, AUDITED),
            "project_id": project.id,
            "version": model.version,
            "job_id": job.id,
        },
    )
    return model, job


Progress = Callable[[float, str], None]


def train_engine(built: TrainingSet, progress: Progress, embedder: Any = None) -> Any:
    """The engine's model trained on ``built.train``; ``progress(fraction, what)``."""
    from augury.engines.text import absa, classify

    if built.task == ProjectType.ABSA:
        return absa.train_absa(built.targets("train"), embedder=embedder, progress=progress)
    return classify.train(
        built.texts("train"),
        built.targets("train"),
        multi_label=built.task != ProjectType.CLASS,
        embedder=embedder,
        progress=progress,
    )


def evaluate(built: TrainingSet, engine_model: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metrics, report) of ``engine_model`` on ``built.test``, names as people read
    them (CLASSLABEL pairs as ``class/label``)."""
    from augury.engines.text import classify

    if built.task == ProjectType.ABSA:
        return _evaluate_absa(engine_model, built.targets("test"))
    raw = classify.evaluate(engine_model, built.texts("test"), built.targets("test"), worst=WORST)
    confusion = raw["confusion"]
    if isinstance(confusion, dict):
        confusion = {shown(k): v for k, v in confusion.items()}
    report = {
        "classes": [shown(c) for c in raw["classes"]],
        "per_class": {shown(k): v for k, v in raw["per_class"].items()},
        "confusion": confusion,
        "worst": [
            {
                "text": w["text"],
                "truth": [shown(t) for t in w["truth"]],
                "predicted": [shown(p) for p in w["predicted"]],
                "confidence": w["confidence"],
                "truth_probability": w["truth_probability"],
            }
            for w in raw["worst"]
        ],
    }
    score = raw["accuracy"] if built.task == ProjectType.CLASS else raw["micro_f1"]
    metrics = {
        "n": raw["n"],
        "accuracy": raw["accuracy"],
        "micro_f1": raw["micro_f1"],
        "macro_f1": raw["macro_f1"],
        "score": score,
    }
    return metrics, report


def _evaluate_absa(model: Any, records: list[dict]) -> tuple[dict[str, Any], dict[str, Any]]:
    """SemEval's two measures (category detection F1, polarity accuracy on the gold
    categories) with a per-category breakdown and the sentences it got most wrong."""
    from augury.engines.text.absa import evaluate_absa

    overall = evaluate_absa(model, records)
    texts = [r["text"] for r in records]
    found = model.detect(texts)
    gold_pairs = [
        (i, a["category"], a["polarity"])
        for i, r in enumerate(records)
        for a in r["aspects"]
        if a["polarity"] is not None
    ]
    guessed: dict[tuple[int, str], tuple[str, float]] = {}
    if gold_pairs:
        proba = model.polarity_proba(
            [texts[i] for i, _, _ in gold_pairs], [c for _, c, _ in gold_pairs]
        )
        for (i, c, _), p in zip(gold_pairs, proba, strict=True):
            top = int(p.argmax())
            guessed[(i, c)] = (model.polarities[top], float(p[top]))
    tp: dict[str, int] = {}
    fp: dict[str, int] = {}
    fn: dict[str, int] = {}
    right: dict[str, int] = {}
    judged: dict[str, int] = {}
    worst = []
    for i, (record, detected) in enumerate(zip(records, found, strict=True)):
        truth = {a["category"] for a in record["aspects"]}
        predicted = {c for c, _ in detected}
        for c in truth | predicted:
            tp.setdefault(c, 0), fp.setdefault(c, 0), fn.setdefault(c, 0)
        for c in truth & predicted:
            tp[c] += 1
        for c in predicted - truth:
            fp[c] += 1
        for c in truth - predicted:
            fn[c] += 1
        wrong = len(truth ^ predicted)
        for a in record["aspects"]:
            if a["polarity"] is None:
                continue
            polarity, _ = guessed[(i, a["category"])]
            judged[a["category"]] = judged.get(a["category"], 0) + 1
            if polarity == a["polarity"]:
                right[a["category"]] = right.get(a["category"], 0) + 1
            else:
                wrong += 1
        if wrong:
            confidence = min([conf for _, conf in detected], default=0.0)
            worst.append(
                (
                    -wrong,
                    i,
                    {
                        "text": record["text"],
                        "truth": [_aspect(a["category"], a["polarity"]) for a in record["aspects"]],
                        "predicted": [
                            _aspect(c, guessed.get((i, c), (None, 0.0))[0]) for c, _ in detected
                        ],
                        "confidence": round(confidence, 4),
                    },
                )
            )
    per_class = {}
    for c in sorted(tp):
        precision = tp[c] / (tp[c] + fp[c]) if tp[c] + fp[c] else 0.0
        recall = tp[c] / (tp[c] + fn[c]) if tp[c] + fn[c] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp[c] + fn[c],
            "polarity_accuracy": round(right.get(c, 0) / judged[c], 4) if judged.get(c) else None,
        }
    worst.sort(key=lambda w: (w[0], w[1]))
    categories, polarity = overall["categories"], overall["polarity"]
    metrics = {
        "n": overall["sentences"],
        "category_precision": categories["precision"],
        "category_recall": categories["recall"],
        "category_f1": categories["f1"],
        "polarity_accuracy": polarity["accuracy"],
        "pairs": polarity["pairs"],
        "score": round((categories["f1"] + polarity["accuracy"]) / 2, 4),
    }
    report = {
        "classes": list(model.categories),
        "per_class": per_class,
        "confusion": polarity["confusion"],
        "worst": [w for _, _, w in worst[:WORST]],
    }
    return metrics, report


def _aspect(category: str, polarity: str | None) -> str:
    return f"{category}/{polarity}" if polarity else category


def engine_classes(engine_model: Any) -> list[str]:
    """What the engine's model predicts, as people read it."""
    names = getattr(engine_model, "categories", None) or engine_model.classes
    return [shown(n) for n in names]


def base_of(engine_model: Any) -> str:
    embedder = engine_model.features.embedder
    return embedder.name if embedder is not None else "tf-idf"


class TrainModel:
    """The ``text.train`` job: train, test and store one model version."""

    name = JOB_TYPE
    title = "Text: train a model version"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        model_id: int = Field(ge=1, le=2**31 - 1)

    def run(self, ctx, params: Params) -> dict:
        """Train the version; on an abort it ends ABORTED, on a failure FAILED with the
        reason, with no file left behind either way."""
        work = Path(storage_for(ctx.settings).staging_file(".text-model"))
        stored: list[str] = []
        try:
            result = self._train(ctx, params.model_id, work, stored)
        except BaseException as exc:
            aborted = ended_by_abort(ctx, exc)
            for key in stored:
                with contextlib.suppress(AuguryError, OSError):
                    storage_for(ctx.settings).delete(key)
            self._end(
                ctx,
                params.model_id,
                aborted=aborted,
                reason=jobs_service.failure_reason(exc, "Training"),
            )
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return result

    def _train(self, ctx, model_id: int, work: Path, stored: list[str]) -> dict:
        with ctx.session() as session:
            model, project = _job_model(session, ctx.org_id, model_id)
            if model.status != ModelStatus.QUEUED:
                return {"model_id": model_id, "status": model.status}
            model.status = ModelStatus.TRAINING
            model.updated_at = clock.now()
            plan = dict(model.training or {})
        ctx.progress(1.0, "reading the labels")
        with ctx.session() as session:
            model, project = _job_model(session, ctx.org_id, model_id)
            built = _build(session, project, plan)
            embedder = embedders.embedder_for(ctx.settings, project)
        ctx.progress(5.0, f"{len(built.train)} examples to train on, {len(built.test)} to test")
        started = time.perf_counter()
        engine_model = train_engine(
            built,
            lambda share, what: ctx.progress(5.0 + 75.0 * share, f"training: {what}"),
            embedder,
        )
        seconds = round(time.perf_counter() - started, 2)
        ctx.progress(80.0, "testing")
        metrics, full = evaluate(built, engine_model)
        ctx.progress(90.0, "saving")
        folder = work / MODEL_DIR
        digest = engine_model.save(folder)
        key = _blob_key(ctx.org_id, model_id, digest)
        header = {
            "project_type": project.type,
            **_vocabulary_lists(built.task, engine_model),
            "metrics": metrics,
        }
        zip_path = work / "model.zip"
        _write_zip(ctx.settings, folder, zip_path, digest, header)
        size = storage_for(ctx.settings).put(zip_path, key)
        stored.append(key)
        signed_files.keep_extracted(_cache_root(ctx.settings), folder, digest)
        loaded.remember(digest, engine_model)
        ctx.progress(99.0, "saving")
        with ctx.session() as session:
            model, project = _job_model(session, ctx.org_id, model_id)
            model.status = ModelStatus.READY
            model.metrics = metrics
            model.report = full
            model.content_hash = digest
            model.size_bytes = size
            model.artifact = key
            model.trained_at = clock.now()
            model.updated_at = model.trained_at
            model.error = None
            model.training = {
                **plan,
                "counts": built.counts,
                "classes": engine_classes(engine_model),
                "base": base_of(engine_model),
                "seconds": seconds,
            }
            _tell(session, ctx, model, project)
            events.emit(
                session,
                org_id=ctx.org_id,
                type="model.trained",
                data={
                    "kind": "text",
                    "model_id": model.id,
                    "name": model.name,
                    "version": model.version,
                    "project_id": model.project_id,
                    "score": metrics.get("score"),
                    "job_id": ctx.job_id,
                    "user_id": ctx.user_id,
                },
                user_id=ctx.user_id,
            )
        stored.clear()
        return {"model_id": model_id, "status": ModelStatus.READY, "score": metrics["score"]}

    @staticmethod
    def _end(ctx, model_id: int, *, aborted: bool, reason: str) -> None:
        with ctx.session() as session:
            model = session.get(TextModelVersion, model_id)
            if model is None or model.org_id != ctx.org_id:
                return
            model.status = ModelStatus.ABORTED if aborted else ModelStatus.FAILED
            model.error = None if aborted else reason
            model.updated_at = clock.now()
            if not aborted:
                project = session.get(TextProject, model.project_id)
                _tell(session, ctx, model, project)


def _job_model(
    session: Session, org_id: int, model_id: int
) -> tuple[TextModelVersion, TextProject]:
    model = session.get(TextModelVersion, model_id)
    if model is None or model.org_id != org_id:
        raise ValueError(f"text model {model_id} not found (deleted meanwhile?)")
    return model, session.get_one(TextProject, model.project_id)


def _tell(session: Session, ctx, model: TextModelVersion, project: TextProject | None) -> None:
    if ctx.user_id is None:
        return
    label = f"{model.name} v{model.version}"
    where = project.name if project is not None else f"project {model.project_id}"
    if model.status == ModelStatus.READY:
        score = (model.metrics or {}).get("score")
        title = f"Model {label} of {where} is ready"
        body = f"Test score {score:.1%}." if isinstance(score, float | int) else ""
    else:
        title = f"Training {label} of {where} failed"
        body = model.error or ""
    notify(
        session,
        org_id=ctx.org_id,
        user_id=ctx.user_id,
        kind="text.model",
        title=title,
        body=body,
        link=f"/text/projects/{model.project_id}/models/{model.id}",
        data={
            "job_id": ctx.job_id,
            "project_id": model.project_id,
            "model_id": model.id,
            "status": "succeeded" if model.status == ModelStatus.READY else "failed",
        },
    )


# --- changing ------------------------------------------------------------------------------


def update_model(
    session: Session,
    principal: Principal,
    project: TextProject,
    model: TextModelVersion,
    body: ModelUpdate,
) -> TextModelVersion:
    """Rename or describe the version; a new name gives it that name's next version."""
    before = audit.snapshot(model, (*AUDITED, "version"))
    if body.name is not None and body.name.strip() != model.name:
        version = _next_version(session, project, body.name.strip())
        model.name, model.version = body.name.strip(), version
    if body.description is not None:
        model.description = body.description
    model.updated_at = clock.now()
    session.flush()
    audit.record_change(
        session=session,
        principal=principal,
        action="text.model.update",
        target_type="text_model",
        target_id=model.id,
        before=before,
        after=audit.snapshot(model, (*AUDITED, "version")),
    )
    return model


def promote(
    session: Session, principal: Principal, project: TextProject, model: TextModelVersion
) -> TextModelVersion:
    """Make the version the project's active one (the one analyses and correction
    sessions use when they name none); the previous active one is not any more."""
    if model.status != ModelStatus.READY:
        raise Conflict(
            f"Only a READY model can be promoted; this one is {model.status}.",
            details={"status": model.status},
        )
    previous = session.scalar(
        select(TextModelVersion.id).where(
            TextModelVersion.project_id == project.id,
            TextModelVersion.active.is_(True),
            TextModelVersion.id != model.id,
        )
    )
    session.execute(
        update(TextModelVersion)
        .where(TextModelVersion.project_id == project.id, TextModelVersion.id != model.id)
        .values(active=False)
    )
    model.active = True
    model.updated_at = clock.now()
    session.flush()
    audit.record_change(
        session=session,
        principal=principal,
        action="text.model.promote",
        target_type="text_model",
        target_id=model.id,
        before={"active": False, "previous_active_id": previous},
        after={"active": True},
    )
    return model


def abort(session: Session, principal: Principal, model: TextModelVersion) -> TextModelVersion:
    """Stop the version's training: a queued one ends ABORTED now, a running one when
    its job next reports progress."""
    if model.status not in (ModelStatus.QUEUED, ModelStatus.TRAINING) or model.job_id is None:
        raise Conflict(
            f"The model is {model.status}: there is no training to abort.",
            details={"status": model.status},
        )
    jobs_service.abort_unless_ended(session=session, principal=principal, job_id=model.job_id)
    settle(session, [model])
    audit.record_by(
        session=session,
        principal=principal,
        action="text.model.abort",
        target_type="text_model",
        target_id=model.id,
    )
    return model


def delete(
    session: Session,
    principal: Principal,
    settings: Settings,
    model: TextModelVersion,
    *,
    confirm: bool,
) -> None:
    """Delete the version and its file. The active version only with ``confirm`` (the
    project then has none, and analyses fall back to zero-shot); one still training
    is aborted first."""
    if model.active and not confirm:
        raise Conflict(
            f"{model.name} v{model.version} is the project's active model: analyses and "
            "correction sessions that name no model use it. Repeat with ?confirm=true.",
            details={"reason": "CONFIRM_DELETE", "active": True},
        )
    if model.status in (ModelStatus.QUEUED, ModelStatus.TRAINING) and model.job_id is not None:
        job = session.get(Job, model.job_id)
        if job is not None and not JobStatus(job.status).is_final:
            raise Conflict(
                "The model is still training: abort it first.",
                details={"status": model.status, "job_id": model.job_id},
            )
    audit.record_change(
        session=session,
        principal=principal,
        action="text.model.delete",
        target_type="text_model",
        target_id=model.id,
        before={
            **audit.snapshot(model, (*AUDITED, "version", "status", "active", "content_hash")),
            "project_id": model.project_id,
        },
    )
    key = model.artifact
    session.delete(model)
    session.flush()
    if key:
        storage_for(settings).delete(key)


def stored_files(session: Session, project: TextProject) -> list[str]:
    """The storage keys of the project's model files: what deleting the project must
    remove from the blob storage (the database forgets the versions by cascade)."""
    keys = session.scalars(
        select(TextModelVersion.artifact).where(
            TextModelVersion.project_id == project.id, TextModelVersion.artifact.is_not(None)
        )
    )
    return [k for k in keys if k]


def forget_files(settings: Settings, keys: Sequence[str]) -> None:
    """Remove model files from the blob storage (after the versions were deleted); a
    file already gone is no error."""
    storage = storage_for(settings)
    for key in keys:
        with contextlib.suppress(FileNotFoundError):
            storage.delete(key)


# --- files: storage, cache, signature ------------------------------------------------------


def _blob_key(org_id: int, model_id: int, digest: str) -> str:
    return f"text-models/{org_id}/{model_id}/{signed_files.hex_of(digest)}.zip"


def _cache_root(settings: Settings) -> Path:
    return Path(settings.data_dir) / "text-models" / "cache"


def _verify(settings: Settings, signed: dict[str, Any]) -> None:
    if not FILE_KIND.verify(settings, signed):
        raise ValidationFailed(
            "The model file's signature does not match: it was signed by another server "
            "(or with another secret), or changed since. Upload a file this server "
            "signed, or train the model here.",
            details={"reason": "BAD_SIGNATURE", "signed_by": signed.get("signed_by")},
        )


def _vocabulary_lists(task: str, engine_model: Any) -> dict[str, list[str]]:
    """The class and label names a model predicts, as its signed header lists them."""
    names = getattr(engine_model, "categories", None) or engine_model.classes
    if task == ProjectType.ABSA:
        return {"classes": list(names), "labels": list(engine_model.polarities)}
    if task == ProjectType.LABEL:
        return {"classes": [], "labels": list(names)}
    if task == ProjectType.CLASSLABEL:
        pairs = [training_data.split_pair(n) for n in names]
        return {
            "classes": sorted({c for c, _ in pairs}),
            "labels": sorted({lab for _, lab in pairs}),
        }
    return {"classes": list(names), "labels": []}


def _write_zip(
    settings: Settings, folder: Path, dst: Path, digest: str, header: dict[str, Any]
) -> None:
    signed_files.write_zip(
        folder, dst, FILE_KIND.sign(settings, {**header, "content_hash": digest})
    )


def download(settings: Settings, model: TextModelVersion, dst: Path) -> Path:
    """The version as a file signed now by this server (its name, version and metrics
    in the header): the stored model folder with a fresh ``signature.json``."""
    if model.status != ModelStatus.READY or not model.artifact or not model.content_hash:
        raise Conflict(
            f"The model is {model.status}: only a READY model can be downloaded.",
            details={"status": model.status},
        )
    src = storage_for(settings).path(model.artifact)
    with zipfile.ZipFile(src) as zin:
        old = json.loads(zin.read(SIGNATURE_FILE))
    header = {
        "content_hash": model.content_hash,
        "project_type": model.task,
        "classes": old.get("classes", []),
        "labels": old.get("labels", []),
        "name": model.name,
        "version": model.version,
        "metrics": model.metrics,
        "trained_at": model.trained_at.isoformat() if model.trained_at else None,
    }
    return signed_files.resign(src, dst, FILE_KIND.sign(settings, header))


def _check_zip(zf: zipfile.ZipFile) -> None:
    """Only the four members, as plain files, within the declared-size bound."""
    signed_files.check_members(
        zf,
        MEMBERS.__contains__,
        max_uncompressed=MAX_UNCOMPRESSED,
        required=MEMBERS,
        described=", ".join(MEMBERS),
    )


def _max_arrays() -> int:
    """The arrays file is itself a zip: its members are bounded too, before NumPy reads."""
    from augury.engines.text import artifact

    return artifact.MAX_BYTES + (1 << 20)


def _names(signed: dict[str, Any], key: str) -> list[str]:
    value = signed.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_file(f"The model file's header has no {key} list.")
    return value


def upload(
    session: Session,
    principal: Principal,
    settings: Settings,
    project: TextProject,
    path: Path,
    *,
    name: str,
    size: int,
) -> TextModelVersion:
    """A downloaded model file as a READY version of ``name`` (origin ``uploaded``),
    refused (422) unless this server signed it for a project of this type and
    vocabulary (see the module's docstring)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed("name: give the model a name (1 to 200 characters).")
    signed_files.check_size(size, MAX_ZIP_BYTES)
    work = Path(storage_for(settings).staging_file(".text-model"))
    try:
        with signed_files.open_zip(path) as zf:
            _check_zip(zf)
            signed = signed_files.read_header(zf, FILE_KIND)
            _verify(settings, signed)
            vocabulary = _uploaded_vocabulary(session, project, signed)
            folder = work / MODEL_DIR
            signed_files.extract_model(zf, folder, _max_arrays())
        try:
            engine_model = _load_folder(settings, folder)
        except TextModelError as exc:
            raise bad_file(f"The model file cannot be used: {exc.message}", code=exc.code) from exc
        digest = engine_model.content_hash
        if digest != signed.get("content_hash"):
            raise bad_file("The model's files do not match the content hash it was signed with.")
        model = TextModelVersion(
            org_id=project.org_id,
            project_id=project.id,
            name=name,
            version=_next_version(session, project, name),
            description="",
            task=ModelTask(project.type),
            status=ModelStatus.READY,
            origin="uploaded",
            training={
                "classes": engine_classes(engine_model),
                "base": base_of(engine_model),
                "uploaded_from": {
                    "name": signed.get("name"),
                    "version": signed.get("version"),
                    "trained_at": signed.get("trained_at"),
                },
            },
            vocabulary=vocabulary,
            metrics=signed.get("metrics") if isinstance(signed.get("metrics"), dict) else None,
            report={},
            content_hash=digest,
            created_by_id=principal.user_id,
            trained_at=clock.now(),
        )
        session.add(model)
        session.flush()
        key = _blob_key(project.org_id, model.id, digest)
        model.size_bytes = storage_for(settings).put(path, key)
        model.artifact = key
        signed_files.keep_extracted(_cache_root(settings), folder, digest)
        loaded.remember(digest, engine_model)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    audit.record_change(
        session=session,
        principal=principal,
        action="text.model.upload",
        target_type="text_model",
        target_id=model.id,
        after={
            **audit.snapshot(model, AUDITED),
            "project_id": project.id,
            "version": model.version,
            "content_hash": digest,
        },
    )
    return model


def _uploaded_vocabulary(
    session: Session, project: TextProject, signed: dict[str, Any]
) -> dict[str, dict[str, int]]:
    """The project's ids of the classes and labels the file names (422 naming those the
    project does not have, or a file of another project type)."""
    if signed.get("project_type") != project.type:
        raise bad_file(
            f"The model was trained for a {signed.get('project_type')} project; this project "
            f"is {project.type}.",
            reason="WRONG_TASK",
            task=signed.get("project_type"),
        )
    classes, labels = training_data.vocabulary_of(session, project)
    class_ids = {n: i for i, n in classes.items()}
    label_ids = {n: i for i, n in labels.items()}
    missing_classes = [c for c in _names(signed, "classes") if c not in class_ids]
    missing_labels = [lab for lab in _names(signed, "labels") if lab not in label_ids]
    if missing_classes or missing_labels:
        said = []
        if missing_classes:
            said.append("classes " + ", ".join(map(repr, missing_classes[:20])))
        if missing_labels:
            said.append("labels " + ", ".join(map(repr, missing_labels[:20])))
        raise ValidationFailed(
            f"The model predicts {' and '.join(said)}, which this project does not have: "
            "add them (or upload the model into the project it was trained for).",
            details={
                "reason": "UNKNOWN_VOCABULARY",
                "classes": missing_classes,
                "labels": missing_labels,
            },
        )
    return {"classes": class_ids, "labels": label_ids}


# --- loading for prediction ----------------------------------------------------------------

loaded = signed_files.LoadedModels(KEPT_LOADED)
"""The engine models this process keeps loaded, by content hash."""


def _load_folder(settings: Settings, folder: Path) -> Any:
    """The engine's model in ``folder`` (checked against its content hash), with the
    embedder it was trained with (a project's local model, else the built-in one)."""
    from augury.engines.text import absa, artifact, classify

    embedder = embedders.embedder_of_model(settings, folder)
    if artifact.read_header(folder)["kind"] == absa.KIND:
        return absa.load_absa(folder, embedder)
    return classify.load(folder, embedder)


def load_engine_model(settings: Settings | None, model: TextModelVersion) -> Any:
    """The engine's model of a READY version: from memory, else the extracted cache,
    else its zip (extracted once, checked, renamed into the cache)."""
    digest = model.content_hash
    if model.status != ModelStatus.READY or not digest or not model.artifact:
        raise Conflict(
            f"Model {model.name} v{model.version} is {model.status}: only a READY model "
            "can predict.",
            details={"status": model.status, "model_id": model.id},
        )
    cached = loaded.get(digest)
    if cached is not None:
        return cached
    settings = settings or Settings()
    final = _cache_root(settings) / signed_files.hex_of(digest)
    engine_model = signed_files.load_cached(
        final,
        storage_for(settings).path(model.artifact),
        check=_check_zip,
        load=lambda folder: _load_folder(settings, folder),
        max_npz_bytes=_max_arrays(),
        matches=lambda engine: engine.content_hash == f"sha256:{final.name}",
    )
    if engine_model.content_hash != digest:
        raise Conflict(
            "The model's files do not match its content hash: train or upload it again.",
            details={"model_id": model.id},
        )
    loaded.remember(digest, engine_model)
    return engine_model


def active_model(session: Session, project: TextProject) -> TextModelVersion | None:
    return session.scalar(
        select(TextModelVersion).where(
            TextModelVersion.project_id == project.id,
            TextModelVersion.active.is_(True),
            TextModelVersion.status == ModelStatus.READY,
        )
    )


def training_size(model: TextModelVersion) -> int:
    counts = (model.training or {}).get("counts") or {}
    return int(counts.get("train", 0) or 0)
