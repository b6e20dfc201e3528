"""`augury data`: datasets on an augury server, through its API.

Unlike the operator's commands next to this one, which open this machine's database,
these talk to a server (`--url`, or AUGURY_URL) as a member of an organization (an
API key: `--api-key`, or AUGURY_API_KEY; `augury keys create` makes one). So they work
from any machine, and the key's role and scopes apply as they do to every other
client.

A request the server refuses (bad input, an unknown id, a missing permission) prints
one line, `error: ...`, and exits 2; a server that cannot be reached or fails, and a
profile that fails or outlasts `--timeout`, exit 1, as does a question `augury data ask`
cannot answer.
"""

from __future__ import annotations

import csv
import json
import re
import shlex
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer

from augury.cli.app import Yes, echo_json
from augury.cli.ask import answer_lines, refuse
from augury.client import JSON, AuguryAPIError, Client, ModelJobError, ServerError, TextJobError

data_app = typer.Typer(no_args_is_help=True, help="Datasets on an augury server.")

Url = Annotated[
    str, typer.Option("--url", envvar="AUGURY_URL", help="The augury server.", show_envvar=True)
]
ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="AUGURY_API_KEY",
        help="An API key (aug_...) of the organization.",
        show_default=False,
        show_envvar=True,
    ),
]
DEFAULT_URL = "http://127.0.0.1:8000"
_NUMERIC = frozenset({"integer", "float", "decimal"})


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _describe(exc: AuguryAPIError) -> str:
    """The API's message on one line, with the first field error or the reason code."""
    message = exc.message
    errors = exc.details.get("errors")
    if errors and isinstance(errors, list) and str(errors[0].get("msg")) not in message:
        first = errors[0]
        where = ".".join(str(p) for p in first.get("loc", []) if p != "body")
        message += f" ({where}: {first['msg']})" if where else f" ({first['msg']})"
    elif reason := exc.details.get("reason"):
        message += f" ({reason})"
    return " ".join(message.split())


@contextmanager
def _server(url: str, api_key: str | None) -> Iterator[Client]:
    """A client of the server; the API's and the network's failures as one line and an exit.

    A job waited for that failed or was aborted (a training, an analysis, a batch
    prediction) exits 1 with its reason: the requests succeeded, the work did not."""
    if not api_key:
        _fail("no API key: pass --api-key or set AUGURY_API_KEY (`augury keys create` makes one)")
    try:
        with Client(url, api_key=api_key) as client:
            yield client
    except (ModelJobError, TextJobError) as exc:
        _fail(exc.message, 1)
    except ServerError as exc:
        _fail(f"the server failed: {_describe(exc)}", 1)
    except AuguryAPIError as exc:
        _fail(_describe(exc))
    except httpx.TransportError as exc:
        _fail(f"cannot reach {url}: {exc}", 1)
    except TimeoutError as exc:
        _fail(str(exc), 1)


# --- formatting -------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return " ".join(str(value).split())


