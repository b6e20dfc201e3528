"""Readers of uploads that are tables: CSV, TSV, TXT, JSON, JSONL, XLSX and Parquet.

Each reads the whole file into columns of Python values in one streaming pass (JSON,
which must be parsed whole, excepted) and returns a :class:`~._table.DocumentTable`.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from ..tabular._read_common import clean_names
from ..tabular.read import convert
from ._table import DocumentTable, jsonable
from .errors import TextFileError

MAX_JSON_BYTES = 128 << 20
"""The largest JSON (not JSONL) file read: it is parsed whole, as Python objects."""

MAX_COLUMNS = 10_000
SNIFF_BYTES = 64 << 10
"""How much of a file its format, encoding and delimiter are read from."""

_DELIMITERS = (",", "\t", ";", "|")
_NO_DELIMITER = "\ufdd0"
"""A Unicode noncharacter, which no text holds: the delimiter of a one-column file."""
_T = TypeVar("_T")
_JSON_KINDS = {
    type(None): "null",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    list: "an array",
}


def find_delimiter(sample: str, hint: str | None = None) -> str | None:
    """The delimiter that splits the sample's first line, and most of the next 20, into
    the same number (two or more) of fields, or None."""
    if hint == "tsv":
        return "\t"
    lines = sample.splitlines()[:21]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may end inside a line
    best: tuple[float, int, str] | None = None
    for delimiter in _DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter) if row]
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        share = counts.count(mode) / len(counts)
        fits = mode >= 2 and counts[0] == mode and share >= 0.6
        if fits and (best is None or (share, mode) > best[:2]):
            best = (share, mode, delimiter)
    return best[2] if best else None


def _with_text(
    path: Path,
    encoding: str,
    warnings: list[str],
    read: Callable[[IO[str]], _T],
    newline: str | None = None,
) -> _T:
    """``read(file)`` over the file opened as text, strictly; if a byte turns out not to
    be valid ``encoding`` (only the first MiB was checked), read again with such bytes
    replaced, and say so."""
    try:
        with open(path, encoding=encoding, newline=newline) as f:
            return read(f)
    except UnicodeDecodeError:
        pass
    warnings.append(f"Some bytes were not valid {encoding}; they were replaced with '\ufffd'.")
    with open(path, encoding=encoding, errors="replace", newline=newline) as f:
        return read(f)


def read_delimited(path: Path, format: str, encoding: str, header: bool | None) -> DocumentTable:
    with open(path, encoding=encoding, errors="replace", newline="") as f:
        sample = f.read(SNIFF_BYTES)
    found = find_delimiter(sample, format)
    # One column: its lines are the cells, commas in a review included.
    delimiter = found or _NO_DELIMITER
    csv.field_size_limit(sys.maxsize)
    warnings: list[str] = []

    def read(f: IO[str]) -> tuple[list[str], list[list[Any]], int, int]:
        rows = (row for row in csv.reader(f, delimiter=delimiter) if any(row))
        first = next(rows, None)
        if first is None:
            raise TextFileError("EMPTY_FILE", "The file has no rows: upload a file with text.")
        named = _looks_like_header(first) if header is None else header
        cells: list[list[Any]] = [[] for _ in first]
        short = long = 0
        for row in rows if named else itertools.chain([first], rows):
            if len(row) < len(cells):
                short += 1
                row += [""] * (len(cells) - len(row))
            elif len(row) > len(cells):
                long += 1
                cells += [[None] * len(cells[0]) for _ in range(len(row) - len(cells))]
            for column, value in zip(cells, row, strict=True):
                column.append(value or None)
        if not named:
            return [f"column_{i}" for i in range(1, len(cells) + 1)], cells, short, long
        return first + [""] * (len(cells) - len(first)), cells, short, long

    raw, cells, short, long = _with_text(path, encoding, warnings, read, newline="")
    if not cells[0]:
        raise TextFileError("NO_ROWS", "The file has a header but no rows: add the documents.")
    if short or long:
        warnings.append(
            f"{short:,} rows had fewer fields than the header (the missing ones are empty) "
            f"and {long:,} rows had more (kept in extra columns)."
        )
    columns, renamed = clean_names(raw, MAX_COLUMNS)
    return DocumentTable(
        format,
        columns,
        cells,
        encoding=_codec_name(encoding),
        delimiter=found,
        renamed=renamed,
        warnings=warnings,
    )


def _looks_like_header(row: list[str]) -> bool:
    """A first row names columns unless a cell is a number or reads like a sentence."""
    for cell in row:
        text = cell.strip()
        if len(text) > 64 or len(text.split()) > 5 or text.endswith((".", "!", "?")):
            return False
        if text and _is_number(text):
            return False
    return any(cell.strip() for cell in row)


def read_lines(path: Path, encoding: str) -> DocumentTable:
    warnings: list[str] = []
    texts = _with_text(
        path, encoding, warnings, lambda f: [line.rstrip("\n") for line in f if not line.isspace()]
    )
    if not texts:
        raise TextFileError("EMPTY_FILE", "The file has no text: upload a file with text in it.")
    return DocumentTable(
        "txt", ["text"], [texts], encoding=_codec_name(encoding), warnings=warnings
    )


def read_json(path: Path, format: str, encoding: str) -> DocumentTable:
    warnings: list[str] = []
    if format == "json":
        if path.stat().st_size > MAX_JSON_BYTES:
            raise TextFileError(
                "FILE_TOO_LARGE",
                f"A JSON file is read whole, so at most {MAX_JSON_BYTES >> 20} MiB: upload "
                "JSON lines (one object per line) or CSV instead.",
                {"max_bytes": MAX_JSON_BYTES},
            )
        data = _with_text(path, encoding, warnings, lambda f: _parse(f.read(), None))
        keys, cells = _columns(_json_items(data))
    else:
        keys, cells = _with_text(path, encoding, warnings, lambda f: _columns(_jsonl_items(f)))
    names, renamed = clean_names(keys, MAX_COLUMNS)
    return DocumentTable(
        format, names, cells, encoding=_codec_name(encoding), renamed=renamed, warnings=warnings
    )


def _columns(items: Iterable[tuple[object, str]]) -> tuple[list[str], list[list[Any]]]:
    """Records as columns: keys in the order first seen, None where a record lacks one;
    a string is the record ``{"text": string}``."""
    columns: dict[str, list[Any]] = {}
    rows = 0
    for item, where in items:
        if isinstance(item, str):
            item = {"text": item}
        elif not isinstance(item, dict):
            kind = _JSON_KINDS.get(type(item), "value")
            raise TextFileError(
                "INVALID_JSON",
                f"{where} is {kind}: each document must be an object or a string.",
                {"where": where},
            )
        for key, value in item.items():
            cells = columns.setdefault(str(key), [])
            if len(cells) < rows:
                cells.extend([None] * (rows - len(cells)))
            cells.append(value)
        rows += 1
    if not rows:
        raise TextFileError("NO_ROWS", "The JSON holds no documents: add objects or strings.")
    for cells in columns.values():
        cells.extend([None] * (rows - len(cells)))
    if not columns:
        columns["text"] = [None] * rows
    return list(columns), list(columns.values())


def _json_items(data: object) -> Iterator[tuple[object, str]]:
    """The documents of a JSON value: an array's items, the items of the one array an
    object holds, or the value itself."""
    if isinstance(data, dict):
        arrays = [k for k, v in data.items() if isinstance(v, list)]
        if len(arrays) > 1:
            raise TextFileError(
                "INVALID_JSON",
                f"The object holds several arrays ({', '.join(map(repr, arrays))}): upload the "
                "one with the documents, as an array or JSON lines.",
                {"arrays": arrays},
            )
        if arrays:
            data = data[arrays[0]]
    if not isinstance(data, list):
        yield data, "The JSON value"
        return
    for i, item in enumerate(data):
        yield item, f"Item {i}"


def _jsonl_items(f: IO[str]) -> Iterator[tuple[object, str]]:
    for number, line in enumerate(f, start=1):
        if line.strip():
            yield _parse(line, number), f"Line {number}"


def _parse(text: str, line: int | None) -> object:
    """A JSON value; ``line`` is the line of a JSONL file ``text`` is (None for JSON)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        at = line if line is not None else exc.lineno
        raise TextFileError(
            "INVALID_JSON",
            f"The file is not valid JSON at line {at}, column {exc.colno}: {exc.msg}. Fix it, "
            "or upload CSV.",
            {"line": at, "column": exc.colno},
        ) from None


