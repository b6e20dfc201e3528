"""`augury model list|show|create|...`: predictive models on an augury server, through
its API, beside the offline `augury model train|predict` of :mod:`augury.cli.model`.

They talk to the server as the other API groups do (`--url`/AUGURY_URL,
`--api-key`/AUGURY_API_KEY), print a readable table or the API's JSON with `--json`,
and fail the same way: a request the server refuses prints `error: ...` and exits 2; a
server that cannot be reached or fails, a training or batch prediction that fails or is
aborted, and a `--wait` that outlasts `--timeout` exit 1. `--wait` shows the progress
on standard error, so `--json` output stays one document.

The names keep clear of the two file commands: the server trains with `create` (a new
model) and `retrain` (a new version), and predicts with `predict-rows` (rows now) and
`predict-dataset` (a dataset, as a job). Subscriptions are a group of their own
(`augury model subscriptions list|add|pause|resume|cancel`), named by application.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from augury.cli.app import (
    AsJson,
    Limit,
    SignedZip,
    Timeout,
    Wait,
    Yes,
    echo_json,
    out_option,
    progress_printer,
)
from augury.cli.data import DEFAULT_URL, ApiKey, Url, _fail, _server, _size, _table, _when
from augury.cli.model import APPLICATION_NAMES, read_frame, summary_lines
from augury.cli.text_api import _more, _write
from augury.client import JSON, Client

subscriptions_app = typer.Typer(
    no_args_is_help=True,
    help="The organization's subscriptions to applications (only an active one trains).",
)
# Nameless: `augury.cli` adds these commands to `augury model` itself.
model_api_app = typer.Typer()

ModelId = Annotated[int, typer.Argument(metavar="MODEL", help="The model's id.")]
Number = Annotated[int, typer.Argument(metavar="VERSION", help="The version's number.")]
_APPLICATION_HELP = "|".join(APPLICATION_NAMES)


def _progress() -> Callable[[JSON], None]:
    """A version's status and its job's progress at each poll of a wait."""
    return progress_printer(
        lambda v: (f"version {v['number']}", v["status"], (v.get("job") or {}).get("progress"))
    )


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [n.strip() for n in value.split(",") if n.strip()]


def _check_application(application: str | None) -> None:
    if application is not None and application not in APPLICATION_NAMES:
        _fail(f"--application is one of {', '.join(APPLICATION_NAMES)}, not {application!r}")


def _score(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) and not isinstance(value, bool) else ""


def _primary(metrics: JSON | None) -> str:
    """``roc_auc 0.9912 ± 0.0040``: the primary metric's mean and spread, or ''."""
    if not metrics or not metrics.get("primary"):
        return ""
    name = metrics["primary"]
    mean = (metrics.get("mean") or {}).get(name)
    std = (metrics.get("std") or {}).get(name)
    if mean is None:
        return ""
    return f"{name} {_score(mean)}" + (f" ± {_score(std)}" if std is not None else "")


# --- applications, subscriptions, summaries ---------------------------------------------


@model_api_app.command("applications")
def applications(as_json: AsJson = False, url: Url = DEFAULT_URL, api_key: ApiKey = None) -> None:
    """The applications augury offers and whether the organization subscribes to them."""
    with _server(url, api_key) as client:
        apps = client.applications.list()
    if as_json:
        echo_json(apps)
        return
    rows = [
        [
            a["name"],
            a["title"],
            (a.get("subscription") or {}).get("status") or "-",
            ", ".join(a.get("tasks") or []),
        ]
        for a in apps
    ]
    _table(["application", "title", "subscription", "tasks"], rows)


def _subscription_of(client: Client, application: str) -> JSON:
    for sub in client.subscriptions.list():
        if sub["application"] == application:
            return sub
    _fail(f"the organization has no subscription to {application!r} (`subscriptions add`)")


def _subscription_line(sub: JSON) -> str:
    return f"subscription {sub['id']}: {sub['application']} {sub['status']}"


