"""`augury text train` and `augury text predict`: text models on files, with no server.

`train` reads a labeled file and writes a model folder (JSON and arrays, no pickle:
:mod:`augury.engines.text.artifact`); `predict` reads a model folder and a file and
writes the predictions. Two tasks:

* classification: a table file (CSV, TSV, XLSX, JSON, JSONL, Parquet: whatever
  :func:`augury.engines.text.documents.read_table` reads, every cell kept as written)
  with a text column and a class column (a multi-label file: labels joined by
  ``--separator`` in one cell); predictions are the input rows, in order, with
  `prediction` and `confidence` added;
* aspect-based sentiment (``--task absa``): JSONL lines ``{"text": ..., "aspects":
  [{"category": ..., "polarity": ...}, ...]}``; predictions are the same lines with
  `aspects` predicted (a line that lists categories without polarities gets their
  polarities only).

The engines are the server's (:mod:`augury.engines.text`). Input that cannot be used
(a missing file or column, a bad line, a folder that is not a model) prints
`error: ...` and exits 2.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

text_app = typer.Typer(
    no_args_is_help=True,
    help="Text models: train on a labeled file and predict a file, offline (no server).",
)

_TRAIN_HELP = (
    "Train a text model on a labeled file and save it in a folder.\n\n"
    "Classification (the default): a table file (CSV, TSV, XLSX, JSON, JSONL or Parquet) "
    "with a text column (--text) and a class column (--label). With --multi-label the "
    "cell holds any number of labels joined by --separator.\n\n"
    "Aspect-based sentiment (--task absa): a JSONL file, one line per sentence: "
    '{"text": ..., "aspects": [{"category": ..., "polarity": ...}, ...]}.\n\n'
    "The model folder holds model.json, vocabulary.json and arrays.npz: data only, "
    "never code, with a content hash that loading checks."
)
_PREDICT_HELP = (
    "Predict a file with a model folder that `augury text train` wrote.\n\n"
    "A classifier reads a table file and writes its rows, in order, with the columns "
    "prediction and confidence added (CSV; '-' for standard output); a multi-label "
    "prediction joins its labels with --separator.\n\n"
    "An ABSA model reads JSONL and writes the same lines with aspects predicted: "
    "category, polarity, confidence (the polarity's probability) and category_confidence. "
    "A line that lists categories without polarities gets only their polarities."
)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@text_app.command(no_args_is_help=True, help=_TRAIN_HELP)
def train(
    input_file: Annotated[
        Path,
        typer.Argument(metavar="TRAIN", help="The labeled file.", show_default=False),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="MODEL_DIR", help="The model folder to write.")
    ],
    task: Annotated[
        str, typer.Option(metavar="classify|absa", help="What the model learns.")
    ] = "classify",
    text: Annotated[str, typer.Option(help="The column holding the texts.")] = "text",
    label: Annotated[str, typer.Option(help="The column holding the classes.")] = "label",
    multi_label: Annotated[
        bool, typer.Option("--multi-label", help="Each text may have any number of labels.")
    ] = False,
    separator: Annotated[
        str, typer.Option(help="Between the labels of one cell (--multi-label).")
    ] = "|",
    sheet: Annotated[
        str | None, typer.Option(metavar="NAME", help="The workbook sheet to read (XLSX).")
    ] = None,
) -> None:
    """Train a text model on a labeled file and save it in a folder."""
    from augury.engines.text.model_errors import TextModelError

    if task not in ("classify", "absa"):
        _fail(f"--task is classify or absa, not {task!r}")
    _check_out_dir(out)
    started = time.perf_counter()
    try:
        if task == "absa":
            from augury.engines.text.absa import train_absa

            records = _read_jsonl(input_file)
            absa = train_absa(records)
            digest = absa.save(out)
            summary = (
                f"{absa.info['sentences']} sentences, {len(absa.categories)} categories "
                f"({', '.join(absa.categories)}), polarities {', '.join(absa.polarities)}"
            )
        else:
            from augury.engines.text.classify import train as train_classifier

            texts, targets = _read_labeled(input_file, text, label, multi_label, separator, sheet)
            model = train_classifier(texts, targets, multi_label=multi_label)
            digest = model.save(out)
            dropped = model.info["dropped_empty"]
            summary = (
                f"{model.info['examples']} texts, {len(model.classes)} "
                f"{'labels' if multi_label else 'classes'}"
                + (f" ({dropped} rows without text or class left out)" if dropped else "")
            )
    except TextModelError as exc:
        _fail(exc.message)
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror or exc}")
    typer.echo(f"trained on {summary} in {time.perf_counter() - started:.1f} s")
    typer.echo(f"model in {out} ({digest})")


@text_app.command(no_args_is_help=True, help=_PREDICT_HELP)
def predict(
    model_dir: Annotated[
        Path, typer.Argument(metavar="MODEL_DIR", help="The model folder.", show_default=False)
    ],
    input_file: Annotated[
        Path, typer.Argument(metavar="INPUT", help="The file to predict.", show_default=False)
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", metavar="OUT", help="Predictions to write ('-': standard output)."
        ),
    ],
    text: Annotated[str, typer.Option(help="The column holding the texts.")] = "text",
    separator: Annotated[
        str, typer.Option(help="Between the labels of a multi-label prediction.")
    ] = "|",
    sheet: Annotated[
        str | None, typer.Option(metavar="NAME", help="The workbook sheet to read (XLSX).")
    ] = None,
) -> None:
    """Predict a file with a model folder that `augury text train` wrote."""
    from augury.engines.text import absa, artifact, classify
    from augury.engines.text.model_errors import TextModelError

    if str(out) != "-" and not out.parent.is_dir():
        _fail(f"cannot write {out}: no such directory {out.parent}")
    started = time.perf_counter()
    try:
        kind = artifact.read_header(model_dir)["kind"]
        if kind == absa.KIND:
            model = absa.load_absa(model_dir)
            records = _read_jsonl(input_file)
            predicted = model.predict(records)
            lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in predicted]
            _write(out, lambda f: f.writelines(lines))
            count = len(predicted)
        else:
            classifier = classify.load(model_dir)
            header, rows, texts = _read_rows(input_file, text, sheet)
            predictions = classifier.predict(texts)
            _write(out, lambda f: _write_predictions(f, header, rows, predictions, separator))
            count = len(predictions)
    except TextModelError as exc:
        _fail(exc.message)
    where = "" if str(out) == "-" else f" to {out}"
    typer.echo(
        f"predicted {count} {'lines' if kind == absa.KIND else 'rows'}{where} "
        f"in {time.perf_counter() - started:.1f} s",
        err=str(out) == "-",
    )


def _check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        _fail(f"cannot write {out}: it is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "model.json").is_file():
        _fail(f"{out} is a folder of other files; name a new or empty folder, or a model folder")
    if not out.parent.is_dir():
        _fail(f"cannot write {out}: no such directory {out.parent}")


def _table(path: Path, sheet: str | None) -> Any:
    from augury.engines.text.documents import read_table
    from augury.engines.text.errors import TextFileError

    if not path.is_file():
        _fail(f"cannot read {path}: no such file")
    try:
        return read_table(path, sheet=sheet, header=True)
    except TextFileError as exc:
        _fail(exc.message)
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror or exc}")


def _column(table: Any, name: str, option: str) -> str:
    from augury.engines.text.errors import TextFileError

    try:
        return str(table.column(name))
    except TextFileError as exc:
        _fail(f"{option}: {exc.message}")


def _read_labeled(
    path: Path, text: str, label: str, multi_label: bool, separator: str, sheet: str | None
) -> tuple[list[str], list[Any]]:
    table = _table(path, sheet)
    texts = table.texts(_column(table, text, "--text"))
    classes = table.texts(_column(table, label, "--label"))
    if multi_label:
        targets: list[Any] = [
            [p.strip() for p in (c or "").split(separator) if p.strip()] for c in classes
        ]
    else:
        targets = [c.strip() if c else None for c in classes]
    return [t or "" for t in texts], targets


def _read_rows(
    path: Path, text: str, sheet: str | None
) -> tuple[list[str], list[list[Any]], list[str]]:
    table = _table(path, sheet)
    texts = table.texts(_column(table, text, "--text"))
    rows = [list(row) for row in zip(*table.cells, strict=True)] if table.cells else []
    return list(table.columns), rows, [t or "" for t in texts]


def _read_jsonl(path: Path) -> list[Any]:
    if not path.is_file():
        _fail(f"cannot read {path}: no such file")
    records = []
    try:
        with open(path, encoding="utf-8-sig") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    _fail(f"{path}, line {number}: not JSON ({exc.msg})")
    except UnicodeDecodeError:
        _fail(f"{path} is not UTF-8 text; save it as UTF-8 JSONL")
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror or exc}")
    if not records:
        _fail(f"{path} has no lines")
    return records


def _write(out: Path, write: Any) -> None:
    if str(out) == "-":
        write(sys.stdout)
        return
    try:
        with open(out, "w", encoding="utf-8", newline="") as f:
            write(f)
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror or exc}")


def _write_predictions(
    f: Any, header: list[str], rows: list[list[Any]], predictions: list[Any], separator: str
) -> None:
    writer = csv.writer(f)
    names = _added_names(header)
    writer.writerow([*header, *names])
    for row, p in zip(rows, predictions, strict=True):
        cells = [_cell(v) for v in row]
        writer.writerow([*cells, separator.join(p.labels), f"{p.confidence:.4f}"])


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _added_names(header: list[str]) -> list[str]:
    """``prediction`` and ``confidence``, suffixed when the input has such columns."""
    names = []
    for base in ("prediction", "confidence"):
        name, n = base, 1
        while name in header:
            n += 1
            name = f"{base}_{n}"
        names.append(name)
    return names