def read_xlsx(path: Path, sheet: str | None) -> DocumentTable:
    with tempfile.TemporaryDirectory(prefix="augury-text-") as folder:
        parquet = Path(folder) / "sheet.parquet"
        converted = convert(path, parquet, format="xlsx", sheet=sheet)
        table = pq.read_table(parquet)
    return DocumentTable(
        "xlsx",
        list(table.column_names),
        _arrow_cells(table),
        sheet=converted.sheet,
        renamed=converted.renamed,
        warnings=converted.warnings,
    )


def read_parquet(path: Path) -> DocumentTable:
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for a bad file
        raise TextFileError(
            "INVALID_PARQUET", f"The file is not valid Parquet ({exc}): export it again."
        ) from None
    if table.num_rows == 0:
        raise TextFileError("NO_ROWS", "The Parquet file has no rows.")
    names, renamed = clean_names([str(n) for n in table.column_names], MAX_COLUMNS)
    return DocumentTable("parquet", names, _arrow_cells(table), renamed=renamed)


def _arrow_cells(table: pa.Table) -> list[list[Any]]:
    """Each column as a list of JSON-able values (dates as ISO text, decimals as floats,
    bytes as base64, NaN as None)."""
    columns = []
    for column in table.columns:
        values = column.to_pylist()
        if not (pa.types.is_integer(column.type) or pa.types.is_string(column.type)):
            values = [jsonable(v) for v in values]
        columns.append(values)
    return columns


def _codec_name(encoding: str) -> str:
    return encoding.removesuffix("-sig")


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text.replace(",", "")))
    except ValueError:
        return False
