"""`augury detect`, `augury forecast` and `augury profile`: trying augury on a file.

No server and no database: the file is read, every series goes through the same
engines as the server's, and the result is written as another CSV file (or to
standard output, with the summary on standard error). `profile` converts any table
file to Parquet in a temporary folder, as an upload would be, and prints its profile.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import pandas as pd

# Nameless: `augury.cli` adds these commands to the root app itself.
files_app = typer.Typer()


def _offline_fail(exc: object) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


def _check_out(out: Path) -> None:
    """Fail before the work, not after, when the output cannot be written there."""
    if str(out) != "-" and not out.parent.is_dir():
        raise _offline_fail(f"cannot write {out}: no such directory {out.parent}")


def _write_csv(frame: pd.DataFrame, out: Path) -> None:
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


@files_app.command(no_args_is_help=True, help=_DETECT_HELP)
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
) -> None:
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


@files_app.command(no_args_is_help=True, help=_FORECAST_HELP)
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
) -> None:
    """Forecast every series of a CSV file with augury's automatic forecaster."""
    from augury import offline
    from augury.engines.timegrid import describe_step

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
            f"{describe_step(r.step_seconds)}, seasonal periods {periods}): {r.reason}",
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


_PROFILE_HELP = (
    "Profile a table file (CSV, TSV, XLSX, JSON, JSONL or Parquet) as a dataset upload "
    "would be: each column's type, missing values, distinct values, semantic hint and a "
    "short statistic, then the data-quality score and its issues.\n\n"
    "With --json, prints one JSON object: rows, columns (name, type, nullable, unique and "
    "every other statistic) and quality (score, issues...)."
)


@files_app.command(no_args_is_help=True, help=_PROFILE_HELP)
def profile(
    input_file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="The table file to profile.", show_default=False),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the profile as one JSON object.")
    ] = False,
    sheet: Annotated[
        str | None, typer.Option(metavar="NAME", help="The workbook sheet to read (XLSX).")
    ] = None,
    types: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            metavar="COL=TYPE",
            help="Read a column as this type (repeat): integer, float, decimal, boolean, "
            "string, category, date, datetime or duration.",
        ),
    ] = None,
) -> None:
    """Profile a table file: column types, statistics and the data-quality score."""
    from augury.engines.tabular.errors import TableError
    from augury.engines.tabular.profile import profile as profile_table
    from augury.engines.tabular.read import convert

    overrides = _type_overrides(types or [])
    if not input_file.is_file():
        raise _offline_fail(f"cannot read {input_file}: no such file")
    try:
        with tempfile.TemporaryDirectory(prefix="augury-profile-") as folder:
            parquet = Path(folder) / "table.parquet"
            convert(input_file, parquet, filename=input_file.name, sheet=sheet)
            result = profile_table(parquet, overrides=overrides)
    except TableError as exc:
        raise _offline_fail(exc.message) from exc
    except OSError as exc:
        raise _offline_fail(f"cannot read {input_file}: {exc.strerror or exc}") from exc
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, allow_nan=False))
        return
    for line in _profile_lines(result):
        typer.echo(line)


def _type_overrides(pairs: list[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for pair in pairs:
        column, sep, kind = pair.rpartition("=")
        if not sep or not column or not kind:
            raise _offline_fail(f"--type wants COL=TYPE, not {pair!r}")
        overrides[column] = kind.strip().lower()
    return overrides


def _profile_lines(result: dict) -> list[str]:
    """The profile as a table a person reads: one line a column, then the quality."""
    rows = result["rows"]
    header = ("column", "type", "nulls", "unique", "semantic", "summary")
    table = [header]
    for col in result["columns"]:
        kind = col["type"] + ("*" if col["override"] else "") + ("!" if col["mixed"] else "")
        nulls = f"{100 * col['nulls'] / rows:.1f}%" if rows else "-"
        unique = ("~" if col["unique_approx"] else "") + str(col["unique"])
        table.append((col["name"], kind, nulls, unique, col["semantic"] or "", _summary(col)))
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header) - 1)]
    lines = [
        "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in table
    ]
    quality = result["quality"]
    lines.append("")
    lines.append(
        f"{rows} rows, {len(result['columns'])} columns; quality score {quality['score']:.3f} "
        f"(completeness {quality['completeness']:.1%}, "
        f"{quality['duplicate_rows']} duplicate rows)"
    )
    lines.append("type*: set with --type; type!: values of several types")
    for issue in quality["issues"]:
        where = issue["column"] if issue["column"] is not None else "(table)"
        lines.append(f"{issue['severity']:7}  {where}: {issue['message']}")
    return lines


def _summary(col: dict) -> str:
    if col["type"] in ("integer", "float", "decimal") and col["min"] is not None:
        mean = f", mean {col['mean']:.4g}" if col["mean"] is not None else ""
        return f"{col['min']:.6g} .. {col['max']:.6g}{mean}"
    if col["type"] in ("date", "datetime", "duration") and col["min"] is not None:
        return f"{col['min']} .. {col['max']}"
    if col["top"]:
        top = col["top"][0]
        return f"most often {top['value']!r} ({top['count']}x)"
    return ""
