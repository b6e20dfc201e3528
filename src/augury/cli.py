"""The `augury` command: serve, worker, db, user, keys, outbox, jobs, detect, forecast.

Commands other than `serve` act on the database directly (as the operator of this
machine), so they work before any account exists and without the server running.
`detect` and `forecast` need no database at all: they read a CSV file and write one.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from augury.config import Settings

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="augury: self-hosted AI analytics."
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
user_app = typer.Typer(no_args_is_help=True, help="Users.")
keys_app = typer.Typer(no_args_is_help=True, help="API keys.")
outbox_app = typer.Typer(invoke_without_command=True, help="Mails written to the outbox folder.")
jobs_app = typer.Typer(no_args_is_help=True, help="Background jobs.")
for sub, name in (
    (db_app, "db"),
    (user_app, "user"),
    (keys_app, "keys"),
    (outbox_app, "outbox"),
    (jobs_app, "jobs"),
):
    app.add_typer(sub, name=name)


def _db(settings: Settings):
    from augury.store import migrate
    from augury.store.db import Database

    db = Database(settings.db_url)
    migrate.upgrade(db.engine)
    return db


def _echo_json(obj) -> None:
    typer.echo(json.dumps(obj, indent=2, default=str))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Create the demo account at start.")] = False,
    api_only: Annotated[bool, typer.Option(help="Do not run jobs here (workers do).")] = False,
    workers: Annotated[int, typer.Option(help="HTTP worker processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
):
    """Run the API, the web UI and (unless --api-only) the job runner."""
    import uvicorn

    from augury.app import create_app
    from augury.runtime import logs

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logs.install()  # no credential in any log line (?token= in the access log above all)
    settings = Settings(demo=demo or Settings().demo)
    if api_only:
        settings.jobs.enabled = False
    if warning := settings.resolve_base_url(host, port):
        logging.getLogger("augury").warning(warning)
    if workers > 1:
        typer.echo(
            "several HTTP workers: run `augury serve --api-only` per worker behind a balancer"
        )
    typer.echo(f"augury on http://{host}:{port}  (data: {settings.data_dir.resolve()})")
    if settings.demo:
        from augury.demo import DEMO_EMAIL, DEMO_PASSWORD

        typer.echo(f"demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}")
    # proxy_headers off: uvicorn would believe X-Forwarded-For from any loopback client;
    # augury reads it only from AUGURY_TRUSTED_PROXIES (api/clientip.py).
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=log_level.lower(),
        log_config=logs.uvicorn_log_config(),
        proxy_headers=False,
    )


@app.command()
def worker(
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
):
    """Run the job runner and the metrics stream processor (next to `serve --api-only`)."""
    import signal
    import threading

    from augury.alerts.dispatch import Dispatcher
    from augury.metrics.stream import StreamProcessor
    from augury.runtime import logs
    from augury.runtime.jobs import JobRunner

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logs.install()
    settings = Settings()
    db = _db(settings)
    runner = JobRunner(settings, db)
    processor = StreamProcessor.from_settings(db, settings)
    dispatcher = Dispatcher(db, settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    runner.start()
    processor.start()
    dispatcher.start()
    typer.echo(
        f"worker on {runner.host}: running jobs, metric rollups, detection and alerts "
        "(Ctrl-C to stop)"
    )
    stop.wait()
    dispatcher.stop()
    processor.stop()
    runner.stop()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head"):
    """Migrate the database schema (to the newest revision by default)."""
    from augury.store import migrate
    from augury.store.db import Database

    settings = Settings()
    db = Database(settings.db_url)
    migrate.upgrade(db.engine, revision)
    typer.echo(f"database at {revision}: {settings.db_url.split('@')[-1]}")


@user_app.command("create")
def user_create(
    email: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    org: Annotated[str | None, typer.Option(help="Name of a new organization they own.")] = None,
    org_id: Annotated[int | None, typer.Option(help="Add to this existing organization.")] = None,
    role: Annotated[
        str, typer.Option(help="Role in --org-id: owner, admin, member, viewer.")
    ] = "member",
):
    """Create a user, owner of a new organization or member of an existing one."""
    from augury.accounts import service as accounts_service
    from augury.accounts.models import Membership, Role
    from augury.errors import AuguryError

    settings = Settings()
    db = _db(settings)
    try:
        with db.session() as session:
            user = accounts_service.create_user(
                session=session, settings=settings, email=email, password=password, name=name
            )
            if org_id is not None:
                accounts_service.get_organization(session=session, org_id=org_id)
                session.add(Membership(org_id=org_id, user_id=user.id, role=Role(role)))
                user.default_org_id = org_id
                target = org_id
            else:
                target = accounts_service.create_organization(
                    session=session, owner=user, name=org or f"{name or email}'s organization"
                ).id
            typer.echo(f"user {user.id} {user.email} in organization {target}")
    except (AuguryError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _principal_for(session, email: str, org_id: int | None):
    from augury.accounts import service as accounts_service
    from augury.accounts.models import Membership, Role
    from augury.accounts.principal import Principal

    user = accounts_service.get_user_by_email(session=session, email=email)
    if user is None:
        raise typer.BadParameter(f"no user {email}")
    stmt = select(Membership).where(Membership.user_id == user.id, Membership.disabled_at.is_(None))
    if org_id is not None:
        stmt = stmt.where(Membership.org_id == org_id)
    membership = session.scalars(stmt.order_by(Membership.id)).first()
    if membership is None:
        raise typer.BadParameter(f"{email} is not an active member of that organization")
    return Principal(
        org_id=membership.org_id, user_id=user.id, role=Role(membership.role), email=user.email
    )


@keys_app.command("create")
def keys_create(
    email: Annotated[str, typer.Option(help="The user the key is created for.")],
    name: Annotated[str, typer.Option(help="A name to recognise the key.")] = "cli",
    scope: Annotated[list[str], typer.Option(help="ingest, read, write, admin (repeat).")] = None,
    org_id: Annotated[
        int | None, typer.Option(help="Organization (default: the user's first).")
    ] = None,
):
    """Create an API key and print its secret (shown only once)."""
    from augury.accounts import service as accounts_service
    from augury.errors import AuguryError

    settings = Settings()
    db = _db(settings)
    try:
        with db.session() as session:
            principal = _principal_for(session, email, org_id)
            key, secret = accounts_service.create_api_key(
                session=session, principal=principal, name=name, scopes=scope or ["read"]
            )
            typer.echo(f"key {key.id} ({', '.join(key.scopes)}) in organization {key.org_id}:")
            typer.echo(secret)
    except AuguryError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc


@keys_app.command("list")
def keys_list(org_id: Annotated[int | None, typer.Option(help="Only this organization.")] = None):
    """List API keys (never their secrets)."""
    from augury.accounts.models import ApiKey

    db = _db(Settings())
    with db.session() as session:
        stmt = select(ApiKey).order_by(ApiKey.id)
        if org_id is not None:
            stmt = stmt.where(ApiKey.org_id == org_id)
        for k in session.scalars(stmt):
            state = "revoked" if k.revoked_at else "active"
            typer.echo(
                f"{k.id}\torg {k.org_id}\taug_{k.prefix}_…\t{','.join(k.scopes)}\t{state}\t"
                f"last used {k.last_used_at or 'never'}\t{k.name}"
            )


@keys_app.command("revoke")
def keys_revoke(key_id: int):
    """Revoke an API key."""
    from augury import clock
    from augury.accounts.models import ApiKey

    db = _db(Settings())
    with db.session() as session:
        key = session.get(ApiKey, key_id)
        if key is None:
            typer.echo("no such key", err=True)
            raise typer.Exit(2)
        key.revoked_at = key.revoked_at or clock.now()
    typer.echo(f"key {key_id} revoked")


@outbox_app.callback()
def outbox(ctx: typer.Context):
    """List mails in the outbox (used when no SMTP server is configured)."""
    if ctx.invoked_subcommand is None:
        outbox_list()


@outbox_app.command("list")
def outbox_list():
    """List outbox mails, oldest first."""
    from augury.runtime.mail import read_outbox

    mails = read_outbox(Settings().outbox_dir)
    if not mails:
        typer.echo("outbox is empty")
    for m in mails:
        typer.echo(f"{m['id']}\t{m['date']}\t{m['to']}\t{m['subject']}")


@outbox_app.command("show")
def outbox_show(
    mail_id: Annotated[str, typer.Argument(help="Id from `augury outbox` ('last' works).")],
):
    """Print one outbox mail's text."""
    from augury.runtime.mail import read_outbox

    mails = read_outbox(Settings().outbox_dir)
    found = mails[-1:] if mail_id == "last" else [m for m in mails if m["id"] == mail_id]
    if not found:
        typer.echo("no such mail", err=True)
        raise typer.Exit(2)
    m = found[0]
    typer.echo(f"To: {m['to']}\nSubject: {m['subject']}\nDate: {m['date']}\n\n{m['text']}")


