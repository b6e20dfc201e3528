"""`augury jobs`: background jobs of every organization, seen and run by the operator."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from sqlalchemy import select

from augury.cli.app import echo_json, open_db
from augury.config import Settings

jobs_app = typer.Typer(no_args_is_help=True, help="Background jobs.")


@jobs_app.command("list")
def jobs_list(
    status: Annotated[str | None, typer.Option(help="Comma-separated statuses.")] = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 20,
) -> None:
    """List jobs of every organization, newest first."""
    from augury.jobs.models import Job

    db = open_db(Settings())
    with db.session() as session:
        stmt = select(Job).order_by(Job.id.desc()).limit(limit)
        if status:
            stmt = stmt.where(Job.status.in_(status.split(",")))
        for j in session.scalars(stmt):
            typer.echo(
                f"{j.id}\torg {j.org_id}\t{j.type}\t{j.status}\t{j.progress:.0f}%\t"
                f"cpu {j.cpu_seconds or 0:.2f}s\tmem {j.peak_memory_mb or 0:.0f}MB\t"
                f"{j.message or ''}"
            )


@jobs_app.command("show")
def jobs_show(job_id: int) -> None:
    """Show one job as JSON."""
    from augury.jobs.models import Job
    from augury.jobs.schemas import JobRead

    db = open_db(Settings())
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            typer.echo("no such job", err=True)
            raise typer.Exit(2)
        echo_json(JobRead.model_validate(job).model_dump(mode="json"))


@jobs_app.command("abort")
def jobs_abort(job_id: int) -> None:
    """Ask the runner to abort a job (pending jobs are aborted at once)."""
    from augury.accounts.principal import Principal
    from augury.errors import AuguryError
    from augury.jobs import service as jobs_service
    from augury.jobs.models import Job

    db = open_db(Settings())
    try:
        with db.session() as session:
            job = session.get(Job, job_id)
            if job is None:
                raise typer.BadParameter("no such job")
            operator = Principal(org_id=job.org_id, email="cli")
            job = jobs_service.abort(session=session, principal=operator, job=job)
            typer.echo(f"job {job_id}: {job.status}, abort requested")
    except AuguryError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc


@jobs_app.command("run")
def jobs_run(
    job_type: Annotated[str, typer.Argument(help="A job type, e.g. demo.work.")],
    org_id: Annotated[int, typer.Option(help="Organization the job belongs to.")],
    params: Annotated[str, typer.Option(help="JSON params.")] = "{}",
) -> None:
    """Queue a job and run it here until it finishes (no server needed)."""
    from augury.accounts import organizations
    from augury.errors import AuguryError
    from augury.jobs import service as jobs_service
    from augury.jobs.models import Job
    from augury.runtime.jobs import JobRunner

    try:
        job_params = json.loads(params)
    except ValueError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--params") from exc
    settings = Settings()
    db = open_db(settings)
    try:
        with db.session() as session:
            organizations.get_organization(session=session, org_id=org_id)
            job_id = jobs_service.create(
                session=session, org_id=org_id, type=job_type, params=job_params
            ).id
    except AuguryError as exc:
        typer.echo(f"error: {exc.message} {exc.details or ''}", err=True)
        raise typer.Exit(2) from exc
    JobRunner(settings, db).run_until_done([job_id], timeout=24 * 3600)
    with db.session() as session:
        job = session.get(Job, job_id)
        # run_until_done returns once the job has finished (or the day is over)
        assert job is not None and job.finished_at is not None, f"job {job_id} not finished"
        elapsed = job.finished_at - (job.started_at or job.finished_at)
        typer.echo(
            f"job {job_id}: {job.status} in {elapsed.total_seconds():.1f}s, "
            f"cpu {job.cpu_seconds}s, peak {job.peak_memory_mb} MB, disk {job.disk_written_mb} MB"
        )
        if job.status != "succeeded":
            sys.exit(1)
