"""Excel workbooks (XLSX) to Parquet, a batch of rows at a time.

openpyxl opens the workbook read-only (rows stream from the sheet's XML) with
``data_only=True``: formulas are never evaluated, so a formula cell gives the value
Excel cached when it last saved the file, or None if it never did (files written by
scripts often have none).

Each batch of rows becomes a small Parquet part with the types its own values have;
DuckDB then reads the parts together and casts every column to one type for the whole
sheet (integers and floats to DOUBLE, dates and datetimes to TIMESTAMP, any other mix
to VARCHAR). So the sheet is never held in memory and a column's type still reflects
all its rows.

The zip is checked before openpyxl opens it: a few kilobytes that inflate to gigabytes
(a zip bomb) would otherwise take the server down. Python's ``zipfile`` stops at an
entry's declared size, so checking the declared sizes is enough.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

from ._read_common import Converted, copy_to_parquet
from .columns import quote_ident, quote_literal
from .errors import TableError

MAX_UNCOMPRESSED = 1 << 30
MAX_RATIO = 100
RATIO_MIN_BYTES = 10 << 20
BATCH_CELLS = 500_000

_ARROW = {
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
    "VARCHAR": pa.string(),
}


def check_zip(path: Path) -> None:
    """Refuse a zip that is not a workbook or would inflate out of proportion."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise TableError(
            "INVALID_XLSX", f"The file is not a valid XLSX workbook ({exc})."
        ) from None
    total = sum(e.file_size for e in entries)
    if total > MAX_UNCOMPRESSED:
        raise TableError(
            "ZIP_BOMB",
            f"The workbook would inflate to {total / (1 << 30):.1f} GiB; at most 1 GiB is read.",
            {"uncompressed_bytes": total},
        )
    for e in entries:
        if e.file_size > RATIO_MIN_BYTES and e.file_size > MAX_RATIO * max(e.compress_size, 1):
            raise TableError(
                "ZIP_BOMB",
                f"The workbook's part {e.filename!r} is compressed more than {MAX_RATIO}:1 "
                "and is refused as a likely zip bomb.",
                {"entry": e.filename, "uncompressed_bytes": e.file_size},
            )
    if "xl/workbook.xml" not in {e.filename for e in entries}:
        raise TableError("INVALID_XLSX", "The zip file holds no Excel workbook.")


def convert_xlsx(
    con: duckdb.DuckDBPyConnection,
    src: Path,
    dst: Path,
    *,
    sheet: str | None,
    temp_dir: Path,
    max_columns: int,
) -> Converted:
    """Convert one sheet (the first when ``sheet`` is None); see the module docstring."""
    check_zip(src)
    # A file object, not the path: openpyxl refuses a path whose name does not end in
    # .xlsx, and an upload waits in staging under a name of augury's.
    handle = src.open("rb")
    try:
        book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        handle.close()
        raise TableError("INVALID_XLSX", f"The workbook could not be opened ({exc}).") from None
    try:
        names = [ws.title for ws in book.worksheets]
        if sheet is None:
            if not names:
                raise TableError("INVALID_XLSX", "The workbook has no worksheet.")
            sheet = names[0]
        elif sheet not in names:
            raise TableError(
                "SHEET_NOT_FOUND",
                f"The workbook has no sheet {sheet!r}; its sheets are {', '.join(names)}.",
                {"sheet": sheet, "sheets": names},
            )
        ws = book[sheet]
        ws.reset_dimensions()
        raw, kinds, parts, skipped = _write_parts(ws.iter_rows(values_only=True), temp_dir,
                                                  max_columns)  # fmt: skip
    except TableError:
        raise
    except Exception as exc:
        raise TableError("INVALID_XLSX", f"The sheet could not be read ({exc}).") from None
    finally:
        book.close()
        handle.close()
    converted = _copy_parts(con, parts, raw, kinds, dst, max_columns)
    converted.sheet = sheet
    if skipped:
        converted.warnings.append(f"{skipped:,} empty rows between data rows were skipped.")
    return converted


