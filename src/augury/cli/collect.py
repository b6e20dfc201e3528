"""`augury collect sources|streams|test|preview|pause|resume|rewind`: the data sources
and data streams of an augury server, through its API.

Like `augury data`, these talk to a server (`--url`, or AUGURY_URL) with an API key
(`--api-key`, or AUGURY_API_KEY). A stream is named by its id or its exact name; a
stream to preview is a JSON file of Anodot's stream object (`-` reads standard input).
A request the server refuses prints `error: ...` and exits 2; a server that cannot be
reached or fails exits 1, as does a preview or test whose source fails.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from augury.cli.app import AsJson, Limit, echo_json
from augury.cli.data import DEFAULT_URL, ApiKey, Url, _fail, _server, _table
from augury.client import JSON, Client, NotFoundError
from augury.client.collectors import Collectors

collect_app = typer.Typer(
    no_args_is_help=True,
    help="Data sources and the data streams that poll them into metrics, on an augury server.",
)

StreamRef = Annotated[str, typer.Argument(metavar="STREAM", help="The stream's id or name.")]


def _collectors(client: Client) -> Collectors:
    return Collectors(client)


def _when(epoch: int | None) -> str:
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M")


def _lag(seconds: int | None) -> str:
    if seconds is None:
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _stream(collectors: Collectors, ref: str) -> JSON:
    """A stream by its id, or by its exact name."""
    text = ref.strip()
    if text.isdecimal():
        try:
            return collectors.streams.get(int(text))
        except NotFoundError:
            pass
    for stream in collectors.streams.find(text):
        if stream["name"] == text:
            return stream
    _fail(f"no data stream {text!r}")


def _moment(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


@collect_app.command("sources")
def sources(
    type: Annotated[
        str | None, typer.Option("--type", help="Only this type.", show_default=False)
    ] = None,
    search: Annotated[
        str | None, typer.Option(help="Text in the name.", show_default=False)
    ] = None,
    limit: Limit = 50,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """The organization's data sources (credentials are never shown)."""
    with _server(url, api_key) as client:
        page = _collectors(client).sources.list(type=type, q=search, limit=limit)
    if as_json:
        echo_json(page)
        return
    if not page["items"]:
        typer.echo("no data sources")
        return
    rows = [
        [
            s["id"],
            s["name"],
            s["type"],
            ", ".join(f"{k}={v}" for k, v in s["config"].items()),
            ", ".join(s["secret"]),
        ]
        for s in page["items"]
    ]
    _table(["id", "name", "type", "config", "secret"], rows, right=[True])
    if page["has_more"]:
        typer.echo(f"... {page['total'] - len(page['items'])} more (--limit)")


