"""The table of documents an upload becomes, and how its cells read as text.

:func:`~.documents.read_table` returns a :class:`DocumentTable`; this module holds it and
the cell helpers every reader shares, so the readers (:mod:`._tables`, :mod:`._pages`)
and :mod:`.documents` do not import each other.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import TextFileError

PAGE_SEPARATOR = "\n\n"
"""Between a PDF's pages in its text: a blank line, so paragraphs never run across."""


@dataclass
class DocumentTable:
    """An upload as columns of cells; each row is one candidate document.

    ``columns`` are cleaned names (trimmed, ``column_<n>`` for an empty header, ``x_2``
    for a repeat; ``renamed`` maps each changed header). Cells are JSON-able values: text
    for CSV, TSV and TXT; the file's own types for JSON, XLSX and Parquet (dates as ISO
    text). PDFs and images have one row and one column, ``text``, with ``pages`` the
    ``[start, end)`` span of each page in it and ``ocr`` whether any page was read by
    OCR. ``encoding`` and ``delimiter`` say how a text file was read (no delimiter: one
    column), ``sheet`` which sheet of a workbook; ``warnings`` say what was repaired on
    the way (bytes replaced, rows padded).
    """

    format: str
    columns: list[str]
    cells: list[list[Any]] = field(repr=False)
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    pages: list[tuple[int, int]] | None = None
    ocr: bool = False
    renamed: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return len(self.cells[0]) if self.cells else 0

    def column(self, column: str | int) -> str:
        """The name of ``column``, given by name (exactly, else ignoring case) or by
        0-based position (an int, or digits that name no column)."""
        if isinstance(column, str):
            if column in self.columns:
                return column
            folded = [c for c in self.columns if c.casefold() == column.casefold()]
            if len(folded) == 1:
                return folded[0]
            if column.isdecimal():
                column = int(column)
        if (
            isinstance(column, int)
            and not isinstance(column, bool)
            and 0 <= column < len(self.columns)
        ):
            return self.columns[column]
        raise TextFileError(
            "COLUMN_NOT_FOUND",
            f"The file has no column {column!r}; pick one of {', '.join(map(repr, self.columns))} "
            "(by name, or by position from 0).",
            {"column": column, "columns": self.columns},
        )

    def values(self, column: str | int) -> list[Any]:
        """The column's cells as read (the raw columns of a labeled upload)."""
        return self.cells[self.columns.index(self.column(column))]

    def texts(self, column: str | int) -> list[str | None]:
        """Each row's document: the cell as text, None where it is missing or blank.

        Numbers and booleans are written as JSON writes them, nested values as JSON;
        NUL characters and lone surrogates (which no database stores) are removed.
        """
        return [_text(value) for value in self.values(column)]

    def meta(self, exclude: str | int | Iterable[str | int] = ()) -> list[dict[str, Any]]:
        """Each row's other cells as a dict, without the ``exclude`` column(s) (the text,
        or a labeled upload's class and label columns) and without missing cells."""
        if isinstance(exclude, str | int):
            exclude = [exclude]
        skip = {self.column(c) for c in exclude}
        kept = [
            (name, cells)
            for name, cells in zip(self.columns, self.cells, strict=True)
            if name not in skip
        ]
        rows: list[dict[str, Any]] = [{} for _ in range(self.row_count)]
        for name, cells in kept:
            for row, value in zip(rows, cells, strict=True):
                if value is not None:
                    row[name] = clean(value) if isinstance(value, str) else value
        return rows

    def preview(self, n: int = 10, *, max_chars: int = 1_000) -> list[list[Any]]:
        """The header and the first ``n`` rows, as the upload's preview shows them: a
        list of lists, header first; text longer than ``max_chars`` is cut with "…"."""
        rows = [
            [_short(cells[i], max_chars) for cells in self.cells]
            for i in range(min(n, self.row_count))
        ]
        return [list(self.columns), *rows]

    def suggest_column(self) -> str:
        """The column most likely to hold the documents: the longest text on average
        over the first 1,000 rows (the preview's default pick)."""

        def mean_length(cells: list[Any]) -> float:
            sample = [len(c) for c in cells[:1_000] if isinstance(c, str)]
            return sum(sample) / max(len(cells[:1_000]), 1)

        return max(zip(self.columns, self.cells, strict=True), key=lambda c: mean_length(c[1]))[0]


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return clean(value) if value.strip() else None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value, ensure_ascii=False, default=str)


def clean(text: str) -> str:
    """Without NUL characters and lone surrogates, which PostgreSQL and UTF-8 refuse."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", errors="replace").decode("utf-8")
    return text


def _short(value: object, max_chars: int) -> object:
    if isinstance(value, str) and len(value) > max_chars:
        return value[: max_chars - 1] + "…"
    return value


def jsonable(value: object) -> object:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value
