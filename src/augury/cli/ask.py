"""`augury ask DATA "QUESTION"`: ask a question of a table file, with no server.

The file is converted and profiled as an upload would be, and the question goes through
the same engine as the server's (`augury.engines.ask`). With --json it prints the one
JSON object issue 15 fixes: `question`, `columns`, `rows`, `chart`, `insights`, `plan`,
`confidence`, then `types`, `chart_type`, `words`, `engine`, `notes`; a question it
cannot answer prints `{"error": {"code", "message", "details"}}` and exits 1; a file it
cannot read exits 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

ask_app = typer.Typer()

_HELP = (
    "Ask a plain-English question of a table file (CSV, TSV, XLSX, JSON, JSONL or "
    "Parquet), offline.\n\n"
    "augury reads the question with its own parser (no network), runs the plan it read "
    "and prints the answer table, the plan in words, the insights and its confidence. "
    "With --json, prints one JSON object: question, columns, rows, chart (Vega-Lite v5), "
    "insights, plan, confidence (and types, chart_type, words, engine, notes).\n\n"
    "Exit status: 1 when the question cannot be answered (the error names candidate "
    "columns), 2 when the file cannot be read."
)

_KEYS = ("question", "columns", "rows", "chart", "insights", "plan", "confidence")


@ask_app.command(no_args_is_help=True, help=_HELP)
def ask(
    data: Annotated[
        Path, typer.Argument(metavar="DATA", help="The table file.", show_default=False)
    ],
    question: Annotated[
        str, typer.Argument(metavar="QUESTION", help="The question.", show_default=False)
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the answer as one JSON object.")
    ] = False,
    sheet: Annotated[
        str | None, typer.Option(metavar="NAME", help="The workbook sheet to read (XLSX).")
    ] = None,
) -> None:
    """Ask a plain-English question of a table file."""
    from augury.engines import ask as engine
    from augury.engines.tabular.errors import TableError

    if not data.is_file():
        _unreadable(f"cannot read {data}: no such file")
    try:
        table = engine.load_table(data, sheet=sheet)
    except TableError as exc:
        _unreadable(exc.message)
    except OSError as exc:
        _unreadable(f"cannot read {data}: {exc.strerror or exc}")
    try:
        answer = engine.ask(question, table)
    except TableError as exc:
        refuse(exc.code, exc.message, exc.details, as_json)
    body = answer.to_dict()
    if as_json:
        ordered = {k: body[k] for k in _KEYS} | {k: v for k, v in body.items() if k not in _KEYS}
        typer.echo(json.dumps(ordered, ensure_ascii=False, allow_nan=False, default=str))
        return
    for line in answer_lines(body):
        typer.echo(line)


def _unreadable(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def refuse(code: str, message: str, details: dict[str, Any], as_json: bool) -> NoReturn:
    """A question that cannot be answered: the error (as JSON with --json) and exit 1."""
    error = {"code": code, "message": message, "details": details}
    if as_json:
        typer.echo(json.dumps({"error": error}, ensure_ascii=False, default=str))
    else:
        typer.echo(f"error: {message}", err=True)
        candidates = details.get("candidates") or []
        if candidates:
            typer.echo(f"columns: {', '.join(candidates)}", err=True)
    raise typer.Exit(1)


def answer_lines(body: dict[str, Any], max_rows: int = 50) -> list[str]:
    """The answer as a person reads it: the plan in words, the table, the insights."""
    lines = [f"{body['words']}  (confidence {body['confidence']:.2f})", ""]
    table = [body["columns"]] + [[_cell(v) for v in row] for row in body["rows"][:max_rows]]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(body["columns"]))]
    for row in table:
        lines.append("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=False)).rstrip())
    if len(body["rows"]) > max_rows:
        lines.append(f"... {len(body['rows']) - max_rows} more rows (--json prints them all)")
    if body["insights"]:
        lines.append("")
        lines += [f"- {i['text']}" for i in body["insights"]]
    for note in body["notes"]:
        lines.append(f"note: {note}")
    return lines


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)
