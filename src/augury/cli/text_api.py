"""`augury text projects|classes|labels|documents|sessions`: text projects on an augury
server, through its API.

Like `augury data`, these talk to a server (`--url`, or AUGURY_URL) with an API key
(`--api-key`, or AUGURY_API_KEY), so the key's role and scopes apply; they print a
readable table, or the API's JSON with `--json`. A request the server refuses prints
`error: ...` and exits 2; a server that cannot be reached or fails, and an upload job
that fails, exit 1.

The groups are Typer apps (`projects_app`, `classes_app`, `labels_app`,
`documents_app`, `sessions_app`) that `augury.cli.text` mounts under `augury text`,
next to the file commands that need no server.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from augury.cli.app import AsJson, Limit, Yes, echo_json, out_option
from augury.cli.data import (
    DEFAULT_URL,
    ApiKey,
    Url,
    _cell,
    _fail,
    _server,
    _size,
    _table,
    _when,
)
from augury.client import JSON, Client, ConflictError, TextClasses, TextLabels

projects_app = typer.Typer(no_args_is_help=True, help="Text projects on an augury server.")
classes_app = typer.Typer(no_args_is_help=True, help="A text project's classes.")
labels_app = typer.Typer(no_args_is_help=True, help="A text project's labels.")
documents_app = typer.Typer(no_args_is_help=True, help="A text project's documents.")
sessions_app = typer.Typer(no_args_is_help=True, help="A text project's labeling sessions.")

Project = Annotated[
    int, typer.Option("--project", "-p", metavar="ID", help="The project.", show_default=False)
]


def _more(page: JSON) -> None:
    if page["has_more"]:
        typer.echo(f"... {page['total'] - len(page['items'])} more (--limit)")


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _excerpt(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _write(data: bytes, out: Path | None, default: str) -> None:
    """Bytes to standard output (``-``) or a file (default: ``default``, here)."""
    if out is not None and str(out) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    target = out or Path(default)
    if target.is_dir():
        target /= default
    try:
        target.write_bytes(data)
    except OSError as exc:
        _fail(f"cannot write {target}: {exc.strerror or exc}")
    typer.echo(f"wrote {target} ({_size(len(data))})")


# --- projects ---------------------------------------------------------------------------


def _project_line(p: JSON) -> str:
    return f"project {p['id']} {p['name']!r} ({p['type']})"


@projects_app.command("list")
def projects_list(
    search: Annotated[
        str | None,
        typer.Option(help="Words of the name or description.", show_default=False),
    ] = None,
    type: Annotated[
        str | None, typer.Option(help="CLASS, LABEL, CLASSLABEL or ABSA.", show_default=False)
    ] = None,
    limit: Limit = 50,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """List the organization's text projects, most recently changed first."""
    with _server(url, api_key) as client:
        page = client.text.projects.list(search, type=type and type.upper(), limit=limit)
    if as_json:
        echo_json(page)
        return
    if not page["items"]:
        typer.echo("no projects")
        return
    rows = [
        [
            p["id"],
            p["name"],
            p["type"],
            p["document_count"],
            p["class_count"],
            p["label_count"],
            p["session_count"],
            p["role"],
            _when(p["updated_at"]),
        ]
        for p in page["items"]
    ]
    header = ["id", "name", "type", "documents", "classes", "labels", "sessions", "role", "updated"]
    _table(header, rows, right=[True, False, False, True, True, True, True])
    _more(page)