@jobs_app.command("list")
def jobs_list(
    status: Annotated[str | None, typer.Option(help="Comma-separated statuses.")] = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 20,
):
    """List jobs of every organization, newest first."""
    from augury.jobs.models import Job

    db = _db(Settings())
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
def jobs_show(job_id: int):
    """Show one job as JSON."""
    from augury.jobs.models import Job
    from augury.jobs.schemas import JobRead

    db = _db(Settings())
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            typer.echo("no such job", err=True)
            raise typer.Exit(2)
        _echo_json(JobRead.model_validate(job).model_dump(mode="json"))


@jobs_app.command("abort")
def jobs_abort(job_id: int):
    """Ask the runner to abort a job (pending jobs are aborted at once)."""
    from augury.accounts.principal import Principal
    from augury.errors import AuguryError
    from augury.jobs import service as jobs_service
    from augury.jobs.models import Job

    db = _db(Settings())
    try:
        with db.session() as session:
            job = session.get(Job, job_id)
            if job is None:
                raise typer.BadParameter("no such job")
            operator = Principal(org_id=job.org_id, email="cli")
            job = jobs_service.abort(session=session, principal=operator, job_id=job_id)
            typer.echo(f"job {job_id}: {job.status}, abort requested")
    except AuguryError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc


@jobs_app.command("run")
def jobs_run(
    job_type: Annotated[str, typer.Argument(help="A job type, e.g. demo.work.")],
    org_id: Annotated[int, typer.Option(help="Organization the job belongs to.")],
    params: Annotated[str, typer.Option(help="JSON params.")] = "{}",
):
    """Queue a job and run it here until it finishes (no server needed)."""
    from augury.accounts import service as accounts_service
    from augury.errors import AuguryError
    from augury.jobs import service as jobs_service
    from augury.jobs.models import Job
    from augury.runtime.jobs import JobRunner

    try:
        job_params = json.loads(params)
    except ValueError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--params") from exc
    settings = Settings()
    db = _db(settings)
    try:
        with db.session() as session:
            accounts_service.get_organization(session=session, org_id=org_id)
            job_id = jobs_service.create(
                session=session, org_id=org_id, type=job_type, params=job_params
            ).id
    except AuguryError as exc:
        typer.echo(f"error: {exc.message} {exc.details or ''}", err=True)
        raise typer.Exit(2) from exc
    JobRunner(settings, db).run_until_done([job_id], timeout=24 * 3600)
    with db.session() as session:
        job = session.get(Job, job_id)
        typer.echo(
            f"job {job_id}: {job.status} in "
            f"{(job.finished_at - (job.started_at or job.finished_at)).total_seconds():.1f}s, "
            f"cpu {job.cpu_seconds}s, peak {job.peak_memory_mb} MB, disk {job.disk_written_mb} MB"
        )
        if job.status != "succeeded":
            sys.exit(1)