@collect_app.command("streams")
def streams(
    search: Annotated[
        str | None, typer.Option(help="Text in the name.", show_default=False)
    ] = None,
    source: Annotated[
        int | None, typer.Option(help="Only the streams of this source id.", show_default=False)
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(help="pending, backfilling, ok or error.", show_default=False),
    ] = None,
    limit: Limit = 50,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """The organization's data streams: schedule, state, lag and last error."""
    with _server(url, api_key) as client:
        page = _collectors(client).streams.list(
            q=search, source_id=source, status=status, limit=limit
        )
    if as_json:
        echo_json(page)
        return
    if not page["items"]:
        typer.echo("no data streams")
        return
    rows = [
        [
            s["id"],
            s["name"],
            s["dataSourceId"],
            s["pollingInterval"],
            "paused" if s["paused"] else s["status"],
            _lag(s["lagSeconds"]),
            _when(s["lastPollTime"]),
            s["rowsRead"],
            s["pointsWritten"],
            s["errorCode"] or "",
        ]
        for s in page["items"]
    ]
    _table(
        ["id", "name", "source", "every", "state", "lag", "last poll", "rows", "points", "error"],
        rows,
        right=[True, False, True, False, False, True, False, True, True],
    )
    if page["has_more"]:
        typer.echo(f"... {page['total'] - len(page['items'])} more (--limit)")


@collect_app.command("test")
def test_source(
    source: Annotated[int, typer.Argument(metavar="SOURCE", help="The source's id.")],
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Test a saved source: connect, sign in, list what a stream could read."""
    with _server(url, api_key) as client:
        answer = _collectors(client).sources.test(source)
    if as_json:
        echo_json(answer)
    elif answer["ok"]:
        typer.echo(f"ok: {answer['detail']}")
        for name in answer["objects"]:
            typer.echo(f"  {name}")
    if not answer["ok"]:
        if not as_json:
            typer.echo(f"failed ({answer['code']}): {answer['message']}", err=True)
        raise typer.Exit(1)


def _read_body(file: str) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text()
    except OSError as exc:
        _fail(f"cannot read {file}: {exc.strerror or exc}")
    try:
        body = json.loads(text)
    except ValueError as exc:
        _fail(f"{file} is not JSON: {exc}")
    if not isinstance(body, dict):
        _fail(f"{file} holds no stream object")
    return body


@collect_app.command("preview")
def preview(
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="A JSON stream object ('-': standard input).")
    ],
    rows: Annotated[int, typer.Option(min=1, max=10_000, help="Latest rows to read.")] = 100,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Show the metrics the stream in FILE makes of its source's latest rows (unsaved)."""
    body = _read_body(file)
    with _server(url, api_key) as client:
        answer = _collectors(client).streams.preview(body, rows=rows)
    if as_json:
        echo_json(answer)
        if answer.get("error"):
            raise typer.Exit(1)
        return
    error = answer.get("error")
    if "columns" in answer:
        typer.echo(f"{len(answer['rows'])} rows: {', '.join(answer['columns'])}")
    if error:
        typer.echo(f"error ({error['code']}): {error['message']}", err=True)
        raise typer.Exit(1)
    metrics = answer["metrics"]
    typer.echo(f"{answer['points']} points of {answer['metricsTotal']} metrics")
    table = [
        [
            m["what"],
            ", ".join(f"{k}={v}" for k, v in m["dimensions"].items()),
            m["points"],
            _when(m["first"]),
            _when(m["last"]),
        ]
        for m in metrics
    ]
    if table:
        _table(
            ["metric", "dimensions", "points", "first", "last"], table, right=[False, False, True]
        )
    for reason, count in answer["skipped"].items():
        typer.echo(f"skipped {count}: {reason}")


@collect_app.command("pause")
def pause(stream: StreamRef, url: Url = DEFAULT_URL, api_key: ApiKey = None) -> None:
    """Pause a stream: it polls nothing until resumed."""
    with _server(url, api_key) as client:
        collectors = _collectors(client)
        answer = collectors.streams.pause(_stream(collectors, stream)["id"])
    typer.echo(f"stream {answer['id']} {answer['name']!r} paused")


@collect_app.command("resume")
def resume(stream: StreamRef, url: Url = DEFAULT_URL, api_key: ApiKey = None) -> None:
    """Resume a stream: it catches up from where it stopped."""
    with _server(url, api_key) as client:
        collectors = _collectors(client)
        answer = collectors.streams.resume(_stream(collectors, stream)["id"])
    typer.echo(f"stream {answer['id']} {answer['name']!r} resumed")


@collect_app.command("rewind")
def rewind(
    stream: StreamRef,
    start: Annotated[
        str,
        typer.Option("--from", help="Epoch seconds or ISO 8601 (UTC without an offset)."),
    ],
    end: Annotated[
        str | None,
        typer.Option("--to", help="Epoch seconds or ISO 8601; now by default.", show_default=False),
    ] = None,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Collect a stream's data again from --from (the points read again replace theirs)."""
    with _server(url, api_key) as client:
        collectors = _collectors(client)
        found = _stream(collectors, stream)
        answer = collectors.streams.rewind(
            found["id"], _moment(start), None if end is None else _moment(end)
        )
    if as_json:
        echo_json(answer)
        return
    at = answer["watermark"] if answer["watermark"] is not None else answer["backfillFrom"]
    typer.echo(f"stream {answer['id']} {answer['name']!r} collects again from {_when(at)} UTC")