@subscriptions_app.command("list")
def subscriptions_list(
    status: Annotated[
        str | None, typer.Option(help="active, paused or cancelled.", show_default=False)
    ] = None,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """The organization's subscriptions."""
    with _server(url, api_key) as client:
        subs = client.subscriptions.list(status=status)
    if as_json:
        echo_json(subs)
        return
    if not subs:
        typer.echo("no subscriptions (`augury model subscriptions add APPLICATION`)")
        return
    rows = [
        [
            s["id"],
            s["application"],
            s["status"],
            _when(s.get("subscribed_at")),
            _when(s.get("paused_at")),
            _when(s.get("cancelled_at")),
        ]
        for s in subs
    ]
    _table(["id", "application", "status", "subscribed", "paused", "cancelled"], rows, right=[True])


Application = Annotated[str, typer.Argument(metavar=_APPLICATION_HELP, show_default=False)]


def _subscription_command(action: str, doc: str) -> None:
    """``augury model subscriptions ACTION APPLICATION``: the four commands differ only in
    the client call, so one body serves them."""

    def command(
        application: Application,
        as_json: AsJson = False,
        url: Url = DEFAULT_URL,
        api_key: ApiKey = None,
    ) -> None:
        _check_application(application)
        with _server(url, api_key) as client:
            if action == "add":
                sub = client.subscriptions.create(application)
            else:
                found = _subscription_of(client, application)
                sub = getattr(client.subscriptions, action)(found["id"])
        if as_json:
            echo_json(sub)
            return
        typer.echo(_subscription_line(sub))

    command.__doc__ = doc
    subscriptions_app.command(action)(command)


for _action, _doc in (
    ("add", "Subscribe the organization to an application (a cancelled one becomes active again)."),
    ("pause", "Pause a subscription: its models keep predicting but cannot train."),
    ("resume", "Make a paused subscription active again."),
    ("cancel", "Cancel a subscription (`add` subscribes again)."),
):
    _subscription_command(_action, _doc)


@model_api_app.command("summary")
def summary(
    start: Annotated[
        str | None, typer.Option(metavar="DATE", help="From (ISO 8601).", show_default=False)
    ] = None,
    end: Annotated[
        str | None, typer.Option(metavar="DATE", help="Until (ISO 8601).", show_default=False)
    ] = None,
    bucket: Annotated[str | None, typer.Option(help="day (default), week or month.")] = None,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """What each application did: models, versions, predictions, jobs and consumptions."""
    with _server(url, api_key) as client:
        answer = client.applications.summaries(start=start, end=end, bucket=bucket)
    if as_json:
        echo_json(answer)
        return
    counts = answer.get("applications") or {}
    typer.echo(
        "applications: " + ", ".join(f"{k} {v}" for k, v in counts.items())
        if counts
        else "applications: -"
    )
    rows = []
    for a in answer.get("per_application") or []:
        jobs = a.get("jobs") or {}
        use = a.get("consumptions") or {}
        rows.append(
            [
                a["application"],
                a.get("models", 0),
                a.get("versions", 0),
                a.get("predictions", 0),
                a.get("what_ifs", 0),
                ", ".join(f"{k} {v}" for k, v in jobs.items()) or "-",
                f"{use.get('cpu_s') or 0:.1f}",
            ]
        )
    if rows:
        header = ["application", "models", "versions", "predicted rows", "what-ifs", "jobs"]
        _table([*header, "cpu s"], rows, right=[False, True, True, True, True, False, True])
    running = (answer.get("jobs") or {}).get("running")
    if running:
        typer.echo(f"jobs running: {running}")


# --- the registry -----------------------------------------------------------------------


def _headline(metrics: JSON | None) -> str:
    """A model's headline: its current version's primary metric, ``roc_auc 0.9912``."""
    if not metrics or metrics.get("value") is None:
        return ""
    return f"{metrics.get('primary')} {_score(metrics['value'])}"


def _model_line(m: JSON) -> str:
    line = f"model {m['id']} {m['name']!r} ({m.get('application')})"
    if m.get("current_version") is not None:
        line += f", current version {m['current_version']}"
    return line


def _version_line(model_id: int, v: JSON) -> str:
    line = f"model {model_id} version {v['number']}: {v['status']}"
    job = v.get("job") or {}
    if v["status"] in ("queued", "training") and job:
        line += f" {job.get('progress') or 0:.0f}% (job {job.get('id')})"
    if v.get("task"):
        line += f", {v['task']} of {v.get('target')!r}"
    primary = _primary(v.get("metrics"))
    if primary:
        line += f", {primary}"
    return line + (", current" if v.get("current") else "")


@model_api_app.command("list")
def models_list(
    application: Annotated[
        str | None, typer.Option(metavar=_APPLICATION_HELP, show_default=False)
    ] = None,
    search: Annotated[str | None, typer.Option(help="In names.", show_default=False)] = None,
    status: Annotated[
        str | None,
        typer.Option(
            help="The newest version's: queued, training, ready, failed, aborted.",
            show_default=False,
        ),
    ] = None,
    limit: Limit = 50,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """List the organization's models on the server."""
    _check_application(application)
    with _server(url, api_key) as client:
        page = client.models.list(
            application=application, search=search, status=status, limit=limit
        )
    if as_json:
        echo_json(page)
        return
    if not page["items"]:
        typer.echo("no models")
        return
    rows = [
        [
            m["id"],
            m["name"],
            m["application"],
            m.get("status") or "-",
            m.get("task") or "",
            _headline(m.get("metrics")),
            m["current_version"] if m.get("current_version") is not None else "-",
            m.get("latest_version", 0),
            _when(m.get("updated_at")),
        ]
        for m in page["items"]
    ]
    header = ["id", "name", "application", "status", "task", "validation", "current"]
    _table(
        [*header, "versions", "updated"],
        rows,
        right=[True, False, False, False, False, False, True, True],
    )
    _more(page)


@model_api_app.command("show")
def models_show(
    model_id: ModelId,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Show a model and its versions."""
    with _server(url, api_key) as client:
        model = client.models.get(model_id)
        versions = client.models.versions(model_id, limit=100)
    if as_json:
        echo_json({**model, "versions": versions["items"]})
        return
    typer.echo(_model_line(model))
    if model.get("description"):
        typer.echo(f"description: {model['description']}")
    for v in versions["items"]:
        typer.echo("  " + _version_line(model_id, v))


@model_api_app.command("versions")
def models_versions(
    model_id: ModelId,
    limit: Limit = 50,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """List a model's versions: status, task, validation score, size."""
    with _server(url, api_key) as client:
        page = client.models.versions(model_id, limit=limit)
    if as_json:
        echo_json(page)
        return
    if not page["items"]:
        typer.echo("no versions")
        return
    rows = [
        [
            v["number"],
            v["status"],
            v.get("task") or "",
            v.get("target") or "",
            _primary(v.get("metrics")),
            "yes" if v.get("current") else "",
            _size(v.get("size_bytes") or 0) if v.get("size_bytes") else "",
            _when(v.get("created_at")),
        ]
        for v in page["items"]
    ]
    _table(
        ["version", "status", "task", "target", "validation", "current", "size", "created"],
        rows,
        right=[True],
    )
    _more(page)


@model_api_app.command("version")
def models_version(
    model_id: ModelId,
    number: Number,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Show a version in full.

    The task, the excluded columns and why, the validation metrics (mean ± std over the
    folds), the threshold, the confusion matrix and the feature importance."""
    with _server(url, api_key) as client:
        model = client.models.get(model_id)
        version = client.models.version(model_id, number)
    if as_json:
        echo_json(version)
        return
    _echo_version(model, version)


def _echo_version(model: JSON, v: JSON) -> None:
    typer.echo(_version_line(model["id"], v))
    if v.get("error"):
        typer.echo(f"error: {v['error']}")
    if v["status"] != "ready":
        return
    report = v.get("report") or {}
    merged = {**report, **{k: x for k, x in v.items() if x is not None}}
    merged.setdefault("application", model.get("application"))
    for line in summary_lines(merged):
        typer.echo(line)
    dataset = v.get("dataset") or {}
    if dataset:
        typer.echo(
            f"dataset: {dataset.get('id')} {dataset.get('name')!r} version {dataset.get('version')}"
        )
    if v.get("content_hash"):
        seconds = v.get("training_seconds")
        took = f", trained in {seconds:.1f} s" if isinstance(seconds, int | float) else ""
        typer.echo(f"file: {_size(v.get('size_bytes') or 0)}, {v['content_hash']}{took}")


DatasetVersion = Annotated[
    int | None,
    typer.Option(metavar="N", help="The dataset's version (default: newest).", show_default=False),
]
_ColumnsOption = Annotated[
    str | None, typer.Option(metavar="A,B,C", help="Only these feature columns.")
]
_ExcludeOption = Annotated[str | None, typer.Option(metavar="A,B", help="Columns to leave out.")]
_DateOption = Annotated[
    str | None,
    typer.Option(metavar="COLUMN", help="The date column (default: detected).", show_default=False),
]
_SeriesOption = Annotated[
    str | None, typer.Option(metavar="A,B", help="Forecast: the series' columns.")
]


@model_api_app.command("plan")
def models_plan(
    dataset: Annotated[int, typer.Option(metavar="ID", help="The dataset to learn from.")],
    target: Annotated[str, typer.Option(metavar="COLUMN", help="The column to predict.")],
    application: Annotated[str, typer.Option(metavar=_APPLICATION_HELP, help="What to learn.")],
    dataset_version: DatasetVersion = None,
    features: _ColumnsOption = None,
    exclude: _ExcludeOption = None,
    date_column: _DateOption = None,
    series: _SeriesOption = None,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """What training would do, without training.

    The detected task, the features, and the columns left out with the reason."""
    _check_application(application)
    with _server(url, api_key) as client:
        plan = client.models.plan(
            dataset,
            target,
            application,
            version=dataset_version,
            features=_split(features),
            exclude=_split(exclude),
            date_column=date_column,
            series_columns=_split(series),
        )
    if as_json:
        echo_json(plan)
        return
    plan_lines = summary_lines({**plan, "metrics": None})
    # A plan has no validation yet: its lines stop before the metrics.
    for line in plan_lines:
        if line.startswith("validation"):
            break
        typer.echo(line)
    typer.echo("features: " + (", ".join(plan.get("features") or []) or "-"))
    for warning in plan.get("warnings") or []:
        typer.echo(f"warning: {warning}")


def _echo_trained(answer: JSON, wait: bool, as_json: bool) -> None:
    if as_json:
        echo_json(answer)
        return
    model, version = answer["model"], answer["version"]
    if not wait:
        job = answer.get("job") or {}
        typer.echo(
            f"{_model_line(model)}: version {version['number']} {version['status']} "
            f"(job {job.get('id')}; --wait waits for it)"
        )
        return
    _echo_version(model, version)


@model_api_app.command("create")
def models_create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The model's name.")],
    dataset: Annotated[int, typer.Option(metavar="ID", help="The dataset to learn from.")],
    target: Annotated[str, typer.Option(metavar="COLUMN", help="The column to predict.")],
    application: Annotated[str, typer.Option(metavar=_APPLICATION_HELP, help="What to learn.")],
    dataset_version: DatasetVersion = None,
    description: Annotated[str | None, typer.Option(show_default=False)] = None,
    features: _ColumnsOption = None,
    exclude: _ExcludeOption = None,
    date_column: _DateOption = None,
    series: _SeriesOption = None,
    time_budget: Annotated[
        float | None,
        typer.Option(
            "--time-budget", metavar="SECONDS", help="Seconds the search may take (10-3600)."
        ),
    ] = None,
    cost_missed: Annotated[
        float | None, typer.Option(help="Failure: the cost of a missed failure.")
    ] = None,
    cost_false_alarm: Annotated[
        float | None, typer.Option(help="Failure: the cost of a false alarm.")
    ] = None,
    horizon: Annotated[int | None, typer.Option(help="Forecast: steps ahead.")] = None,
    wait: Wait = False,
    timeout: Timeout = 900.0,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Create a model on the server and train it on a dataset.

    Training is a job: --wait waits for it. The application's subscription must be
    active."""
    _check_application(application)
    with _server(url, api_key) as client:
        answer = client.models.create(
            name,
            dataset,
            target,
            application,
            description=description,
            version=dataset_version,
            features=_split(features),
            exclude=_split(exclude),
            date_column=date_column,
            series_columns=_split(series),
            time_budget_s=time_budget,
            cost_missed=cost_missed,
            cost_false_alarm=cost_false_alarm,
            horizon=horizon,
            wait=wait,
            timeout=timeout,
            on_progress=_progress(),
        )
    _echo_trained(answer, wait, as_json)


@model_api_app.command("retrain")
def models_retrain(
    model_id: ModelId,
    dataset: Annotated[
        int | None,
        typer.Option(metavar="ID", help="Another dataset (default: the current version's)."),
    ] = None,
    dataset_version: DatasetVersion = None,
    target: Annotated[
        str | None, typer.Option(metavar="COLUMN", help="Another target column.")
    ] = None,
    features: _ColumnsOption = None,
    exclude: _ExcludeOption = None,
    date_column: _DateOption = None,
    series: _SeriesOption = None,
    time_budget: Annotated[
        float | None, typer.Option("--time-budget", metavar="SECONDS", help="10-3600 seconds.")
    ] = None,
    cost_missed: Annotated[
        float | None, typer.Option(help="Failure: a missed failure's cost.")
    ] = None,
    cost_false_alarm: Annotated[
        float | None, typer.Option(help="Failure: a false alarm's cost.")
    ] = None,
    horizon: Annotated[int | None, typer.Option(help="Forecast: steps ahead.")] = None,
    wait: Wait = False,
    timeout: Timeout = 900.0,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Train a new version of a model.

    On newer data, or with other options; what is not given is the current
    version's."""
    with _server(url, api_key) as client:
        answer = client.models.retrain(
            model_id,
            dataset_id=dataset,
            version=dataset_version,
            target=target,
            features=_split(features),
            exclude=_split(exclude),
            date_column=date_column,
            series_columns=_split(series),
            time_budget_s=time_budget,
            cost_missed=cost_missed,
            cost_false_alarm=cost_false_alarm,
            horizon=horizon,
            wait=wait,
            timeout=timeout,
            on_progress=_progress(),
        )
    _echo_trained(answer, wait, as_json)


@model_api_app.command("compare")
def models_compare(
    model_id: ModelId,
    numbers: Annotated[list[int], typer.Argument(metavar="VERSION...")],
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Compare versions of a model: their validation metrics side by side."""
    with _server(url, api_key) as client:
        compared = client.models.compare(model_id, numbers)
    if as_json:
        echo_json(compared)
        return
    numbers = [v["number"] for v in compared.get("versions") or []]
    header = ["metric", *(f"v{n}" for n in numbers)]
    rows = []
    for name, per_version in (compared.get("metrics") or {}).items():
        cells = []
        for n in numbers:
            m = per_version.get(str(n)) or {}
            mean, std = m.get("mean"), m.get("std")
            cells.append("" if mean is None else f"{_score(mean)} ± {_score(std)}".rstrip(" ±"))
        rows.append([name, *cells])
    _table(header, rows, right=[False] + [True] * len(numbers))


def _version_action(model_id: int, number: int, action: str, as_json: bool, url: str, key: Any):
    with _server(url, key) as client:
        version = getattr(client.models, action)(model_id, number)
    if as_json:
        echo_json(version)
        return
    typer.echo(_version_line(model_id, version))


@model_api_app.command("promote")
def models_promote(
    model_id: ModelId,
    number: Number,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Make a version the model's current one: predictions use it."""
    _version_action(model_id, number, "promote", as_json, url, api_key)


@model_api_app.command("abort")
def models_abort(
    model_id: ModelId,
    number: Number,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Stop a version's training."""
    _version_action(model_id, number, "abort", as_json, url, api_key)


@model_api_app.command("update")
def models_update(
    model_id: ModelId,
    name: Annotated[str | None, typer.Option(help="A new name.", show_default=False)] = None,
    description: Annotated[str | None, typer.Option(show_default=False)] = None,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Rename or describe a model."""
    if name is None and description is None:
        _fail("nothing to change: pass --name or --description")
    with _server(url, api_key) as client:
        model = client.models.update(model_id, name=name, description=description)
    if as_json:
        echo_json(model)
        return
    typer.echo(_model_line(model))


@model_api_app.command("delete")
def models_delete(
    model_id: ModelId,
    version: Annotated[
        int | None,
        typer.Option(metavar="N", help="Delete only this version.", show_default=False),
    ] = None,
    yes: Yes = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Delete a model with its versions and files, or one version (--version)."""
    with _server(url, api_key) as client:
        model = client.models.get(model_id)
        what = _model_line(model) + ("" if version is None else f" version {version}")
        if not yes:
            typer.confirm(f"Delete {what}?", abort=True)
        if version is None:
            client.models.delete(model_id)
        else:
            client.models.delete_version(model_id, version)
    typer.echo(f"{what} deleted")


@model_api_app.command("download")
def models_download(
    model_id: ModelId,
    number: Number,
    out: Annotated[Path | None, out_option("model-ID-vN.zip")] = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Download a version as a zip the server signed.

    `upload` takes it back, on this server."""
    with _server(url, api_key) as client:
        data = client.models.download(model_id, number)
    assert isinstance(data, bytes)  # no path given: the bytes
    _write(data, out, f"model-{model_id}-v{number}.zip")


@model_api_app.command("upload")
def models_upload(
    model_id: ModelId,
    file: SignedZip,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Add a downloaded version back to a model, as its newest version."""
    with _server(url, api_key) as client:
        answer = client.models.upload(model_id, file)
    if as_json:
        echo_json(answer)
        return
    version = answer.get("version", answer)
    typer.echo(f"{_version_line(model_id, version)} (uploaded from {file.name})")


# --- using a model on the server --------------------------------------------------------


def _rows(row: list[str] | None, rows_file: Path | None) -> list[JSON]:
    """The rows to send: ``--row`` JSON objects, then a table file's rows."""
    out: list[JSON] = []
    for text in row or []:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            _fail(f"--row is a JSON object, e.g. '{{\"age\": 42}}' ({exc.msg})")
        if not isinstance(value, dict):
            _fail("--row is a JSON object, e.g. '{\"age\": 42}'")
        out.append(value)
    if rows_file is not None:
        frame = read_frame(rows_file)
        records = json.loads(frame.to_json(orient="records", date_format="iso"))
        out.extend(records)
    if not out:
        _fail("no rows: pass --row JSON (repeat) or --rows FILE")
    return out


def _prediction_cells(p: JSON) -> list[str]:
    prediction = p.get("prediction")
    cells = [_score(prediction) or str(prediction)]
    if p.get("probability"):
        best = max(p["probability"].values())
        cells.append(f"{best:.3f}")
    elif p.get("lower") is not None:
        cells.append(f"{_score(p['lower'])} .. {_score(p['upper'])}")
    else:
        cells.append("")
    return cells


def _contributions(p: JSON, top: int = 3) -> str:
    parts = sorted(p.get("contributions") or [], key=lambda c: -abs(c["contribution"]))[:top]
    return ", ".join(f"{c['feature']} {c['contribution']:+.3f}" for c in parts)


RowOption = Annotated[
    list[str] | None,
    typer.Option("--row", metavar="JSON", help='A row: {"column": value, ...} (repeat).'),
]
RowsFile = Annotated[
    Path | None,
    typer.Option(
        "--rows",
        metavar="FILE",
        help="Rows from a table file (CSV, XLSX, JSON ...).",
        show_default=False,
    ),
]


@model_api_app.command("predict-rows")
def models_predict_rows(
    model_id: ModelId,
    row: RowOption = None,
    rows_file: RowsFile = None,
    version: Annotated[
        int | None,
        typer.Option(metavar="N", help="The model version (default: current).", show_default=False),
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Each feature's contribution too.")
    ] = False,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Predict rows now with a model on the server (nothing is stored)."""
    rows = _rows(row, rows_file)
    with _server(url, api_key) as client:
        answer = client.models.predict(model_id, rows, version=version, explain=explain)
    if as_json:
        echo_json(answer)
        return
    typer.echo(f"model {model_id} version {answer.get('version')} ({answer.get('task')})")
    classifier = any(p.get("probability") for p in answer["predictions"])
    header = ["row", "prediction", "probability" if classifier else "interval"]
    table = [
        [n, *_prediction_cells(p)] + ([_contributions(p)] if explain else [])
        for n, p in enumerate(answer["predictions"])
    ]
    _table(header + (["top contributions"] if explain else []), table, right=[True, True, True])


@model_api_app.command("predict-dataset")
def models_predict_dataset(
    model_id: ModelId,
    dataset: Annotated[int, typer.Option(metavar="ID", help="The dataset to predict.")],
    dataset_version: DatasetVersion = None,
    model_version: Annotated[
        int | None,
        typer.Option(metavar="N", help="The model version (default: current).", show_default=False),
    ] = None,
    output_name: Annotated[
        str | None, typer.Option(help="The output dataset's name.", show_default=False)
    ] = None,
    wait: Wait = False,
    timeout: Timeout = 900.0,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Predict a whole dataset into a new dataset, as a job.

    The output dataset has the input columns plus prediction and probability_<class>,
    or lower and upper."""
    with _server(url, api_key) as client:
        answer = client.models.predict_dataset(
            model_id,
            dataset,
            version=dataset_version,
            model_version=model_version,
            output_name=output_name,
            wait=wait,
            timeout=timeout,
        )
    if as_json:
        echo_json(answer)
        return
    job = answer["job"]
    typer.echo(
        f"job {job['id']}: {job['status']}, model {answer['model_id']} version "
        f"{answer['model_version']} on dataset {answer['dataset_id']} version "
        f"{answer['dataset_version']} into {answer['output_name']!r}"
        + ("" if wait else " (--wait waits for it)")
    )


def _change(text: str) -> JSON:
    """``price=+10%`` (a percentage), ``color=red`` or ``qty=3`` (a value)."""
    column, sep, value = text.partition("=")
    if not sep or not column.strip():
        _fail(f"--change wants COLUMN=+10% or COLUMN=VALUE, not {text!r}")
    value = value.strip()
    if value.endswith("%"):
        try:
            return {"column": column.strip(), "percent": float(value[:-1])}
        except ValueError:
            _fail(f"--change {text!r}: {value!r} is not a percentage")
    try:
        parsed: Any = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    return {"column": column.strip(), "value": parsed}


@model_api_app.command("what-if")
def models_what_if(
    model_id: ModelId,
    change: Annotated[
        list[str],
        typer.Option(
            metavar="COLUMN=+10%|COLUMN=VALUE",
            help="A change (repeat): by a percentage, or to a value.",
        ),
    ],
    row: RowOption = None,
    rows_file: RowsFile = None,
    dataset: Annotated[
        int | None, typer.Option(metavar="ID", help="Rows of this dataset.", show_default=False)
    ] = None,
    dataset_version: Annotated[
        int | None, typer.Option(metavar="N", help="The dataset's version.", show_default=False)
    ] = None,
    indices: Annotated[
        str | None,
        typer.Option(metavar="I,J", help="With --dataset: the rows (0-based).", show_default=False),
    ] = None,
    model_version: Annotated[
        int | None,
        typer.Option(metavar="N", help="The model version (default: current).", show_default=False),
    ] = None,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """How predictions move when columns change, and why.

    Per row the prediction before and after, and each feature's contribution to the
    changed prediction."""
    changes = [_change(c) for c in change]
    if dataset is not None:
        try:
            picked = [int(i) for i in _split(indices) or []]
        except ValueError:
            _fail(f"--indices is a comma list of row numbers, not {indices!r}")
        if not picked:
            _fail("--dataset needs --indices: the rows to change")
        target: dict[str, Any] = {
            "dataset_id": dataset,
            "version": dataset_version,
            "row_indices": picked,
        }
    else:
        target = {"rows": _rows(row, rows_file)}
    with _server(url, api_key) as client:
        answer = client.models.what_if(model_id, changes, model_version=model_version, **target)
    if as_json:
        echo_json(answer)
        return
    table = []
    for n, r in enumerate(answer["rows"]):
        before, after = r["before"], r["after"]
        delta = r.get("delta")
        table.append(
            [
                r.get("index") if r.get("index") is not None else n,
                _prediction_cells(before)[0],
                _prediction_cells(after)[0],
                _score(delta) if delta is not None else "",
                _contributions(r.get("explanation") or {}),
            ]
        )
    _table(["row", "before", "after", "delta", "why (top contributions)"], table, right=[True])