# -- trying augury on a file (no server, no database) ---------------------------------


def _offline_fail(exc: object) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


def _check_out(out: Path) -> None:
    """Fail before the work, not after, when the output cannot be written there."""
    if str(out) != "-" and not out.parent.is_dir():
        raise _offline_fail(f"cannot write {out}: no such directory {out.parent}")


def _write_csv(frame, out: Path) -> None:
    if str(out) == "-":
        frame.to_csv(sys.stdout, index=False)
        return
    try:
        frame.to_csv(out, index=False)
    except OSError as exc:
        raise _offline_fail(f"cannot write {out}: {exc.strerror or exc}") from exc


_DETECT_HELP = (
    "Score every point of a CSV file with augury's streaming anomaly detector.\n\n"
    "Each series is streamed in time order through the same detector as the server, so a "
    "point is scored using only the points before it. Timestamps are unix epoch seconds or "
    "ISO 8601 strings.\n\n"
    "Writes one row per input row, in input order, with columns timestamp,value,"
    "anomaly_score,is_anomaly (series first in long format; score 0-1; is_anomaly 0/1; "
    "timestamp and value as given).\n\n"
    "is_anomaly is 1 only on the point that RAISES an anomaly: the first point whose score "
    "reaches --decision-level; the anomaly then stays open, without new alarms, until the "
    "scores calm down. So each 1 is one anomaly, and the printed summary lists these "
    "raising points (series, timestamp, score, value), highest score first."
)
_FORECAST_HELP = (
    "Forecast every series of a CSV file with augury's automatic forecaster.\n\n"
    "Per series, the sampling interval is the median gap between timestamps; the engine "
    "detects the seasonality, backtests its candidate models on the series' own history "
    "and averages the best ones.\n\n"
    "Writes series,timestamp,forecast,lower_L,upper_L,...,model: HORIZON future timestamps "
    "per series, in the input's format (epoch seconds, or ISO 8601), and prints each "
    "series' model and why it was chosen.\n\n"
    "A series that fails is reported and skipped, the others are still written; the exit "
    "code is then 1."
)