def _write_parts(
    rows: Iterable[tuple], temp_dir: Path, max_columns: int
) -> tuple[list[str], list[set[str]], list[Path], int]:
    """Header cells, each column's types per part, the part files, and empty rows skipped."""
    it = _non_empty(rows)
    header, _ = next(it, (None, 0))
    if header is None:
        raise TableError("EMPTY_FILE", "The sheet is empty.")
    raw = [_header_text(v) for v in header]
    if len(raw) > max_columns:
        raise TableError(
            "TOO_MANY_COLUMNS",
            f"The sheet has {len(raw):,} columns; at most {max_columns:,} are allowed.",
            {"columns": len(raw), "max_columns": max_columns},
        )
    kinds: list[set[str]] = [set() for _ in raw]
    parts: list[Path] = []
    batch: list[tuple] = []
    skipped = 0
    size = max(100, BATCH_CELLS // max(len(raw), 1))
    for row, gap in it:
        skipped += gap
        batch.append(row)
        if len(batch) >= size:
            parts.append(_write_part(batch, kinds, raw, temp_dir / f"part{len(parts)}.parquet"))
            batch = []
    if batch:
        parts.append(_write_part(batch, kinds, raw, temp_dir / f"part{len(parts)}.parquet"))
    if not parts:
        raise TableError("NO_ROWS", "The sheet has a header row but no data rows.")
    return raw, kinds, parts, skipped


def _non_empty(rows: Iterable[tuple]) -> Iterator[tuple[tuple, int]]:
    """Rows with at least one value, trailing empty cells cut, each with the count of
    empty rows just before it (trailing empty rows, often only formatted, are dropped)."""
    gap = 0
    seen = False
    for row in rows:
        end = len(row)
        while end and (row[end - 1] is None or row[end - 1] == ""):
            end -= 1
        if not end:
            gap += 1 if seen else 0
            continue
        yield row[:end], gap
        seen, gap = True, 0


def _write_part(batch: list[tuple], kinds: list[set[str]], raw: list[str], path: Path) -> Path:
    width = max(len(r) for r in batch)
    if width > len(raw):
        raw += [""] * (width - len(raw))
        kinds += [set() for _ in range(width - len(kinds))]
    arrays, names = [], []
    for i in range(width):
        values = [r[i] if i < len(r) else None for r in batch]
        kind, array = _column(values)
        if kind is None:
            continue
        kinds[i].add(kind)
        arrays.append(array)
        names.append(f"c{i}")
    pq.write_table(pa.table(arrays, names=names), path)
    return path


def _column(values: list) -> tuple[str | None, pa.Array | None]:
    """The batch's values as one Arrow array, and its DuckDB type (None if all empty)."""
    present = {type(v) for v in values if v is not None and v != ""}
    if not present:
        return None, None
    values = [None if v == "" else v for v in values]
    if present == {int}:
        kind = "BIGINT" if all(v is None or -(2**63) <= v < 2**63 for v in values) else "DOUBLE"
    elif present <= {int, float}:
        kind = "DOUBLE"
    elif present == {bool}:
        kind = "BOOLEAN"
    elif present <= {dt.datetime, dt.date}:
        midnight = all(not isinstance(v, dt.datetime) or v.time() == dt.time() for v in values if v)
        kind = "DATE" if midnight else "TIMESTAMP"
        if kind == "DATE":
            values = [v.date() if isinstance(v, dt.datetime) else v for v in values]
    else:
        kind = "VARCHAR"
        values = [None if v is None else _text(v) for v in values]
    return kind, pa.array(values, type=_ARROW[kind])


def _copy_parts(
    con: duckdb.DuckDBPyConnection,
    parts: list[Path],
    raw: list[str],
    kinds: list[set[str]],
    dst: Path,
    max_columns: int,
) -> Converted:
    files = ", ".join(quote_literal(str(p)) for p in parts)
    select = []
    scanned = []
    for i, seen in enumerate(kinds):
        kind = _unify(seen)
        value = quote_ident(f"c{i}") if seen else "NULL"
        select.append(f"CAST({value} AS {kind}) AS {quote_ident(f'c{i}')}")
        scanned.append((f"c{i}", kind))
    source = f"(SELECT {', '.join(select)} FROM read_parquet([{files}], union_by_name=true))"
    rows, columns, physical, renamed = copy_to_parquet(
        con, source, scanned, dst, raw_names=raw, max_columns=max_columns
    )
    return Converted(rows=rows, columns=columns, physical=physical, format="xlsx",
                     renamed=renamed)  # fmt: skip


def _unify(kinds: set[str]) -> str:
    if not kinds:
        return "VARCHAR"
    if len(kinds) == 1:
        return next(iter(kinds))
    if kinds <= {"BIGINT", "DOUBLE"}:
        return "DOUBLE"
    if kinds <= {"DATE", "TIMESTAMP"}:
        return "TIMESTAMP"
    return "VARCHAR"


def _header_text(value: object) -> str:
    return "" if value is None else _text(value)


def _text(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