def _table(
    header: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[bool] = ()
) -> None:
    """Rows in aligned columns under an upper-case header; ``right`` aligns numbers."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]
    align = list(right) + [False] * (len(header) - len(right))

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if a else v.ljust(w) for v, w, a in zip(values, widths, align, strict=True)
        ]
        return "  ".join(parts).rstrip()

    typer.echo(line([h.upper() for h in header]))
    for row in cells:
        typer.echo(line(row))


def _size(n: int) -> str:
    """``n`` bytes for people: 190 B, 45.1 KB, 2.0 GB."""
    value, unit = float(n), "B"
    for bigger in ("KB", "MB", "GB", "TB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"


def _yes_no(flag: bool | None) -> str | None:
    return None if flag is None else "yes" if flag else "no"


def _when(stamp: str | None) -> str:
    return (stamp or "")[:16].replace("T", " ")


def _changes(changes: JSON | None) -> str | None:
    if not changes:
        return None
    parts = []
    if changes.get("added"):
        parts.append("added " + ", ".join(changes["added"]))
    if changes.get("removed"):
        parts.append("removed " + ", ".join(changes["removed"]))
    for r in changes.get("retyped") or []:
        parts.append(f"{r['column']} {r['from']} -> {r['to']}")
    rows = changes.get("rows")
    if isinstance(rows, int) and rows:
        parts.append(f"rows {rows:+d}")
    return f"changes from version {changes['from_version']}: " + ("; ".join(parts) or "none")


def _version_line(dataset: JSON) -> str:
    v = dataset["version"]
    return (
        f"dataset {dataset['id']} {dataset['name']!r} version {v['number']}: "
        f"{v['rows']} rows x {len(v['columns'])} columns "
        f"({v['format']}, {_size(v['source_bytes'])})"
    )


def _echo_quality(schema: JSON) -> None:
    quality = schema.get("quality")
    if not quality:
        typer.echo(f"profile: {schema['profile_status']}")
        return
    typer.echo(
        f"quality: {quality['score']:.0%} (completeness {quality['completeness']:.0%}, "
        f"{quality['duplicate_rows']} duplicate rows)"
    )
    issues = quality.get("issues") or []
    if issues:
        rows = [
            [i["severity"], i.get("column") or "(table)", i["code"], i["message"]] for i in issues
        ]
        _table(["severity", "column", "issue", "message"], rows)


# --- commands ---------------------------------------------------------------------------


@data_app.command("upload")
def data_upload(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="CSV, TSV, XLSX, JSON, JSONL or Parquet.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    name: Annotated[
        str | None,
        typer.Option(help="Dataset name (default: the file's); an existing name adds a version."),
    ] = None,
    description: Annotated[str, typer.Option(help="What the data is.")] = "",
    tag: Annotated[list[str] | None, typer.Option(help="A tag (repeat).")] = None,
    format: Annotated[
        str | None, typer.Option(help="csv, tsv, xlsx, json, jsonl or parquet (default: detected).")
    ] = None,
    sheet: Annotated[str | None, typer.Option(help="XLSX sheet (default: the first).")] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for the profile and print the quality.")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(help="Seconds to wait for the server to convert the file, and for --wait."),
    ] = 600.0,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Upload a file as a dataset, or as the next version of the dataset of its name."""
    with _server(url, api_key) as client:
        dataset = client.datasets.upload(
            file,
            name,
            description=description,
            tags=tag or (),
            format=format,
            sheet=sheet,
            timeout=timeout,
        )
        typer.echo(_version_line(dataset))
        if changes := _changes(dataset["version"].get("changes")):
            typer.echo(changes)
        if not wait:
            job = dataset["version"]["profile_job_id"]
            typer.echo(
                f"profiling: job {job} (`augury data show {dataset['id']}` shows the result)"
            )
            return
        done = client.datasets.wait_profiled(dataset["id"], timeout=timeout)
        if done["version"]["profile_status"] == "failed":
            _fail(f"the profile failed: {done['version']['profile_error']}", 1)
        _echo_quality(client.datasets.schema(dataset["id"]))