@app.command(no_args_is_help=True, help=_DETECT_HELP)
def detect(
    input_csv: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT.csv",
            help="CSV with columns timestamp,value (one series) or series,timestamp,value.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", metavar="SCORES.csv", help="Scores CSV to write ('-': standard output)."
        ),
    ],
    decision_level: Annotated[
        float, typer.Option(help="Score (0-1] from which an anomaly is raised; higher is calmer.")
    ] = 0.5,
    show: Annotated[int, typer.Option(help="Anomalies to print (highest scores first).")] = 20,
):
    """Score every point of a CSV file with augury's streaming anomaly detector."""
    from augury import offline

    _check_out(out)
    try:
        raw = offline.read_csv(input_csv)
        points = offline.parse_points(raw, default_series=input_csv.stem)
        result = offline.detect_points(points, decision_level=decision_level)
    except offline.InputError as exc:
        raise _offline_fail(exc) from exc
    _write_csv(result.frame, out)
    to_err = str(out) == "-"
    anomalies = result.anomalies
    where = "" if to_err else f"; scores in {out}"
    typer.echo(
        f"{len(result.frame)} points in {result.series_count} series: "
        f"{len(anomalies)} anomalies raised{where}",
        err=to_err,
    )
    if len(anomalies):
        top = anomalies.sort_values("anomaly_score", ascending=False, kind="mergesort")
        top = top.head(max(show, 0))
        typer.echo("series\ttimestamp\tscore\tvalue", err=to_err)
        for row in top.itertuples(index=False):
            typer.echo(
                f"{row.series}\t{row.timestamp}\t{row.anomaly_score:.3f}\t{row.value}",
                err=to_err,
            )
        if len(anomalies) > len(top):
            typer.echo(f"... and {len(anomalies) - len(top)} more (is_anomaly=1)", err=to_err)


@app.command(no_args_is_help=True, help=_FORECAST_HELP)
def forecast(
    input_csv: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT.csv",
            help="CSV with columns series,timestamp,value (or timestamp,value: one series).",
            show_default=False,
        ),
    ],
    horizon: Annotated[int, typer.Option(help="Steps to forecast per series.")],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", metavar="OUT.csv", help="Forecast CSV to write ('-': standard output)."
        ),
    ],
    level: Annotated[
        list[float] | None,
        typer.Option(help="Confidence level in percent (repeat; default 80 and 95)."),
    ] = None,
):
    """Forecast every series of a CSV file with augury's automatic forecaster."""
    from augury import offline

    _check_out(out)
    try:
        levels = offline.check_forecast_options(horizon, level or (80, 95))
        raw = offline.read_csv(input_csv)
        points = offline.parse_points(raw, default_series=input_csv.stem)
        result = offline.forecast_points(points, horizon, levels)
    except offline.InputError as exc:
        raise _offline_fail(exc) from exc
    _write_csv(result.frame, out)
    to_err = str(out) == "-"
    for r in result.reports:
        if r.error is not None:
            typer.echo(f"{r.series}: failed ({r.points} points): {r.error}", err=True)
            continue
        periods = ", ".join(map(str, r.periods)) or "none"
        typer.echo(
            f"{r.series}: {r.model} ({r.points} points every "
            f"{offline.describe_step(r.step_seconds)}, seasonal periods {periods}): {r.reason}",
            err=to_err,
        )
    ok = len(result.reports) - len(result.failed)
    where = "" if to_err else f" to {out}"
    typer.echo(
        f"wrote {len(result.frame)} rows for {ok} of {len(result.reports)} series{where}",
        err=to_err,
    )
    if result.failed:
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
