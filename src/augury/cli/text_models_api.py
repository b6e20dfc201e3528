"""`augury text models|analyses|analyze`: a text project's models and analyses on an
augury server, through its API.

They talk to the server as the other `augury text` groups of :mod:`augury.cli.text_api`
do (`--url`/AUGURY_URL, `--api-key`/AUGURY_API_KEY), print a readable table or the
API's JSON with `--json`, and fail the same way: a request the server refuses prints
`error: ...` and exits 2; a server that cannot be reached or fails, a training or
analysis that fails or is aborted, and a `--wait` that outlasts `--timeout` exit 1.

`models_app` and `analyses_app` are groups; `analyze_app` holds the one command
`analyze`, so mounting it without a name puts `augury text analyze` next to `train`
and `predict`. `--wait` shows the progress on standard error, so `--json` output stays
one document.
"""

from __future__ import annotations

import sys
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
from augury.cli.text_api import Project, _column, _count, _excerpt, _more, _write
from augury.client import JSON

models_app = typer.Typer(no_args_is_help=True, help="A text project's trained models.")
analyses_app = typer.Typer(
    no_args_is_help=True, help="A text project's batch analyses and their results."
)
analyze_app = typer.Typer()


def _progress(kind: str) -> Callable[[JSON], None]:
    """A model's or an analysis's status and progress at each poll of a wait."""
    return progress_printer(lambda c: (f"{kind} {c['id']}", c["status"], c.get("progress")))


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _confidence(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


# --- models -----------------------------------------------------------------------------


def _model_line(m: JSON) -> str:
    line = f"model {m['id']} {m['name']!r} version {m['version']} ({m['task']}, {m['status']})"
    if m["score"] is not None:
        line += f": score {m['score']:.3f}"
    return line + (", active" if m["active"] else "")


@models_app.command("list")
def models_list(
    project: Project,
    name: Annotated[
        str | None, typer.Option(help="Only the versions of this name.", show_default=False)
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(help="QUEUED, TRAINING, READY, FAILED or ABORTED.", show_default=False),
    ] = None,
    limit: Limit = 50,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """List the project's model versions, newest first."""
    with _server(url, api_key) as client:
        page = client.text.models.list(
            project, name=name, status=status and status.upper(), limit=limit
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
            m["version"],
            m["status"] if m["status"] != "TRAINING" else f"TRAINING {m['progress']:.0f}%",
            _score(m["score"]),
            "yes" if m["active"] else "",
            len(m["classes"]),
            m["origin"],
            _when(m["created_at"]),
        ]
        for m in page["items"]
    ]
    header = ["id", "name", "version", "status", "score", "active", "classes", "origin", "created"]
    _table(header, rows, right=[True, False, True, False, True, False, True])
    _more(page)


@models_app.command("show")
def models_show(
    model_id: Annotated[int, typer.Argument(metavar="ID")],
    project: Project,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Show a model version: its status, score, classes and how it was trained."""
    with _server(url, api_key) as client:
        model = client.text.models.get(project, model_id)
    if as_json:
        echo_json(model)
        return
    _echo_model(model)


def _echo_model(m: JSON) -> None:
    typer.echo(_model_line(m))
    if m["description"]:
        typer.echo(f"description: {m['description']}")
    if m["status"] in ("QUEUED", "TRAINING"):
        typer.echo(f"progress: {m['progress']:.0f}% (job {m['job_id']})")
    if m["error"]:
        typer.echo(f"error: {m['error']}")
    typer.echo(f"base: {m['base']}, language {m['language']}, {m['origin']}")
    typer.echo(f"classes: {', '.join(m['classes']) or '(none yet)'}")
    if m["metrics"]:
        typer.echo("metrics: " + ", ".join(_metric(k, v) for k, v in m["metrics"].items()))
    if m["content_hash"]:
        typer.echo(f"file: {_size(m['size_bytes'] or 0)}, {m['content_hash']}")
    if m["trained_at"]:
        typer.echo(f"trained: {_when(m['trained_at'])}")


def _metric(name: str, value: Any) -> str:
    return f"{name} {value:.3f}" if isinstance(value, float) else f"{name} {value}"


@models_app.command("train")
def models_train(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    project: Project,
    session: Annotated[
        list[int] | None,
        typer.Option(
            help="A labeled session to learn from (repeat); augury keeps --test-fraction of "
            "its documents to test on.",
            show_default=False,
        ),
    ] = None,
    train_session: Annotated[
        list[int] | None,
        typer.Option(
            help="A session to learn from (repeat; with --test-session).", show_default=False
        ),
    ] = None,
    test_session: Annotated[
        list[int] | None,
        typer.Option(help="A session to test on (repeat).", show_default=False),
    ] = None,
    test_fraction: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of --session documents tested on (default 0.2).",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(help="The split's seed (the same seed, the same split).", show_default=False),
    ] = None,
    language: Annotated[
        str | None, typer.Option(help="The texts' language (default: en).", show_default=False)
    ] = None,
    description: Annotated[str | None, typer.Option(show_default=False)] = None,
    wait: Wait = False,
    timeout: Timeout = 600.0,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Train a model on what people labeled in sessions (a NAME that has versions gets
    the next one). Training is a job: --wait waits for it."""
    with _server(url, api_key) as client:
        model = client.text.models.train(
            project,
            name,
            session_ids=session,
            train_session_ids=train_session,
            test_session_ids=test_session,
            test_fraction=test_fraction,
            seed=seed,
            language=language,
            description=description,
            wait=wait,
            timeout=timeout,
            on_progress=_progress("model"),
        )
    if as_json:
        echo_json(model)
        return
    if not wait:
        typer.echo(f"{_model_line(model)} queued (job {model['job_id']}; --wait waits for it)")
        return
    _echo_model(model)


@models_app.command("report")
def models_report(
    model_id: Annotated[int, typer.Argument(metavar="ID")],
    project: Project,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """How a model did on its test set: scores per class, the confusions, and the
    examples it got most wrong."""
    with _server(url, api_key) as client:
        report = client.text.models.report(project, model_id)
    if as_json:
        echo_json(report)
        return
    metrics = report.get("metrics") or {}
    typer.echo(
        f"model {model_id}: "
        + (", ".join(_metric(k, v) for k, v in metrics.items()) or "no test score")
    )
    per_class = report.get("per_class") or {}
    if per_class:
        typer.echo("")
        rows = [
            [name, _score(s["precision"]), _score(s["recall"]), _score(s["f1"]), s["support"]]
            for name, s in per_class.items()
        ]
        _table(
            ["class", "precision", "recall", "f1", "support"],
            rows,
            right=[False, True, True, True, True],
        )
    _echo_confusion(report.get("classes") or [], report.get("confusion"))
    worst = report.get("worst") or []
    if worst:
        typer.echo("")
        rows = [
            [
                _excerpt(w["text"], 50),
                _cell_names(w["truth"]),
                _cell_names(w["predicted"]),
                _confidence(w["confidence"]),
            ]
            for w in worst
        ]
        _table(
            ["text", "truth", "predicted", "confidence"], rows, right=[False, False, False, True]
        )


def _cell_names(value: Any) -> str:
    """A class name, or several names (multi-label) joined with commas."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _echo_confusion(classes: list[str], confusion: Any) -> None:
    """A single-label model's matrix (rows: truth, columns: predicted), or a multi-label
    model's true and false positives and negatives per label."""
    if not confusion:
        return
    typer.echo("")
    if isinstance(confusion, dict):
        rows = [[name, c["tp"], c["fp"], c["fn"]] for name, c in confusion.items()]
        _table(["label", "tp", "fp", "fn"], rows, right=[False, True, True, True])
        return
    rows = [[truth, *counts] for truth, counts in zip(classes, confusion, strict=False)]
    _table(["truth \\ predicted", *classes], rows, right=[False] + [True] * len(classes))


@models_app.command("compare")
def models_compare(
    model_ids: Annotated[list[int], typer.Argument(metavar="ID...")],
    project: Project,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Compare model versions: their scores, and each class's F1 side by side."""
    with _server(url, api_key) as client:
        compared = client.text.models.compare(project, model_ids)
    if as_json:
        echo_json(compared)
        return
    models = compared["models"]
    header = ["", *(f"{m['name']} v{m['version']} ({m['id']})" for m in models)]
    rows = [["score", *(_score(m["score"]) for m in models)]]
    for name in compared["classes"]:
        f1 = compared["per_class"].get(name, {})
        rows.append([name, *(_score(f1.get(str(m["id"]))) for m in models)])
    _table(header, rows, right=[False] + [True] * len(models))


@models_app.command("promote")
def models_promote(
    model_id: Annotated[int, typer.Argument(metavar="ID")],
    project: Project,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Make a model version the project's active model: analyses and correction
    sessions that name none use it."""
    with _server(url, api_key) as client:
        model = client.text.models.promote(project, model_id)
    if as_json:
        echo_json(model)
        return
    typer.echo(f"{_model_line(model)}: the project's active model now")


@models_app.command("abort")
def models_abort(
    model_id: Annotated[int, typer.Argument(metavar="ID")],
    project: Project,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Stop a model's training."""
    with _server(url, api_key) as client:
        model = client.text.models.abort(project, model_id)
    if as_json:
        echo_json(model)
        return
    typer.echo(_model_line(model))


@models_app.command("download")
def models_download(
    model_id: Annotated[int, typer.Argument(metavar="ID")],
    project: Project,
    out: Annotated[Path | None, out_option("model-ID.zip")] = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Download a model version as a zip signed by the server (`upload` takes it back,
    on this server)."""
    with _server(url, api_key) as client:
        data = client.text.models.download(project, model_id)
    assert isinstance(data, bytes)  # no path given: the bytes
    _write(data, out, f"model-{model_id}.zip")


@models_app.command("upload")
def models_upload(
    file: SignedZip,
    project: Project,
    name: Annotated[str, typer.Option(help="The model's name in this project.")],
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Add a downloaded model to a project of the same type and classes."""
    with _server(url, api_key) as client:
        model = client.text.models.upload(project, file, name)
    if as_json:
        echo_json(model)
        return
    typer.echo(f"{_model_line(model)} uploaded from {file.name}")


@models_app.command("delete")
def models_delete(
    model_id: Annotated[int, typer.Argument(metavar="ID")],
    project: Project,
    yes: Yes = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Delete a model version and its files."""
    with _server(url, api_key) as client:
        model = client.text.models.get(project, model_id)
        if not yes:
            active = " (the project's active model)" if model["active"] else ""
            typer.confirm(f"Delete {_model_line(model)}{active}?", abort=True)
        client.text.models.delete(project, model_id, confirm=True)
    typer.echo(f"{_model_line(model)} deleted")


# --- ad-hoc analysis --------------------------------------------------------------------


def _tag_words(tag: JSON) -> str:
    return "/".join(str(tag[k]) for k in ("class", "label") if tag.get(k))


def _tags(tags: list[JSON]) -> str:
    """Each tag as class/label with its confidence: ``billing 0.91, food/POS 0.77``."""
    return ", ".join(f"{_tag_words(t)} {_confidence(t.get('confidence'))}".rstrip() for t in tags)


@analyze_app.command("analyze", no_args_is_help=True)
def analyze(
    project: Annotated[int, typer.Argument(metavar="PROJECT", help="The project's id.")],
    texts: Annotated[
        list[str],
        typer.Argument(
            metavar="TEXT...", help="Documents to analyze ('-': one a line from standard input)."
        ),
    ],
    model: Annotated[
        int | None,
        typer.Option(
            metavar="ID",
            help="A READY model of the project (default: its active model, else zero-shot).",
            show_default=False,
        ),
    ] = None,
    segmentation: Annotated[
        str | None,
        typer.Option(
            help="sentence, paragraph or none (default: the project's).", show_default=False
        ),
    ] = None,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Analyze up to 100 texts now with a project's model; nothing is stored.

    Prints each segment with its tags and their confidence."""
    if texts == ["-"]:
        texts = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    with _server(url, api_key) as client:
        answer = client.text.analyses.analyze(
            project, texts, model_id=model, segmentation=segmentation
        )
    if as_json:
        echo_json(answer)
        return
    used = answer["model"]
    which = f"model {used['id']} {used['name']!r}" if used["id"] is not None else repr(used["name"])
    typer.echo(f"{which} ({used['kind']}, {answer['type']})")
    rows = [
        [n, _excerpt(s["text"]), _tags(s["tags"]) or "-", _confidence(s["confidence"])]
        for n, doc in enumerate(answer["documents"], 1)
        for s in doc["segments"]
    ]
    _table(["doc", "segment", "tags", "confidence"], rows, right=[True, False, False, True])


# --- batch analyses ---------------------------------------------------------------------


def _analysis_line(a: JSON) -> str:
    line = f"analysis {a['id']} {a['name']!r} ({a['status']}"
    if a["status"] in ("QUEUED", "RUNNING"):
        line += f" {a['progress']:.0f}%"
    return (
        line + f"): {_count(a['document_count'], 'document')}, "
        f"{_count(a['segment_count'], 'segment')}, {a['review_count']} sent to review"
    )


def _source(source: JSON) -> str:
    """Where an analysis read its texts: ``group 3``, ``file reviews.csv, column 'text'``,
    ``dataset 4 version 2, column 'body'``."""
    if source.get("group_id") is not None:
        return f"group {source['group_id']}"
    if source.get("dataset_id") is not None:
        where = f"dataset {source['dataset_id']} version {source.get('version')}"
    else:
        where = f"file {source.get('file_name') or source.get('file_id')}"
    return where + (f", column {source['column']!r}" if source.get("column") else "")


@analyses_app.command("list")
def analyses_list(
    project: Project,
    model: Annotated[
        int | None, typer.Option(metavar="ID", help="Only this model's.", show_default=False)
    ] = None,
    limit: Limit = 50,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """List the project's batch analyses, newest first."""
    with _server(url, api_key) as client:
        page = client.text.analyses.list(project, model_id=model, limit=limit)
    if as_json:
        echo_json(page)
        return
    if not page["items"]:
        typer.echo("no analyses")
        return
    rows = [
        [
            a["id"],
            a["name"],
            a["status"],
            f"{a['progress']:.0f}%",
            a["model_label"],
            _source(a["source"]),
            a["document_count"],
            a["segment_count"],
            a["review_count"],
            _when(a["created_at"]),
        ]
        for a in page["items"]
    ]
    header = [
        "id",
        "name",
        "status",
        "progress",
        "model",
        "source",
        "documents",
        "segments",
        "review",
        "created",
    ]
    _table(header, rows, right=[True, False, False, True, False, False, True, True, True])
    _more(page)


@analyses_app.command("create")
def analyses_create(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    project: Project,
    group: Annotated[
        int | None,
        typer.Option(metavar="ID", help="Analyze a group's documents.", show_default=False),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Analyze a file's column (CSV, TSV, JSON, JSONL, XLSX ...): its rows become "
            "documents of the project.",
            exists=True,
            dir_okay=False,
            readable=True,
            show_default=False,
        ),
    ] = None,
    dataset: Annotated[
        int | None,
        typer.Option(metavar="ID", help="Analyze a dataset's column.", show_default=False),
    ] = None,
    version: Annotated[
        int | None,
        typer.Option(help="The dataset's version (default: its latest).", show_default=False),
    ] = None,
    column: Annotated[
        str | None,
        typer.Option(
            help="The column of the texts, by name or 0-based index (a file: default 'text', "
            "or its only one).",
            show_default=False,
        ),
    ] = None,
    id_column: Annotated[
        str | None, typer.Option(help="A column of your own document ids.", show_default=False)
    ] = None,
    time_column: Annotated[
        str | None,
        typer.Option(
            help="A column of dates the results are counted by over time.", show_default=False
        ),
    ] = None,
    model: Annotated[
        int | None,
        typer.Option(
            metavar="ID",
            help="The model (default: the project's active one, else zero-shot).",
            show_default=False,
        ),
    ] = None,
    segmentation: Annotated[
        str | None,
        typer.Option(
            help="sentence, paragraph or none (default: the project's).", show_default=False
        ),
    ] = None,
    review: Annotated[
        bool,
        typer.Option(
            "--review/--no-review",
            help="Send low-confidence results to the project's review queue, when it has one.",
        ),
    ] = True,
    wait: Wait = False,
    timeout: Timeout = 600.0,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Analyze a group's documents, or a file's or a dataset's column, as a job (--wait
    waits for it); the results stay to be listed, counted and exported."""
    if sum(x is not None for x in (group, file, dataset)) != 1:
        _fail("pass one of --group, --file or --dataset")
    options: dict[str, Any] = {
        "model_id": model,
        "segmentation": segmentation,
        "time_column": time_column,
        "review": review,
        "wait": wait,
        "timeout": timeout,
        "on_progress": _progress("analysis"),
    }
    with _server(url, api_key) as client:
        if file is not None:
            preview = client.text.files.upload(project, file)
            columns = preview["columns"]
            analysis = client.text.analyses.create(
                project,
                name,
                file_id=preview["id"],
                column=_column(columns, column),
                id_column=None if id_column is None else _column(columns, id_column),
                **options,
            )
        else:
            analysis = client.text.analyses.create(
                project,
                name,
                group_id=group,
                dataset_id=dataset,
                version=version,
                column=column,
                id_column=id_column,
                **options,
            )
    if as_json:
        echo_json(analysis)
        return
    if not wait:
        typer.echo(f"{_analysis_line(analysis)}; job {analysis['job_id']} (--wait waits for it)")
        return
    typer.echo(_analysis_line(analysis))


@analyses_app.command("show")
def analyses_show(
    analysis_id: Annotated[int, typer.Argument(metavar="ID")],
    project: Project,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Show an analysis: its status, model, source and, once done, how many results
    each class (and label) has."""
    with _server(url, api_key) as client:
        analysis = client.text.analyses.get(project, analysis_id)
        done = analysis["status"] == "SUCCEEDED"
        counts = client.text.analyses.aggregates(project, analysis_id) if done else None
    if as_json:
        echo_json({"analysis": analysis, "aggregates": counts})
        return
    typer.echo(_analysis_line(analysis))
    typer.echo(f"model: {analysis['model_label']}")
    typer.echo(f"source: {_source(analysis['source'])}")
    if analysis["error"]:
        typer.echo(f"error: {analysis['error']}")
    if counts and counts["totals"]:
        typer.echo("")
        _totals_table(counts["totals"])


def _totals_table(totals: list[JSON]) -> None:
    """Results per class, and per label (ABSA: sentiment) when the project has them."""
    if any(t["label"] is not None for t in totals):
        rows = [[t["class"], t["label"], t["count"]] for t in totals]
        _table(["class", "label", "results"], rows, right=[False, False, True])
    else:
        _table(
            ["class", "results"], [[t["class"], t["count"]] for t in totals], right=[False, True]
        )


@analyses_app.command("results")
def analyses_results(
    analysis_id: Annotated[int, typer.Argument(metavar="ID")],
    project: Project,
    class_: Annotated[
        list[str] | None,
        typer.Option(
            "--class", help="Only results with this class (name or id; repeat).", show_default=False
        ),
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option(help="Only results with this label (name or id; repeat).", show_default=False),
    ] = None,
    min_confidence: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, show_default=False)
    ] = None,
    max_confidence: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, show_default=False)
    ] = None,
    search: Annotated[
        str | None, typer.Option(help="Words the segment contains.", show_default=False)
    ] = None,
    limit: Limit = 50,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """List an analysis's results: each segment with its tags and confidence."""
    with _server(url, api_key) as client:
        page = client.text.analyses.results(
            project,
            analysis_id,
            classes=class_,
            labels=label,
            min_confidence=min_confidence,
            max_confidence=max_confidence,
            q=search,
            limit=limit,
        )
    if as_json:
        echo_json(page)
        return
    if not page["items"]:
        typer.echo("no results")
        return
    rows = [
        [
            r["document_id"],
            _excerpt(r["text"]),
            _tags(r["tags"]) or "-",
            _confidence(r["confidence"]),
        ]
        for r in page["items"]
    ]
    _table(["document", "segment", "tags", "confidence"], rows, right=[True, False, False, True])
    _more(page)


@analyses_app.command("export")
def analyses_export(
    analysis_id: Annotated[int, typer.Argument(metavar="ID")],
    project: Project,
    format: Annotated[str, typer.Option(help="csv, jsonl or xlsx.")] = "csv",
    out: Annotated[Path | None, out_option("analysis-ID.FORMAT")] = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Export an analysis's results as a file."""
    with _server(url, api_key) as client:
        data = client.text.analyses.export(project, analysis_id, format)
    assert isinstance(data, bytes)  # no path given: the bytes
    _write(data, out, f"analysis-{analysis_id}.{format}")


@analyses_app.command("abort")
def analyses_abort(
    analysis_id: Annotated[int, typer.Argument(metavar="ID")],
    project: Project,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Stop a queued or running analysis; what it wrote goes."""
    with _server(url, api_key) as client:
        analysis = client.text.analyses.abort(project, analysis_id)
    if as_json:
        echo_json(analysis)
        return
    typer.echo(_analysis_line(analysis))


@analyses_app.command("delete")
def analyses_delete(
    analysis_id: Annotated[int, typer.Argument(metavar="ID")],
    project: Project,
    yes: Yes = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Delete an analysis and its results (the documents it added stay)."""
    with _server(url, api_key) as client:
        analysis = client.text.analyses.get(project, analysis_id)
        if not yes:
            typer.confirm(f"Delete {_analysis_line(analysis)}?", abort=True)
        client.text.analyses.delete(project, analysis_id)
    typer.echo(f"analysis {analysis['id']} {analysis['name']!r} deleted")