@data_app.command("list")
def data_list(
    search: Annotated[
        str | None, typer.Option(help="Text in the name or description.", show_default=False)
    ] = None,
    tag: Annotated[list[str] | None, typer.Option(help="A tag every dataset has (repeat).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Datasets to show.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="The API's page as JSON.")] = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """List the organization's datasets, most recently changed first."""
    with _server(url, api_key) as client:
        page = client.datasets.list(search, tag, limit=limit)
    if as_json:
        echo_json(page)
        return
    if not page["items"]:
        typer.echo("no datasets")
        return
    rows = []
    for d in page["items"]:
        v = d.get("version") or {}
        rows.append(
            [
                d["id"],
                d["name"],
                d["latest_version"],
                v.get("rows"),
                len(v.get("columns") or []),
                v.get("format"),
                v.get("profile_status"),
                _when(d["updated_at"]),
                ",".join(d["tags"]),
            ]
        )
    header = ["id", "name", "version", "rows", "columns", "format", "profile", "updated", "tags"]
    _table(header, rows, right=[True, False, True, True, True])
    if page["has_more"]:
        typer.echo(f"... {page['total'] - len(page['items'])} more (--limit)")


@data_app.command("show")
def data_show(
    dataset_id: Annotated[int, typer.Argument(metavar="ID")],
    version: Annotated[
        int | None, typer.Option(help="Version number (default: the latest).", show_default=False)
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="The dataset and schema as JSON.")
    ] = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Show a dataset: its version, columns with their types, and the data's quality."""
    with _server(url, api_key) as client:
        dataset = client.datasets.get(dataset_id)
        if version is not None:
            dataset["version"] = client.datasets.version(dataset_id, version)
        schema = client.datasets.schema(dataset_id, version)
    if as_json:
        echo_json({"dataset": dataset, "schema": schema})
        return
    v = dataset["version"]
    typer.echo(f"dataset {dataset['id']}: {dataset['name']}")
    if dataset["description"]:
        typer.echo(f"description: {dataset['description']}")
    if dataset["tags"]:
        typer.echo(f"tags: {', '.join(dataset['tags'])}")
    typer.echo(
        f"version {v['number']} of {dataset['latest_version']}: {v['rows']} rows, "
        f"{v['format']} {v['file_name'] or v['source']} ({_size(v['source_bytes'])}, "
        f"{_size(v['stored_bytes'])} stored), {_when(v['created_at'])}"
    )
    if changes := _changes(v.get("changes")):
        typer.echo(changes)
    for warning in (v.get("read_info") or {}).get("warnings") or []:
        typer.echo(f"read: {warning}")
    if v["profile_status"] == "failed":
        typer.echo(f"profile failed: {v['profile_error']}")
    typer.echo("")
    rows = [
        [
            c["name"],
            c["type"] + ("*" if c.get("override") else ""),
            _yes_no(c.get("nullable")),
            c.get("unique"),
            c.get("semantic"),
            ", ".join(_cell(s) for s in (c.get("samples") or [])[:3]),
        ]
        for c in schema["columns"]
    ]
    _table(["column", "type", "nullable", "unique", "meaning", "samples"], rows)
    if any(c.get("override") for c in schema["columns"]):
        typer.echo("(* a type set by hand)")
    typer.echo("")
    _echo_quality(schema)


_SYMBOLS = {
    "=": "eq",
    "==": "eq",
    "!=": "ne",
    "<>": "ne",
    "<": "lt",
    "<=": "le",
    ">": "gt",
    ">=": "ge",
}
_OPS = (
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "in",
    "not_in",
    "between",
    "contains",
    "starts_with",
    "ends_with",
    "is_null",
    "not_null",
)
_COMPACT = re.compile(r"^(.+?)(>=|<=|!=|<>|==|=|<|>)(.*)$")


def parse_filter(text: str) -> JSON:
    """``"col op value"`` as the API's filter: ``units >= 3``, ``region in North,South``,
    ``price between 10,20`` (an empty end is open), ``note is_null``, ``"unit price" gt 5``
    (quote names with spaces), or without spaces around a symbol (``units>=3``)."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r}: {exc}", param_hint="--filter") from exc
    if len(words) == 1 and (compact := _COMPACT.match(words[0])):
        words = [compact.group(1), compact.group(2), compact.group(3)]
    if len(words) < 2:
        raise typer.BadParameter(f"{text!r} is not 'column op value'", param_hint="--filter")
    column, op, rest = words[0], words[1].lower(), " ".join(words[2:])
    op = _SYMBOLS.get(op, op)
    if op not in _OPS:
        raise typer.BadParameter(
            f"unknown operator {words[1]!r} (one of {', '.join(_OPS)}, or = != < <= > >=)",
            param_hint="--filter",
        )
    if op in ("is_null", "not_null"):
        if rest:
            raise typer.BadParameter(f"{op} takes no value", param_hint="--filter")
        return {"column": column, "op": op}
    value: Any = rest
    if op in ("in", "not_in"):
        value = [v.strip() for v in rest.split(",")]
    elif op == "between":
        ends = [v.strip() or None for v in rest.split(",")]
        if len(ends) != 2:
            raise typer.BadParameter(
                f"between takes 'low,high', not {rest!r}", param_hint="--filter"
            )
        value = ends
    return {"column": column, "op": op, "value": value}


def _aggregate(text: str) -> JSON:
    fn, _, column = text.partition(":")
    return {"fn": fn.strip(), **({"column": column} if column else {})}


def _bucket(text: str) -> JSON:
    column, sep, unit = text.rpartition(":")
    if not sep or not column:
        raise typer.BadParameter(f"{text!r} is not column:unit", param_hint="--bucket")
    return {"column": column, "unit": unit}


def _order(text: str) -> JSON:
    column, sep, direction = text.rpartition(":")
    if sep and direction.lower() in ("asc", "desc"):
        return {"column": column, "direction": direction.lower()}
    return {"column": text, "direction": "asc"}


def _echo_result(result: JSON, as_csv: bool) -> None:
    shown = len(result["rows"])
    total = result.get("total")
    if as_csv:
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(result["columns"])
        out.writerows([["" if v is None else v for v in row] for row in result["rows"]])
        if result["truncated"]:
            typer.echo(f"truncated: {shown} of {total or 'more'} rows", err=True)
        return
    right = [t in _NUMERIC for t in result["types"]]
    _table(result["columns"], result["rows"], right)
    more = f" of {total}" if total is not None and total != shown else ""
    typer.echo(f"({shown}{more} rows{', truncated' if result['truncated'] else ''})")


@data_app.command("query")
def data_query(
    dataset_id: Annotated[
        int | None,
        typer.Argument(
            metavar="ID", help="The dataset (leave out with --sql).", show_default=False
        ),
    ] = None,
    filter: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            help="'column op value' (repeat): op is eq ne lt le gt ge (or = != < <= > >=), in "
            "and not_in (a,b,c), between (low,high), contains, starts_with, ends_with, "
            "is_null, not_null.",
        ),
    ] = None,
    select: Annotated[list[str] | None, typer.Option(help="A column to show (repeat).")] = None,
    group_by: Annotated[
        list[str] | None, typer.Option(help="A column to group by (repeat).")
    ] = None,
    agg: Annotated[
        list[str] | None,
        typer.Option(
            help="fn:column (repeat): count, sum, mean, min, max, median, distinct; "
            "'count' alone counts rows."
        ),
    ] = None,
    bucket: Annotated[
        str | None,
        typer.Option(help="column:unit, a date grouped by hour, day, week, month, quarter, year."),
    ] = None,
    order: Annotated[list[str] | None, typer.Option(help="column or column:desc (repeat).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Rows to return.")] = None,
    version: Annotated[
        int | None, typer.Option(help="Version (default: the latest).", show_default=False)
    ] = None,
    sql: Annotated[
        str | None,
        typer.Option(
            help="One read-only SELECT over the organization's datasets, each a table of its "
            'name (FROM "sales 2024").',
            show_default=False,
        ),
    ] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV instead of a table.")] = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Ask a dataset a question: rows that match filters, or groups and aggregates; or SQL."""
    structured = [filter, select, group_by, agg, bucket, order, version]
    if sql is not None:
        if dataset_id is not None or any(o is not None for o in structured):
            _fail("--sql reads the datasets by name; leave out the ID and the other options")
        with _server(url, api_key) as client:
            result = client.datasets.sql(sql, max_rows=limit)
        _echo_result(result, as_csv)
        return
    if dataset_id is None:
        _fail("give a dataset ID, or --sql")
    filters = [parse_filter(f) for f in filter or []]
    query: dict[str, Any] = {
        "select": select,
        "group_by": group_by,
        "aggregates": [_aggregate(a) for a in agg or []] or None,
        "bucket": _bucket(bucket) if bucket else None,
        "order": [_order(o) for o in order or []] or None,
        "limit": limit,
        "version": version,
    }
    with _server(url, api_key) as client:
        if as_csv:  # the whole answer, streamed, where JSON would stop at the server's cap
            client.datasets.export(dataset_id, sys.stdout.buffer, "csv", filters=filters, **query)
            return
        result = client.datasets.query(dataset_id, filters=filters, **query)
    _echo_result(result, as_csv=False)


@data_app.command("ask")
def data_ask(
    dataset: Annotated[str, typer.Argument(metavar="DATASET", help="The dataset's id or name.")],
    question: Annotated[str, typer.Argument(metavar="QUESTION", help="The question.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole answer as one JSON object.")
    ] = False,
    save: Annotated[
        str | None,
        typer.Option(metavar="TITLE", help="Save the answer as a chart with this title."),
    ] = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Ask a plain-English question of a dataset on the server: the answer table, the plan
    in words, the insights (as `augury ask` does for a file). Exit status 1 when the
    question cannot be answered; the error names candidate columns."""
    source: int | str = int(dataset) if dataset.isdecimal() else dataset
    with _server(url, api_key) as client:
        try:
            answer = client.analytics.ask(question, source, save=save is not None, title=save)
        except AuguryAPIError as exc:
            if exc.code != "QUESTION_NOT_UNDERSTOOD":
                raise
            refuse(exc.code, exc.message, exc.details, as_json)
    if as_json:
        echo_json(answer)
        return
    for line in answer_lines(answer):
        typer.echo(line)
    if answer.get("chart_id"):
        typer.echo(f"saved as chart {answer['chart_id']}")


@data_app.command("download")
def data_download(
    dataset_id: Annotated[int, typer.Argument(metavar="ID")],
    format: Annotated[str, typer.Option(help="csv, json, jsonl, parquet or xlsx.")] = "csv",
    version: Annotated[
        int | None, typer.Option(help="Version (default: the latest).", show_default=False)
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="File or folder to write to ('-': standard output; default: here, as "
            "NAME-vVERSION.FORMAT).",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the server to write the file.")
    ] = 600.0,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Download a dataset's rows as a file."""
    target = sys.stdout.buffer if out is not None and str(out) == "-" else out or Path(".")
    with _server(url, api_key) as client:
        try:
            written = client.datasets.download(dataset_id, target, format, version, timeout=timeout)
        except OSError as exc:
            _fail(f"cannot write {out}: {exc.strerror or exc}")
    if written is None:  # standard output
        return
    typer.echo(f"wrote {written} ({_size(written.stat().st_size)})")


@data_app.command("delete")
def data_delete(
    dataset_id: Annotated[int, typer.Argument(metavar="ID")],
    yes: Yes = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Delete a dataset with every version and file."""
    with _server(url, api_key) as client:
        dataset = client.datasets.get(dataset_id)
        if not yes:
            versions = client.datasets.versions(dataset_id, limit=1)["total"]
            typer.confirm(
                f"Delete dataset {dataset_id} {dataset['name']!r} and its {versions} "
                f"version{'s' if versions != 1 else ''}?",
                abort=True,
            )
        client.datasets.delete(dataset_id)
    typer.echo(f"dataset {dataset_id} {dataset['name']!r} deleted")
