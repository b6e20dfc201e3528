"""Workflows: check a workflow and queue it as an ``analytics.workflow`` job.

Everything that can be known before the job runs is refused here with a 422, so a
mistake shows on the request rather than as a failed job minutes later: the step graph
(a cycle, a step waiting on a later one or on one that does not exist), each dataset
(found by id or name in the organization, 404 otherwise), and the columns named by the
steps that read a dataset directly. The datasets' newest versions are resolved now and
recorded as the job's input, so the job reads exactly what was there when it was asked
for, even if a new version arrives meanwhile.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from augury.accounts.principal import Principal
from augury.analytics.workflow_schemas import WorkflowCreate
from augury.config import Settings
from augury.datasets import service as datasets_service
from augury.datasets.models import Dataset, DatasetVersion
from augury.engines.ask import workflow as engine
from augury.errors import ValidationFailed
from augury.jobs import service as jobs_service
from augury.jobs.models import Job

JOB_TYPE = "analytics.workflow"
MAX_ROWS = 2_000_000
"""Largest dataset version a workflow reads: the steps hold it in memory (pandas)."""
_TIME_TYPES = ("date", "datetime")


def start(session: Session, principal: Principal, settings: Settings, body: WorkflowCreate) -> Job:
    """Validate ``body`` and queue its job (``POST /api/v1/ai/workflow`` answers 202 with
    it); the datasets it reads are linked to the job as ``input``.

    Raises ``ValidationFailed`` (422, ``details.errors`` as ``[{"loc", "msg", "type"}]``
    like a malformed body) and ``NotFound`` (404, a dataset the organization lacks).
    The route is thin::

        @router.post("/ai/workflow", status_code=202, response_model=JobRead)
        def workflow(body: WorkflowCreate, principal: Writer, session: SessionDep,
                     settings: SettingsDep):
            return workflows.start(session, principal, settings, body)

    and the caller follows the job (``GET /api/v1/jobs/{id}``: progress, logs, result;
    ``/jobs/{id}/datasets``: the datasets it read and saved)."""
    steps = [s.model_dump(mode="json") for s in body.steps]
    index = {s["step"]: i for i, s in enumerate(steps)}
    try:
        nodes = engine.plan(steps, body.data_source)
    except engine.WorkflowError as exc:
        raise _invalid(exc, index) from exc
    sources: dict[str, DatasetVersion] = {}
    for node in nodes:
        if node.source is not None and str(node.source) not in sources:
            sources[str(node.source)] = _version(session, principal.org_id, node.source)
    for node in nodes:
        if node.source is not None:
            _check_columns(session, node, sources[str(node.source)], index)
    job = jobs_service.create(
        session=session,
        org_id=principal.org_id,
        type=JOB_TYPE,
        params={
            "workflow": body.model_dump(mode="json"),
            "sources": {key: v.id for key, v in sources.items()},
        },
        user_id=principal.user_id,
        quotas=settings.quotas,
    )
    for version in {v.id: v for v in sources.values()}.values():
        datasets_service.link_job(session, job.id, version, "input")
    session.flush()
    return job


def _version(session: Session, org_id: int, source: str | int) -> DatasetVersion:
    if isinstance(source, int):
        dataset = datasets_service.get(session=session, org_id=org_id, dataset_id=source)
    else:
        dataset = datasets_service.get_by_name(session=session, org_id=org_id, name=source)
    version = datasets_service.get_version(session=session, dataset=dataset)
    if version.rows > MAX_ROWS:
        raise ValidationFailed(
            f"Dataset '{dataset.name}' has {version.rows} rows; a workflow reads at most "
            f"{MAX_ROWS}.",
            details={"reason": "TOO_MANY_ROWS", "limit": MAX_ROWS},
        )
    return version


def _check_columns(
    session: Session, node: engine.Node, version: DatasetVersion, index: dict[int, int]
) -> None:
    """The columns a step names must be in the dataset it reads, and a step that needs
    time must find a date column (the candidates are listed when it does not)."""
    dataset = session.get(Dataset, version.dataset_id)
    assert dataset is not None
    specs = datasets_service.specs(dataset, version)
    names = [s.name for s in specs]
    loc = ["body", "steps", index[node.step], "parameters"]
    named: list[tuple[str, Any]] = [
        ("time_column", node.params.get("time_column")),
        ("column", node.params.get("column")),
        *(("value_columns", c) for c in node.params.get("value_columns") or []),
    ]
    for field, name in named:
        if name is not None and name not in names:
            raise _error(
                f"step {node.step}: the dataset '{dataset.name}' has no column '{name}'.",
                [*loc, field],
                "unknown_column",
                candidates=names[:100],
            )
    needs_time = node.type != "data_preparation" or node.params.get("time_range") not in (
        None,
        "all",
    )
    # before its profile, a version's dates may still be text the job parses itself
    profiled = version.profile_status == "complete"
    has_time = any(s.type in _TIME_TYPES for s in specs)
    if needs_time and profiled and node.params.get("time_column") is None and not has_time:
        raise _error(
            f"step {node.step}: the dataset '{dataset.name}' has no date column; name one "
            "with 'time_column'.",
            [*loc, "time_column"],
            "no_time_column",
            candidates=names[:100],
        )


def _invalid(exc: engine.WorkflowError, index: dict[int, int]) -> ValidationFailed:
    errors = []
    for p in exc.problems:
        loc: list[Any] = ["body"]
        if p["step"] is not None and p["step"] in index:
            loc += ["steps", index[p["step"]]]
        if p["field"] is not None:
            loc.append(p["field"])
        errors.append({"loc": loc, "msg": p["message"], "type": "workflow"})
    return ValidationFailed(exc.message, details={"errors": errors})


def _error(message: str, loc: list[Any], kind: str, **extra: Any) -> ValidationFailed:
    return ValidationFailed(
        message, details={"errors": [{"loc": loc, "msg": message, "type": kind}], **extra}
    )
