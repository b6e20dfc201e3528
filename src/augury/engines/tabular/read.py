"""Uploaded tables (CSV, TSV, XLSX, JSON, JSONL, Parquet) converted once to Parquet.

Everything after the upload (the profile, queries, exports) reads the one Parquet file
:func:`convert` writes, with DuckDB, so no later step parses text again or holds the
table in Python memory. The conversion streams: a 1 GB CSV goes through DuckDB's
reader and one ``COPY ... TO ... (FORMAT parquet)`` under ``memory_limit``, spilling to
a temp folder beside ``dst``; a workbook goes a batch of rows at a time.

Column names are cleaned the same way for every format (trimmed, ``column_<n>`` for an
empty one, ``name_2`` for a repeat); nested JSON and Parquet values are stored as JSON
text; the types are those the reader found (``BIGINT``, ``DOUBLE``, ``DATE``,
``TIMESTAMP``, ``BOOLEAN``, ``VARCHAR``). Dates written other than ISO stay text: the
profile, which sees the whole column, decides how to read them.

Bad input raises :class:`~.errors.TableError` with a stable code: ``EMPTY_FILE``,
``NO_ROWS``, ``UNSUPPORTED_FORMAT``, ``ENCODING``, ``INVALID_CSV``, ``INVALID_JSON``,
``INVALID_PARQUET``, ``INVALID_XLSX``, ``ZIP_BOMB``, ``SHEET_NOT_FOUND``,
``TOO_MANY_COLUMNS``, ``FILE_TOO_LARGE``.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "sales.csv").write_text("day;region;amount\\n2024-01-02;North;12.5\\n"
...                                       "2024-01-03; South ;7\\n")
>>> out = convert(folder / "sales.csv", folder / "sales.parquet")
>>> out.format, out.delimiter, out.rows, out.physical
('csv', ';', 2, {'day': 'DATE', 'region': 'VARCHAR', 'amount': 'DOUBLE'})
>>> read_preview(folder / "sales.parquet")
(['day', 'region', 'amount'], [['2024-01-02', 'North', 12.5], ['2024-01-03', ' South ', 7.0]])
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import os
import re
import shutil
import tempfile
import uuid
import zipfile
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from ._duckdb import connect as duck_connect
from ._read_common import Converted, connect, copy_to_parquet, describe
from ._read_csv import convert_csv
from ._read_xlsx import convert_xlsx
from .columns import quote_literal
from .errors import TableError

__all__ = ["FORMATS", "Converted", "convert", "detect_format", "read_preview", "records_to_parquet"]

FORMATS = ("csv", "tsv", "xlsx", "json", "jsonl", "parquet")
"""The formats :func:`convert` reads."""

MAX_WRAPPED_JSON = 256 << 20
"""The largest ``{"data": [...]}`` file read: DuckDB parses one object whole."""

FULL_JSON_SCAN = 512 << 20
"""JSON up to this size has its keys and types read from every record, not a sample."""

_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_JSON_LINE = re.compile(r"line (\d+)")
_SNIFF_BYTES = 64 << 10


def detect_format(path: Path, filename: str | None = None) -> str:
    """The file's format, from its content first and its name's extension as a hint.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "upload"
    >>> _ = p.write_text('{"a": 1}\\n{"a": 2}\\n')
    >>> detect_format(p), detect_format(p, "export.json")
    ('jsonl', 'jsonl')
    """
    hint = _EXTENSIONS.get(Path(filename or path.name).suffix.lower())
    with open(path, "rb") as f:
        head = f.read(_SNIFF_BYTES)
        if not head.strip() and not f.read(1):
            raise TableError("EMPTY_FILE", "The file is empty.")
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        if _is_workbook(path):
            return "xlsx"
        raise TableError("UNSUPPORTED_FORMAT", "The zip file holds no Excel workbook.")
    if head.startswith((b"\xd0\xcf\x11\xe0", b"\x1f\x8b", b"%PDF", b"\x89PNG")):
        raise TableError(
            "UNSUPPORTED_FORMAT",
            "The file is not a table we read (CSV, TSV, XLSX, JSON, JSONL or Parquet); "
            "save old .xls workbooks as .xlsx.",
        )
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        return _json_or_lines(text, hint)
    if hint in ("csv", "tsv"):
        return hint
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TableError("UNSUPPORTED_FORMAT", "The file is binary, not a table we read.")
    return "tsv" if b"\t" in head.split(b"\n", 1)[0] else "csv"


def convert(
    src: Path,
    dst: Path,
    *,
    format: str | None = None,
    filename: str | None = None,
    sheet: str | None = None,
    max_columns: int = 10_000,
    memory_limit: str = "512MB",
    threads: int = 2,
) -> Converted:
    """Convert ``src`` into the Parquet file ``dst``, atomically.

    ``dst`` appears whole (written beside it, then renamed) or not at all: any error
    removes what was written. ``format`` skips detection; ``sheet`` names a workbook's
    sheet (the first otherwise). A workbook's formulas are never evaluated: a formula
    cell gives the value Excel cached when it saved the file, or None.
    """
    src, dst = Path(src), Path(dst)
    if src.stat().st_size == 0:
        raise TableError("EMPTY_FILE", "The file is empty.")
    format = format or detect_format(src, filename)
    if format not in FORMATS:
        raise TableError("UNSUPPORTED_FORMAT", f"Unknown format {format!r}; one of {FORMATS}.")
    temp_dir = Path(tempfile.mkdtemp(prefix=f".{dst.name}.", dir=dst.parent))
    part = dst.with_name(f".{dst.name}.{uuid.uuid4().hex}.part")
    try:
        con = connect(memory_limit, threads, temp_dir)
        try:
            converted = _convert(con, src, part, format, sheet, temp_dir, max_columns)
        finally:
            con.close()
        if converted.rows == 0:
            raise TableError("NO_ROWS", "The file has a header but no data rows.")
        os.replace(part, dst)
        return converted
    except duckdb.OutOfMemoryException:
        raise TableError(
            "FILE_TOO_LARGE", f"The file needs more than {memory_limit} of memory to convert."
        ) from None
    except UnicodeDecodeError as exc:  # e.g. a JSON key that is not UTF-8 (JSON must be)
        raise TableError(
            "ENCODING",
            f"The {format.upper()} file holds bytes that are not UTF-8 text "
            f"(byte 0x{exc.object[exc.start]:02x}); save it as UTF-8.",
        ) from None
    except duckdb.Error as exc:
        code = {"json": "INVALID_JSON", "jsonl": "INVALID_JSON", "parquet": "INVALID_PARQUET"}
        raise TableError(
            code.get(format, "INVALID_CSV" if format in ("csv", "tsv") else "INVALID_XLSX"),
            f"The file could not be read as {format.upper()}: {_first_line(exc)}",
        ) from None
    finally:
        part.unlink(missing_ok=True)
        shutil.rmtree(temp_dir, ignore_errors=True)


def records_to_parquet(records: list[dict], dst: Path) -> Converted:
    """Write a JSON body's records (keys unioned in the order first seen) to ``dst``.

    >>> import tempfile
    >>> dst = Path(tempfile.mkdtemp()) / "t.parquet"
    >>> out = records_to_parquet([{"a": 1}, {"b": "x", "a": 2}], dst)
    >>> out.columns, out.rows, read_preview(dst)[1]
    (['a', 'b'], 2, [[1, None], [2, 'x']])
    """
    if not records:
        raise TableError("NO_ROWS", "No records were given.")
    if not all(isinstance(r, dict) for r in records):
        raise TableError("INVALID_JSON", "Every record must be an object of column values.")
    dst = Path(dst)
    keys = list(dict.fromkeys(str(k) for r in records for k in r))
    fd, name = tempfile.mkstemp(suffix=".jsonl", dir=dst.parent)
    src = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for r in records:
                row = {k: _finite(r.get(k)) for k in keys}
                f.write(json.dumps(row, default=str, allow_nan=False) + "\n")
        converted = convert(src, dst, format="jsonl")
    except ValueError as exc:
        if isinstance(exc, TableError):
            raise
        raise TableError("INVALID_JSON", f"The records are not valid JSON ({exc}).") from None
    finally:
        src.unlink(missing_ok=True)
    converted.format = "json"
    return converted


def read_preview(path: Path, limit: int = 100) -> tuple[list[str], list[list]]:
    """The first ``limit`` rows of a Parquet file: column names and JSON-able rows
    (dates as ISO text, decimals as floats, NaN as None)."""
    con = duck_connect()
    try:
        cur = con.execute(
            f"SELECT * FROM read_parquet({quote_literal(str(path))}) LIMIT {int(limit)}"
        )
        columns = [d[0] for d in cur.description or []]
        rows = [[_jsonable(v) for v in row] for row in cur.fetchall()]
    finally:
        con.close()
    return columns, rows


def _convert(
    con: duckdb.DuckDBPyConnection,
    src: Path,
    dst: Path,
    format: str,
    sheet: str | None,
    temp_dir: Path,
    max_columns: int,
) -> Converted:
    if format in ("csv", "tsv"):
        return convert_csv(con, src, dst, format=format, temp_dir=temp_dir,
                           max_columns=max_columns)  # fmt: skip
    if format == "xlsx":
        return convert_xlsx(con, src, dst, sheet=sheet, temp_dir=temp_dir,
                            max_columns=max_columns)  # fmt: skip
    if format == "parquet":
        return _convert_parquet(con, src, dst, max_columns)
    return _convert_json(con, src, dst, format, max_columns)


def _convert_parquet(
    con: duckdb.DuckDBPyConnection, src: Path, dst: Path, max_columns: int
) -> Converted:
    try:
        pq.ParquetFile(src).close()
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for a bad file
        raise TableError("INVALID_PARQUET", f"The file is not valid Parquet ({exc}).") from None
    source = f"read_parquet({quote_literal(str(src))})"
    rows, columns, physical, renamed = copy_to_parquet(
        con, source, describe(con, f"SELECT * FROM {source}"), dst, max_columns=max_columns
    )
    return Converted(rows, columns, physical, "parquet", renamed=renamed)


def _convert_json(
    con: duckdb.DuckDBPyConnection, src: Path, dst: Path, format: str, max_columns: int
) -> Converted:
    size = src.stat().st_size
    sample = -1 if size <= FULL_JSON_SCAN else 100_000
    path = quote_literal(str(src))
    if format == "json" and _first_char(src) == "{":
        if size > MAX_WRAPPED_JSON:
            raise TableError(
                "FILE_TOO_LARGE",
                "A JSON file holding one object is read whole; at most 256 MiB. "
                "Upload an array of records or JSON lines instead.",
            )
        source = (
            f"read_json({path}, format='unstructured', sample_size=-1, "
            f"maximum_object_size={size + 1})"
        )
    else:
        layout = "array" if format == "json" else "newline_delimited"
        source = (
            f"read_json({path}, format='{layout}', sample_size={sample}, "
            "maximum_object_size=67108864)"
        )
    try:
        scanned = describe(con, f"SELECT * FROM {source}")
        source, scanned = _unwrap(con, source, scanned)
        rows, columns, physical, renamed = copy_to_parquet(
            con, source, scanned, dst, max_columns=max_columns
        )
    except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
        found = _JSON_LINE.search(str(exc))
        line = _bad_line(src) if format == "jsonl" else int(found[1]) if found else None
        where = f" (line {line})" if line else ""
        raise TableError(
            "INVALID_JSON",
            f"The file is not valid {format.upper()}{where}: {_first_line(exc)}",
            {"line": line} if line else {},
        ) from None
    return Converted(rows, columns, physical, format, encoding="utf-8", renamed=renamed)


def _bad_line(path: Path) -> int | None:
    """The first line of a JSONL file that is not JSON (DuckDB's count can be one off)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, start=1):
            try:
                if line.strip():
                    json.loads(line)
            except ValueError:
                return number
    return None


def _unwrap(
    con: duckdb.DuckDBPyConnection, source: str, scanned: list[tuple[str, str]]
) -> tuple[str, list[tuple[str, str]]]:
    """``{"data": [{...}, ...]}``: the records of the one list of objects, else as is."""
    lists = [c for c, t in scanned if t.upper().startswith("STRUCT(") and t.endswith("[]")]
    if len(lists) != 1 or con.execute(f"SELECT count(*) FROM {source}").fetchone() != (1,):
        return source, scanned
    column = '"' + lists[0].replace('"', '""') + '"'
    inner = f"(SELECT unnest(r) FROM (SELECT unnest({column}) AS r FROM {source}))"
    return inner, describe(con, f"SELECT * FROM {inner}")


def _json_or_lines(text: bytes, hint: str | None) -> str:
    first = text.split(b"\n", 1)
    try:
        json.loads(first[0])
    except ValueError:
        return "json"
    more = len(first) > 1 and first[1].strip()
    return "jsonl" if more or hint == "jsonl" else "json"


def _is_workbook(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _finite(value: object) -> object:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _first_char(path: Path) -> str:
    with open(path, "rb") as f:
        return f.read(_SNIFF_BYTES).lstrip(b"\xef\xbb\xbf \t\r\n")[:1].decode("latin-1")


def _jsonable(value: object) -> object:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        number = float(value)
        return number if math.isfinite(number) else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
