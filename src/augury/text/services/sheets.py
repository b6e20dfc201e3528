"""Small tables in and out of files, for the classes and labels editor and for labeled
data: CSV, XLSX, JSON (a list of objects) and JSONL.

Reading gives a list of rows keyed by the header's names, lowercased and trimmed, each
with its line (the header is line 1). Writing streams rows to a file. Text cells that a
spreadsheet would run as a formula are written with a leading ``'`` (as dataset
exports do) and read back without it, so a file goes out and comes back unchanged.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils.exceptions import InvalidFileException

from augury.errors import ValidationFailed

XLSX_MAX_CELL = 32_767
"""The most characters an Excel cell holds."""
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_DELIMITERS = (",", ";", "\t", "|")
_SUFFIXES = {
    "csv": "csv",
    "tsv": "csv",
    "txt": "csv",
    "xlsx": "xlsx",
    "json": "json",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    **{other: other for other in ("pdf", "xls", "docx", "parquet", "zip")},
}


@dataclass
class Row:
    line: int
    values: dict[str, Any]

    def text(self, name: str) -> str | None:
        """The cell as text; None when absent or empty."""
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = value if isinstance(value, str) else str(value)
        return text if text != "" else None


def unreadable(message: str, reason: str = "UNREADABLE_FILE", **details: Any) -> ValidationFailed:
    return ValidationFailed(message, details={"reason": reason, **details})


def format_of(data: bytes, file_name: str | None, allowed: Sequence[str]) -> str:
    """The file's format, from its name's extension, else from its first bytes."""
    suffix = (file_name or "").rsplit(".", 1)[-1].lower() if "." in (file_name or "") else ""
    guessed = _SUFFIXES.get(suffix)
    if guessed is None:
        head = data[:64].lstrip()
        if data.startswith(b"PK\x03\x04"):
            guessed = "xlsx"
        elif data.startswith(b"%PDF"):
            guessed = "pdf"
        elif head.startswith(b"["):
            guessed = "json"
        elif head.startswith(b"{"):
            guessed = "jsonl"
        else:
            guessed = "csv"
    if guessed not in allowed:
        raise unreadable(
            f"A {guessed.upper()} file cannot be read here; send one of: "
            f"{', '.join(f.upper() for f in allowed)}.",
            reason="UNSUPPORTED_FORMAT",
            formats=list(allowed),
        )
    return guessed


def read_rows(data: bytes, fmt: str) -> list[Row]:
    """The rows of a file in ``fmt``; 422 with a reason when it cannot be read."""
    if not data.strip():
        raise unreadable("The file is empty.", reason="EMPTY_FILE")
    if fmt == "xlsx":
        return _read_xlsx(data)
    text = _decode(data)
    if fmt == "csv":
        return _read_csv(text)
    if fmt == "json":
        return _read_json(text)
    return _read_jsonl(text)


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise unreadable("The file holds NUL bytes: it is binary, not text.", reason="BINARY_FILE")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        best = from_bytes(data[: 1 << 20]).best()
        if best is None or best.encoding is None:
            raise unreadable(
                "The file's text encoding cannot be recognized; save it as UTF-8.",
                reason="UNKNOWN_ENCODING",
            ) from None
        return data.decode(best.encoding, errors="replace")


def _needs_quote(text: str) -> bool:
    """Text a spreadsheet would run as a formula, or that would read back as quoted."""
    return text.startswith(_FORMULA_START) or (text[:1] == "'" and _needs_quote(text[1:]))


def escape_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` where a spreadsheet would read text as a formula
    (and where the text itself starts with such a quote, so reading undoes exactly this).

    >>> escape_cell("=1+1"), escape_cell("'-x"), escape_cell("it's"), escape_cell(-2)
    ("'=1+1", "''-x", "it's", -2)
    """
    if isinstance(value, str) and _needs_quote(value):
        return "'" + value
    return value