@projects_app.command("create")
def projects_create(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    type: Annotated[
        str,
        typer.Option(
            help="CLASS (one class a segment), LABEL (any labels), CLASSLABEL (class and "
            "label pairs) or ABSA (aspects with the sentiments POS, NEG, NEU, CONFLICT)."
        ),
    ] = "CLASS",
    description: Annotated[str | None, typer.Option(show_default=False)] = None,
    language: Annotated[
        str | None, typer.Option(help="The documents' language (default: en).", show_default=False)
    ] = None,
    segmentation: Annotated[
        str | None,
        typer.Option(
            help="How documents are split: sentence (default), paragraph or none.",
            show_default=False,
        ),
    ] = None,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Create a text project."""
    with _server(url, api_key) as client:
        project = client.text.projects.create(
            name,
            type.upper(),
            description=description,
            language=language,
            segmentation=segmentation,
        )
    if as_json:
        echo_json(project)
        return
    typer.echo(f"{_project_line(project)} created")


@projects_app.command("show")
def projects_show(
    project_id: Annotated[int, typer.Argument(metavar="ID")],
    as_json: Annotated[
        bool, typer.Option("--json", help="The project, its classes and labels as JSON.")
    ] = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Show a project: its settings, counts, your role, its classes and labels."""
    with _server(url, api_key) as client:
        project = client.text.projects.get(project_id)
        classes = list(client.text.classes.iter(project_id))
        labels = list(client.text.labels.iter(project_id))
    if as_json:
        echo_json({"project": project, "classes": classes, "labels": labels})
        return
    typer.echo(
        f"{_project_line(project)}: language {project['language']}, "
        f"segmentation {project['segmentation']}, your role {project['role']}"
    )
    if project["description"]:
        typer.echo(f"description: {project['description']}")
    typer.echo(
        f"{_count(project['document_count'], 'document')}, "
        f"{_count(project['class_count'], 'class', 'classes')}, "
        f"{_count(project['label_count'], 'label')}, "
        f"{_count(project['session_count'], 'session')}"
    )
    for title, entries in (("class", classes), ("label", labels)):
        if entries:
            typer.echo("")
            _vocabulary_table(entries, title)


@projects_app.command("delete")
def projects_delete(
    project_id: Annotated[int, typer.Argument(metavar="ID")],
    yes: Yes = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Delete a project with its documents, sessions and models."""
    with _server(url, api_key) as client:
        project = client.text.projects.get(project_id)
        if not yes:
            try:  # unconfirmed, the server refuses and counts what would go
                client.text.projects.delete(project_id)
            except ConflictError as exc:
                gone = exc.details
                typer.confirm(
                    f"Delete {_project_line(project)} with "
                    f"{_count(gone['documents'], 'document')}, "
                    f"{_count(gone['sessions'], 'session')}, "
                    f"{_count(gone['classes'], 'class', 'classes')}, "
                    f"{_count(gone['labels'], 'label')} and "
                    f"{_count(gone['groups'], 'group')}?",
                    abort=True,
                )
        client.text.projects.delete(project_id, confirm=True)
    typer.echo(f"{_project_line(project)} deleted")


@projects_app.command("export")
def projects_export(
    project_id: Annotated[int, typer.Argument(metavar="ID")],
    format: Annotated[str, typer.Option(help="csv, jsonl or xlsx.")] = "csv",
    session: Annotated[
        int | None, typer.Option(help="Only this session's tags.", show_default=False)
    ] = None,
    out: Annotated[Path | None, out_option("project-ID-labels.FORMAT")] = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Export the project's labeled data: one row per segment and tag (docs/text.md)."""
    with _server(url, api_key) as client:
        data = client.text.projects.export(project_id, format, session_id=session)
    assert isinstance(data, bytes)  # no path given: the bytes
    _write(data, out, f"project-{project_id}-labels.{format}")


@projects_app.command("import")
def projects_import(
    project_id: Annotated[int, typer.Argument(metavar="ID")],
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="Labeled data as `export` writes it (csv, jsonl or xlsx).",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    name: Annotated[
        str | None,
        typer.Option(help="The session's name when the file names none.", show_default=False),
    ] = None,
    create_missing: Annotated[
        bool,
        typer.Option("--create-missing", help="Create the classes and labels the project lacks."),
    ] = False,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Import labeled data: an IMPORT session for each session the file names."""
    with _server(url, api_key) as client:
        answer = client.text.projects.import_file(
            project_id, file, name=name, create_missing=create_missing
        )
    if as_json:
        echo_json(answer)
        return
    typer.echo(
        f"imported {file.name}: {_count(answer['documents_created'], 'new document')}, "
        f"{answer['documents_reused']} already in the project, "
        f"{_count(answer['annotations'], 'annotation')}"
    )
    for what in ("classes", "labels"):
        if answer[f"{what}_created"]:
            typer.echo(f"new {what}: {', '.join(answer[f'{what}_created'])}")
    if answer["ignored_columns"]:
        typer.echo(f"ignored columns: {', '.join(answer['ignored_columns'])}")
    for s in answer["sessions"]:
        typer.echo(
            f"session {s['id']} {s['name']!r}: {_count(s['document_count'], 'document')}, "
            f"{_count(s['annotation_count'], 'annotation')}"
        )


# --- classes and labels -----------------------------------------------------------------


def _vocabulary_table(entries: list[JSON], title: str = "name") -> None:
    rows = [[e["id"], e["name"], e["description"], "; ".join(e["examples"])] for e in entries]
    _table(["id", title, "description", "examples"], rows, right=[True])


def _vocabulary_commands(app: typer.Typer, kind: str) -> None:
    """`list`, `add` and `upload` on ``app``, for ``kind``: classes or labels.

    The module's ``from __future__ import annotations`` makes Typer read the parameters'
    annotations in the module's namespace, so they name nothing of this function's."""
    one = "class" if kind == "classes" else "label"

    def group(client: Client) -> TextClasses | TextLabels:
        return client.text.classes if kind == "classes" else client.text.labels

    @app.command("list", help=f"List the project's {kind}, in display order.")
    def vocabulary_list(
        project: Project,
        as_json: AsJson = False,
        url: Url = DEFAULT_URL,
        api_key: ApiKey = None,
    ) -> None:
        with _server(url, api_key) as client:
            entries = list(group(client).iter(project))
        if as_json:
            echo_json(entries)
            return
        if not entries:
            typer.echo(f"no {kind}")
            return
        _vocabulary_table(entries, one)

    @app.command(
        "add", help=f"Add {kind}, all or none (a name the project has already is refused)."
    )
    def vocabulary_add(
        names: Annotated[list[str], typer.Argument(metavar="NAME...")],
        project: Project,
        description: Annotated[
            str | None,
            typer.Option(help="What it means (with one NAME).", show_default=False),
        ] = None,
        example: Annotated[
            list[str] | None,
            typer.Option(help="An example text (repeat; with one NAME).", show_default=False),
        ] = None,
        as_json: AsJson = False,
        url: Url = DEFAULT_URL,
        api_key: ApiKey = None,
    ) -> None:
        if len(names) > 1 and (description is not None or example):
            _fail("--description and --example describe one NAME; add the others apart")
        first: JSON = {"name": names[0]}
        if description is not None:
            first["description"] = description
        if example:
            first["examples"] = example
        with _server(url, api_key) as client:
            added = group(client).add(project, [first, *names[1:]])
        if as_json:
            echo_json(added)
            return
        typer.echo(f"added {_count(len(added), one, kind)}: {', '.join(e['name'] for e in added)}")

    @app.command("upload", help=f"Add the {kind} of a file, all or none.")
    def vocabulary_upload(
        file: Annotated[
            Path,
            typer.Argument(
                metavar="FILE",
                help="CSV, XLSX or JSON with columns name, description, examples (one a line).",
                exists=True,
                dir_okay=False,
                readable=True,
            ),
        ],
        project: Project,
        as_json: AsJson = False,
        url: Url = DEFAULT_URL,
        api_key: ApiKey = None,
    ) -> None:
        with _server(url, api_key) as client:
            added = group(client).upload(project, file)
        if as_json:
            echo_json(added)
            return
        names = ", ".join(e["name"] for e in added)
        typer.echo(f"added {_count(len(added), one, kind)} from {file.name}: {names}")


_vocabulary_commands(classes_app, "classes")
_vocabulary_commands(labels_app, "labels")


# --- documents --------------------------------------------------------------------------


def _column(columns: list[str], wanted: str | None) -> str | int:
    """The column to read: the one asked for (a name, or a 0-based index), else ``text``
    or the file's only column."""
    if wanted is not None:
        return int(wanted) if wanted.isdecimal() and wanted not in columns else wanted
    if "text" in columns:
        return "text"
    if len(columns) == 1:
        return columns[0]
    _fail(f"which column holds the texts? pass --column (one of {', '.join(columns)})")


@documents_app.command("upload")
def documents_upload(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="CSV, TSV, TXT (a document a line), JSON, JSONL, XLSX, PDF or an image.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    project: Project,
    column: Annotated[
        str | None,
        typer.Option(
            help="The column of the texts, by name or 0-based index (default: 'text', or "
            "the only one).",
            show_default=False,
        ),
    ] = None,
    id_column: Annotated[
        str | None, typer.Option(help="A column of your own document ids.", show_default=False)
    ] = None,
    segmentation: Annotated[
        str | None,
        typer.Option(
            help="sentence, paragraph or none (default: the project's).", show_default=False
        ),
    ] = None,
    skip_empty: Annotated[
        bool, typer.Option("--skip-empty", help="Leave out rows with no text (else refused).")
    ] = False,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="Wait for a large upload's job to add the documents."),
    ] = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the upload, and for --wait.")
    ] = 600.0,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Make documents of a file's column in one go: upload it, read its preview, create
    them. Over 1,000 documents are added by a job (shown; --wait waits for it)."""
    with _server(url, api_key) as client:
        preview = client.text.files.upload(project, file, timeout=timeout)
        chosen = _column(preview["columns"], column)
        made = client.text.documents.from_file(
            project,
            preview["id"],
            chosen,
            id_column=None if id_column is None else _column(preview["columns"], id_column),
            segmentation=segmentation,
            skip_empty=skip_empty or None,
        )
        job = made.get("job")
        if job is not None and wait:
            job = client.jobs.wait(job["id"], timeout=timeout)
    if as_json:
        echo_json({"file": preview, **made, **({"job": job} if job is not None else {})})
        return
    typer.echo(
        f"{file.name}: {preview['format']}, {_count(preview['row_count'], 'row')}, "
        f"columns {', '.join(preview['columns'])}"
    )
    if job is None:
        segments = sum(d["segment_count"] for d in made["items"])
        typer.echo(
            f"created {_count(made['count'], 'document')} ({_count(segments, 'segment')}) "
            f"from column {chosen!r} in project {project}"
        )
    elif not wait:
        typer.echo(
            f"job {job['id']} {job['status']}: the documents are added in the background "
            "(--wait waits for them; a notification says when they are in)"
        )
    elif job["status"] != "succeeded":
        _fail(f"job {job['id']} {job['status']}: {job.get('error') or 'no reason given'}", 1)
    else:
        result = job["result"]
        typer.echo(
            f"created {_count(result['documents'], 'document')} "
            f"({_count(result['segments'], 'segment')}) from column {chosen!r} "
            f"in project {project} (job {job['id']})"
        )


@documents_app.command("list")
def documents_list(
    project: Project,
    search: Annotated[
        str | None,
        typer.Option(help="Words the text must all contain (full-text).", show_default=False),
    ] = None,
    group: Annotated[
        int | None, typer.Option(help="Only this group's.", show_default=False)
    ] = None,
    session: Annotated[
        int | None, typer.Option(help="Only this session's.", show_default=False)
    ] = None,
    limit: Limit = 50,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """List a project's documents in the order they were added."""
    with _server(url, api_key) as client:
        page = client.text.documents.list(
            project, search, group_id=group, session_id=session, limit=limit
        )
    if as_json:
        echo_json(page)
        return
    if not page["items"]:
        typer.echo("no documents")
        return
    rows = [
        [d["id"], d["external_id"], d["segment_count"], d["length"], _excerpt(d["text"])]
        for d in page["items"]
    ]
    header = ["id", "your id", "segments", "chars", "text"]
    _table(header, rows, right=[True, False, True, True])
    _more(page)


@documents_app.command("show")
def documents_show(
    document_id: Annotated[int, typer.Argument(metavar="ID")],
    project: Project,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Show a document: its meta, its segments and the tags people gave them."""
    with _server(url, api_key) as client:
        doc = client.text.documents.get(project, document_id, details="segments,meta,tags")
    if as_json:
        echo_json(doc)
        return
    own = f" ({doc['external_id']})" if doc["external_id"] else ""
    typer.echo(
        f"document {doc['id']}{own}: {_count(doc['length'], 'character')}, "
        f"{_count(doc['segment_count'], 'segment')}, from {doc['source']}"
    )
    for key, value in doc["meta"].items():
        typer.echo(f"{key}: {_cell(value)}")
    typer.echo("")
    rows = [
        [s["position"], f"{s['start']}-{s['end']}", _tags(s["tags"]), s["text"]]
        for s in doc["segments"]
    ]
    _table(["#", "span", "tags", "segment"], rows, right=[True])


def _tags(tags: list[JSON]) -> str:
    """Each distinct tag as class/label, with how many people gave it when more than one."""
    counts: dict[str, int] = {}
    for tag in tags:
        words = "/".join(str(tag[k]) for k in ("class", "label") if tag.get(k))
        counts[words] = counts.get(words, 0) + 1
    return ", ".join(w if n == 1 else f"{w} x{n}" for w, n in counts.items())


# --- sessions ---------------------------------------------------------------------------


def _session_line(s: JSON) -> str:
    return (
        f"session {s['id']} {s['name']!r} ({s['mode']}, {s['status']}): "
        f"{_count(s['document_count'], 'document')}, {s['progress']:.0f}% done"
    )


def _person(p: JSON) -> str:
    return str(p["email"] or p["name"] or p["user_id"])


@sessions_app.command("create")
def sessions_create(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    project: Project,
    sample_size: Annotated[
        int | None,
        typer.Option(help="A random sample of this many documents.", show_default=False),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="The sample's seed (the same seed, the same sample).")
    ] = None,
    document: Annotated[
        list[int] | None, typer.Option(help="A document id (repeat).", show_default=False)
    ] = None,
    group: Annotated[
        int | None, typer.Option(help="A group's documents.", show_default=False)
    ] = None,
    class_: Annotated[
        list[str] | None,
        typer.Option("--class", help="A class offered (repeat; default: all).", show_default=False),
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option(help="A label offered (repeat; default: all).", show_default=False),
    ] = None,
    assignee: Annotated[
        list[int] | None,
        typer.Option(help="The user id of someone who labels it (repeat).", show_default=False),
    ] = None,
    mode: Annotated[
        str, typer.Option(help="ANNOTATION, or CORRECTION (a model pre-tags a sample).")
    ] = "ANNOTATION",
    strategy: Annotated[
        str | None,
        typer.Option(
            help="How a correction session picks documents: least_confident or diverse.",
            show_default=False,
        ),
    ] = None,
    description: Annotated[str | None, typer.Option(show_default=False)] = None,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Create a labeling (or correction) session: the given documents, a group's, a
    random sample, or all of the project's."""
    with _server(url, api_key) as client:
        session = client.text.sessions.create(
            project,
            name,
            mode=mode.upper(),
            description=description,
            classes=class_,
            labels=label,
            sample_size=sample_size,
            seed=seed,
            document_ids=document,
            group_id=group,
            assignees=assignee,
            strategy=strategy,
        )
    if as_json:
        echo_json(session)
        return
    typer.echo(f"{_session_line(session)}; created")


@sessions_app.command("list")
def sessions_list(
    project: Project,
    mode: Annotated[
        str | None,
        typer.Option(
            help="ANNOTATION, CORRECTION, IMPORT or REVIEW (or several: a,b).", show_default=False
        ),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            help="CREATED, SAMPLING, PREDICTING, ANNOTATING, FINISHED or FAILED (or several).",
            show_default=False,
        ),
    ] = None,
    limit: Limit = 50,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """List the project's sessions, newest first (an annotator sees theirs)."""
    with _server(url, api_key) as client:
        page = client.text.sessions.list(
            project, mode=mode and mode.upper(), status=status and status.upper(), limit=limit
        )
    if as_json:
        echo_json(page)
        return
    if not page["items"]:
        typer.echo("no sessions")
        return
    rows = [
        [
            s["id"],
            s["name"],
            s["mode"],
            s["status"],
            s["document_count"],
            f"{s['progress']:.0f}%",
            len(s["assignees"]),
            _when(s["created"]),
        ]
        for s in page["items"]
    ]
    header = ["id", "name", "mode", "status", "documents", "progress", "assignees", "created"]
    _table(header, rows, right=[True, False, False, False, True, True, True])
    _more(page)


@sessions_app.command("show")
def sessions_show(
    session_id: Annotated[int, typer.Argument(metavar="ID")],
    project: Project,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Show a session: its status, what it offers, who labels it and, for a correction
    session, the predicted score of the next model."""
    with _server(url, api_key) as client:
        session = client.text.sessions.get(project, session_id)
    if as_json:
        echo_json(session)
        return
    typer.echo(_session_line(session))
    if session["description"]:
        typer.echo(f"description: {session['description']}")
    typer.echo(f"classes: {', '.join(session['classes']) or '(none)'}")
    if session["labels"]:
        typer.echo(f"labels: {', '.join(session['labels'])}")
    if session["assignees"]:
        typer.echo(f"assignees: {', '.join(_person(a) for a in session['assignees'])}")
    if session["mode"] == "CORRECTION":
        typer.echo(f"model: {session['model_id'] or 'zero-shot'}")
    if (p := session["prediction"]) is not None:
        typer.echo(
            f"predicted score of the next model: {p['score']:.2f} "
            f"({p['low']:.2f}-{p['high']:.2f}), {p['correct']} of "
            f"{_count(p['checked'], 'corrected segment')} right"
        )


@sessions_app.command("progress")
def sessions_progress(
    session_id: Annotated[int, typer.Argument(metavar="ID")],
    project: Project,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """How far the session is, overall and per annotator."""
    with _server(url, api_key) as client:
        progress = client.text.sessions.progress(project, session_id)
    if as_json:
        echo_json(progress)
        return
    typer.echo(
        f"session {session_id} ({progress['status']}): {progress['progress']:.0f}% done; "
        f"{progress['documents_done']} of {_count(progress['document_count'], 'document')} "
        f"done by everyone, {progress['segments_tagged']} of "
        f"{_count(progress['segment_count'], 'segment')} tagged"
    )
    if not progress["annotators"]:
        typer.echo("no annotators yet")
        return
    rows = [
        [
            a["email"] or a["annotator"],
            "yes" if a["assigned"] else "no",
            a["documents_done"],
            a["documents_skipped"],
            a["segments_tagged"],
            f"{a['progress']:.0f}%",
        ]
        for a in progress["annotators"]
    ]
    header = ["annotator", "assigned", "done", "skipped", "segments tagged", "progress"]
    _table(header, rows, right=[False, False, True, True, True, True])
