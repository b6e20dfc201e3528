"""`augury model train` and `augury model predict`: predictive models on table files,
with no server.

`train` reads a table file (CSV, TSV, XLSX, JSON, JSONL, Parquet: converted as a
dataset upload is, :func:`augury.engines.tabular.read.convert`) and runs the server's
AutoML (:mod:`augury.engines.tabular.automl`) on it, then prints what it decided (the
task, the columns it left out and why) and how the model validated (each metric's mean
and spread over the folds), and writes the model folder (JSON, NumPy arrays and
LightGBM's text: never a pickle, with a content hash that loading checks).
`predict` reads a model folder and a table file and writes the rows, in order, with
the model's columns added: `prediction`, one `probability_<class>` per class for a
classifier, `lower` and `upper` (an 80 % interval) for a regression; a forecast model
writes the `--horizon` steps after each series' last date instead.

The server's commands on its models (`augury model list|show|create|...`, in
:mod:`augury.cli.model_api`) join these two in the same group. Input that cannot be
used (a missing file or column, a target with one class, a folder that is not a model)
prints `error: ...` and exits 2, as the other file commands do.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    import pandas as pd

model_app = typer.Typer(
    no_args_is_help=True,
    help="Predictive models on tables: train on a file and predict a file, offline "
    "(train, predict); and a server's models, applications and subscriptions, with an "
    "API key (the other commands).",
)

APPLICATION_NAMES = ("classification", "regression", "failure", "forecast")

_TRAIN_HELP = (
    "Train a predictive model on a table file and save it in a folder.\n\n"
    "The file (CSV, TSV, XLSX, JSON, JSONL or Parquet) is read as a dataset upload is. "
    "--application picks what is learnt: classification or regression (the default: "
    "whichever the target's values call for), failure (a binary target with rare "
    "positives, the decision threshold chosen to --cost-missed and --cost-false-alarm, "
    "else to the best F1) or forecast (a date column and optional --series columns; "
    "--horizon steps ahead).\n\n"
    "Every usable column is a feature unless --features names them; identifiers, "
    "constant and leaking columns are left out, and the reasons printed. Validation is "
    "time-ordered when there is a date column, stratified folds otherwise; the printed "
    "metrics are the folds' mean ± standard deviation.\n\n"
    "With --json, prints the model's summary as one JSON object (task, excluded, "
    "metrics, importance, candidates ... and model_dir, content_hash) on standard output."
)
_PREDICT_HELP = (
    "Predict a table file with a model folder that `augury model train` wrote.\n\n"
    "Writes the file's rows, in order, with prediction added, and for a classifier one "
    "probability_<class> column per class (they sum to 1), for a regression lower and "
    "upper (an 80 % interval). A name the file already has gets a suffix (_2). A forecast "
    "model writes the series columns, the date column, prediction, lower and upper for "
    "the horizon's steps after each series' last date in the file.\n\n"
    "The file needs the model's feature columns; other columns are ignored, and values "
    "the model never saw are treated as missing."
)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _names(value: str | None) -> list[str]:
    """A comma list of column names (a,b,c) as a list, blanks dropped."""
    return [n.strip() for n in (value or "").split(",") if n.strip()]


@model_app.command(no_args_is_help=True, help=_TRAIN_HELP)
def train(
    input_file: Annotated[
        Path,
        typer.Argument(metavar="TRAIN", help="The table file to learn from.", show_default=False),
    ],
    target: Annotated[
        str, typer.Option(metavar="COLUMN", help="The column to predict.", show_default=False)
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            metavar="MODEL_DIR",
            help="The model folder to write.",
            show_default=False,
        ),
    ],
    application: Annotated[
        str | None,
        typer.Option(
            metavar="|".join(APPLICATION_NAMES),
            help="What to learn (default: classification or regression, from the target).",
            show_default=False,
        ),
    ] = None,
    features: Annotated[
        str | None,
        typer.Option(metavar="A,B,C", help="Only these feature columns.", show_default=False),
    ] = None,
    exclude: Annotated[
        str | None,
        typer.Option(metavar="A,B", help="Columns to leave out.", show_default=False),
    ] = None,
    date_column: Annotated[
        str | None,
        typer.Option(
            metavar="COLUMN",
            help="The date column (default: detected) for time-ordered validation and forecasts.",
            show_default=False,
        ),
    ] = None,
    series: Annotated[
        str | None,
        typer.Option(
            metavar="A,B", help="Forecast: the columns naming a series.", show_default=False
        ),
    ] = None,
    time_budget: Annotated[
        float,
        typer.Option("--time-budget", metavar="SECONDS", help="Seconds the search may take."),
    ] = 120.0,
    cost_missed: Annotated[
        float | None,
        typer.Option(help="Failure: the cost of a missed failure.", show_default=False),
    ] = None,
    cost_false_alarm: Annotated[
        float | None,
        typer.Option(help="Failure: the cost of a false alarm.", show_default=False),
    ] = None,
    horizon: Annotated[
        int | None,
        typer.Option(help="Forecast: steps ahead (default 12).", show_default=False),
    ] = None,
    sheet: Annotated[
        str | None, typer.Option(metavar="NAME", help="The workbook sheet to read (XLSX).")
    ] = None,
    seed: Annotated[int, typer.Option(help="The folds' and the search's seed.")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the model's summary as one JSON object.")
    ] = False,
) -> None:
    """Train a predictive model on a table file and save it in a folder."""
    from augury.engines.tabular.automl import ModelError, TrainOptions
    from augury.engines.tabular.automl import train as train_model

    if application is not None and application not in APPLICATION_NAMES:
        _fail(f"--application is one of {', '.join(APPLICATION_NAMES)}, not {application!r}")
    if not time_budget > 0:
        _fail("--time-budget is a number of seconds above 0")
    _check_out_dir(out)
    frame = read_frame(input_file, sheet)
    if target not in frame.columns:
        _fail(f"--target: the file has no column {target!r} (it has {_listing(frame.columns)})")
    extra: dict[str, Any] = {} if horizon is None else {"horizon": horizon}
    try:
        options = TrainOptions(
            application=application,
            features=_names(features) or None,
            exclude=_names(exclude),
            date_column=date_column,
            series_columns=_names(series),
            time_budget_s=float(time_budget),
            cost_missed=cost_missed,
            cost_false_alarm=cost_false_alarm,
            seed=seed,
            **extra,
        )
        started = time.perf_counter()
        model = train_model(frame, target, options, progress=_progress_printer())
        digest = model.save(out)
    except ModelError as exc:
        _fail(exc.message)
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror or exc}")
    summary = model.summary()
    if as_json:
        body = {**summary, "model_dir": str(out), "content_hash": digest}
        typer.echo(json.dumps(_plain(body), ensure_ascii=False, allow_nan=False))
        return
    for line in summary_lines(summary):
        typer.echo(line)
    typer.echo(f"model in {out} ({digest}), trained in {time.perf_counter() - started:.1f} s")


@model_app.command(no_args_is_help=True, help=_PREDICT_HELP)
def predict(
    model_dir: Annotated[
        Path, typer.Argument(metavar="MODEL_DIR", help="The model folder.", show_default=False)
    ],
    input_file: Annotated[
        Path, typer.Argument(metavar="DATA", help="The table file to predict.", show_default=False)
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", metavar="PRED.csv", help="Predictions CSV ('-': standard output)."
        ),
    ],
    sheet: Annotated[
        str | None, typer.Option(metavar="NAME", help="The workbook sheet to read (XLSX).")
    ] = None,
) -> None:
    """Predict a table file with a model folder that `augury model train` wrote."""
    from augury.engines.tabular.automl import ModelError, load

    to_stdout = str(out) == "-"
    if not to_stdout and not out.parent.is_dir():
        _fail(f"cannot write {out}: no such directory {out.parent}")
    if not model_dir.is_dir():
        _fail(f"{model_dir} is not a model folder (no such folder)")
    started = time.perf_counter()
    try:
        model = load(model_dir)
    except ModelError as exc:
        _fail(f"{model_dir}: {exc.message}")
    frame = read_frame(input_file, sheet)
    try:
        predicted = model.predict(frame)
    except ModelError as exc:
        _fail(exc.message)
    task = model.summary().get("task")
    result = predicted if task == "forecast" else with_predictions(frame, predicted)
    _write_csv(result, out)
    where = "" if to_stdout else f" to {out}"
    typer.echo(
        f"predicted {len(result)} rows{where} in {time.perf_counter() - started:.1f} s",
        err=to_stdout,
    )


# --- reading and writing ----------------------------------------------------------------


def read_frame(path: Path, sheet: str | None = None) -> pd.DataFrame:
    """A table file as pandas reads the server's datasets: converted to Parquet as an
    upload is (encoding and delimiter detected, names cleaned), then read back."""
    import pandas as pd

    from augury.engines.tabular.errors import TableError
    from augury.engines.tabular.read import convert

    if not path.is_file():
        _fail(f"cannot read {path}: no such file")
    try:
        with tempfile.TemporaryDirectory(prefix="augury-model-") as folder:
            parquet = Path(folder) / "table.parquet"
            convert(path, parquet, filename=path.name, sheet=sheet)
            return pd.read_parquet(parquet)
    except TableError as exc:
        _fail(exc.message)
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror or exc}")


def with_predictions(frame: pd.DataFrame, predicted: pd.DataFrame) -> pd.DataFrame:
    """The input rows, in order, then the model's columns; a name the input already has
    gets a suffix (``prediction_2``) so no input column is overwritten."""
    import pandas as pd

    taken = {str(c) for c in frame.columns}
    renamed = {}
    for name in predicted.columns:
        new, n = str(name), 1
        while new in taken:
            n += 1
            new = f"{name}_{n}"
        taken.add(new)
        renamed[name] = new
    added = predicted.rename(columns=renamed).reset_index(drop=True)
    return pd.concat([frame.reset_index(drop=True), added], axis=1)


def _write_csv(frame: pd.DataFrame, out: Path) -> None:
    if str(out) == "-":
        frame.to_csv(sys.stdout, index=False)
        return
    try:
        frame.to_csv(out, index=False)
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror or exc}")


def _check_out_dir(out: Path) -> None:
    """Fail before training, not after, when the model cannot be written there."""
    if out.exists() and not out.is_dir():
        _fail(f"cannot write {out}: it is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not _is_model_dir(out):
        _fail(f"{out} is a folder of other files; name a new or empty folder, or a model folder")
    if not out.parent.is_dir():
        _fail(f"cannot write {out}: no such directory {out.parent}")


def _is_model_dir(folder: Path) -> bool:
    """Whether ``folder`` holds a model augury wrote (which training may replace)."""
    from augury.engines.tabular.automl import ModelError, load

    try:
        load(folder)
    except (ModelError, OSError, ValueError):
        return False
    return True


def _listing(columns: Any, most: int = 12) -> str:
    names = [str(c) for c in columns]
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


# --- what training prints ---------------------------------------------------------------


def _progress_printer() -> Callable[[float, str], None]:
    """The engine's progress on standard error, a line each time the whole tenth
    changes, so a long search shows it is moving while stdout stays the summary."""
    shown = -1

    def show(pct: float, message: str) -> None:
        nonlocal shown
        step = int(pct // 10)
        if step != shown:
            shown = step
            typer.echo(f"training {pct:3.0f}% {message}".rstrip(), err=True)

    return show


_TASKS = {
    "binary": "binary classification",
    "multiclass": "multiclass classification",
    "regression": "regression",
    "forecast": "forecast",
}


def summary_lines(s: dict[str, Any]) -> list[str]:
    """The summary as a person reads it: the task, the columns left out and why, the
    validation metrics (mean ± std over the folds), then the most important features."""
    task = _TASKS.get(str(s.get("task")), str(s.get("task")))
    line = f"task: {task} of {s['target']!r} ({s.get('application')})"
    classes = s.get("classes")
    if classes:
        line += f", {len(classes)} classes: {_listing(classes, 10)}"
    lines = [line, f"rows: {s.get('rows')}, features: {len(s.get('features') or [])}"]
    if s.get("date_column"):
        series = ", ".join(s.get("series_columns") or []) or "one series"
        lines.append(f"date column: {s['date_column']} ({series})")
    excluded = s.get("excluded") or []
    if excluded:
        lines.append(f"excluded columns ({len(excluded)}):")
        width = max(len(str(e["column"])) for e in excluded)
        for e in excluded:
            lines.append(f"  {str(e['column']).ljust(width)}  {e['code']}: {e['reason']}")
    else:
        lines.append("excluded columns: none")
    metrics = s.get("metrics") or {}
    lines.append(f"validation: {metrics.get('validation', '')}".rstrip())
    means, stds = metrics.get("mean") or {}, metrics.get("std") or {}
    primary = metrics.get("primary")
    if means:
        width = max(len(str(k)) for k in means)
        for name, mean in means.items():
            mark = "  (primary)" if name == primary else ""
            lines.append(
                f"  {str(name).ljust(width)}  {_number(mean)} ± {_number(stds.get(name))}{mark}"
            )
    if s.get("threshold") is not None:
        lines.append(f"decision threshold: {s['threshold']:.3f}")
    confusion = s.get("confusion")
    if confusion and confusion.get("labels"):
        lines.append("confusion (rows true, columns predicted):")
        lines += _confusion_lines(confusion["labels"], confusion["matrix"])
    importance = s.get("importance") or []
    if importance:
        top = ", ".join(f"{i['feature']} {i['importance']:.0%}" for i in importance[:5])
        lines.append(f"most important: {top}")
    chosen = next((c for c in s.get("candidates") or [] if c.get("chosen")), None)
    if chosen:
        lines.append(f"model: {chosen['name']} (of {len(s['candidates'])} candidates)")
    for warning in s.get("warnings") or []:
        lines.append(f"warning: {warning}")
    return lines


def _confusion_lines(labels: list[Any], matrix: list[list[int]]) -> list[str]:
    names = [str(x) for x in labels]
    cells = [[str(v) for v in row] for row in matrix]
    first = max(len(n) for n in names)
    widths = [max([len(names[j])] + [len(r[j]) for r in cells]) for j in range(len(names))]

    def line(head: str, values: list[str]) -> str:
        right = "  ".join(v.rjust(w) for v, w in zip(values, widths, strict=True))
        return f"  {head.ljust(first)}  {right}"

    return [line("", names)] + [line(n, r) for n, r in zip(names, cells, strict=True)]


def _number(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "-" if value is None else str(value)
    if math.isnan(value):
        return "nan"
    return f"{value:.4f}" if abs(value) < 1000 else f"{value:.6g}"


def _plain(value: Any) -> Any:
    """``value`` as strict JSON takes it: NumPy scalars and arrays as numbers and lists,
    NaN and infinities as null (a metric one fold could not compute)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