def unescape_cell(value: Any) -> Any:
    """What :func:`escape_cell` was given.

    >>> unescape_cell("'=1+1"), unescape_cell("''-x"), unescape_cell("'quoted'")
    ('=1+1', "'-x", "'quoted'")
    """
    if isinstance(value, str) and value[:1] == "'" and _needs_quote(value[1:]):
        return value[1:]
    return value


def _keyed(header: Sequence[Any], cells: Sequence[Any], line: int) -> Row:
    values = {}
    for name, cell in zip(header, cells, strict=False):
        if name:
            values[name] = unescape_cell(cell)
    return Row(line, values)


def _header(cells: Sequence[Any]) -> list[str]:
    names = [str(c).strip().lower() if c is not None else "" for c in cells]
    if not any(names):
        raise unreadable("The file's first row must name its columns.", reason="NO_HEADER")
    return names


def _read_csv(text: str) -> list[Row]:
    first = text.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=first.count)
    csv.field_size_limit(2**31 - 1)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise unreadable(f"The CSV file cannot be read: {exc}.") from exc
    if not records:
        raise unreadable("The file is empty.", reason="EMPTY_FILE")
    header = _header(records[0])
    return [
        _keyed(header, [c if c != "" else None for c in cells], line)
        for line, cells in enumerate(records[1:], start=2)
        if any(c.strip() for c in cells)
    ]


def _read_xlsx(data: bytes) -> list[Row]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise unreadable(f"The file is not a readable XLSX workbook ({exc}).") from exc
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = _header(next(rows, ()))
        return [
            _keyed(header, cells, line)
            for line, cells in enumerate(rows, start=2)
            if any(c is not None and str(c).strip() for c in cells)
        ]
    finally:
        book.close()


def _read_json(text: str) -> list[Row]:
    try:
        records = json.loads(text)
    except ValueError as exc:
        raise unreadable(f"The file is not valid JSON: {exc}.") from exc
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise unreadable("A JSON file must hold a list of objects.", reason="NOT_A_LIST")
    return [
        Row(i, {str(k).strip().lower(): v for k, v in r.items()}) for i, r in enumerate(records, 1)
    ]


def _read_jsonl(text: str) -> list[Row]:
    rows = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except ValueError as exc:
            raise unreadable(f"Line {line} is not valid JSON: {exc}.", line=line) from exc
        if not isinstance(record, dict):
            raise unreadable(f"Line {line} is not a JSON object.", line=line)
        rows.append(Row(line, {str(k).strip().lower(): v for k, v in record.items()}))
    return rows


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        # Same length, so spans into the text stay right.
        value = ILLEGAL_CHARACTERS_RE.sub(" ", value)
    return escape_cell(value)


def write_rows(dst: Path, fmt: str, columns: Sequence[str], rows: Iterable[dict]) -> int:
    """Write ``rows`` (dicts keyed by ``columns``) to ``dst`` as csv, jsonl, json or xlsx;
    returns how many. Objects and lists go in CSV and XLSX cells as JSON text."""
    count = 0
    if fmt == "xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet("data")
        sheet.append(list(columns))
        for row in rows:
            sheet.append([_xlsx_cell(row.get(c)) for c in columns])
            count += 1
        book.save(dst)
        return count
    with dst.open("w", encoding="utf-8", newline="") as out:
        if fmt == "csv":
            writer = csv.writer(out)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_csv_cell(row.get(c)) for c in columns])
                count += 1
        elif fmt == "jsonl":
            for row in rows:
                out.write(json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False))
                out.write("\n")
                count += 1
        else:
            out.write("[")
            for row in rows:
                out.write(",\n" if count else "\n")
                out.write(json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False))
                count += 1
            out.write("\n]\n")
    return count


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    return escape_cell(value)


def content_type(fmt: str) -> str:
    return {
        "csv": "text/csv; charset=utf-8",
        "json": "application/json",
        "jsonl": "application/x-ndjson",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }[fmt]
