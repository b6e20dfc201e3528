"""Delimited text (CSV, TSV) to Parquet: the encoding, DuckDB's sniffer, one COPY.

DuckDB reads UTF-8, UTF-16 little-endian and Latin-1 itself; any other encoding is
transcoded to UTF-8 first, in a streaming pass to a temp file. DuckDB's sniffer finds
the delimiter, quoting, header and types from a sample; a later value that does not fit
its column's type widens that column (to DOUBLE, else VARCHAR) and the COPY runs again,
so a stray ``"n/a"`` on row 5 million costs a second pass, never the upload.

Dates stay text unless they are ISO: the sniffer would read ``01/02/2024`` one way from
its sample, and the profile decides day-first or month-first from the whole column.
"""

from __future__ import annotations

import codecs
import csv
import re
import sys
from pathlib import Path

import charset_normalizer
import duckdb

from ._read_common import Converted, copy_to_parquet
from .columns import quote_ident, quote_literal
from .errors import TableError

HEAD_BYTES = 1 << 20
SAMPLE_ROWS = 50_000
SAMPLE_CELLS = 2_000_000
WIDE = 1_000
MAX_WIDENINGS = 20
_DELIMITERS = (",", ";", "\t", "|")
_ISO_DATE = ("%Y-%m-%d",)
_ISO_TIMESTAMP = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f")
_CYRILLIC = ("cp1251", "koi8_r", "koi8_u", "iso8859_5", "cp866", "cp855", "mac_cyrillic")
_GREEK_HEBREW_ARABIC = ("cp1253", "iso8859_7", "mac_greek", "cp737", "cp1255", "iso8859_8")
_ARABIC_THAI = ("cp1256", "iso8859_6", "cp864", "cp720", "cp874", "tis_620", "iso8859_11")
_EAST_ASIAN = ("shift_jis", "cp932", "euc_jp", "gb2312", "gbk", "gb18030", "big5", "cp950")
_KOREAN_KAZAKH = ("euc_kr", "cp949", "johab", "ptcp154", "kz1048")
_OTHER_SCRIPTS = frozenset(
    codecs.lookup(name).name
    for group in (_CYRILLIC, _GREEK_HEBREW_ARABIC, _ARABIC_THAI, _EAST_ASIAN, _KOREAN_KAZAKH)
    for name in group
)
"""Guesses of ``charset_normalizer`` that are trusted. Any other (cp1250, cp775,
mac_roman...) is usually Western text it misread from a short sample, so Latin-1, or
cp1252 where its bytes 0x80-0x9F appear, is used instead."""
_BAD_COLUMN = re.compile(r'converting column "(?P<col>(?:[^"]|"")*)"')
_GUARD_TAG = "augury-widen:"
_GUARD = re.compile(re.escape(_GUARD_TAG) + r"(?P<i>\d+):(?P<val>.*)")
_BAD_VALUE = re.compile(r'Could not convert string "(?P<val>.*?)" to')


def detect_encoding(path: Path) -> tuple[str, str | None]:
    """The file's encoding as a Python codec name, and the name DuckDB reads it by
    (None when DuckDB cannot, so the file must be transcoded).

    A byte-order mark decides; else valid UTF-8 in the first MiB; else
    ``charset_normalizer``'s guess where it names a non-Latin script; else Latin-1, or
    cp1252 (the usual spreadsheet export) where bytes 0x80-0x9F appear.
    """
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "utf-8"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32", None
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16", "utf-16"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16", None
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8", "utf-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(head).best()
    guess = codecs.lookup(best.encoding).name if best else None
    if guess in _OTHER_SCRIPTS:
        return guess, None
    if guess is None and b"\x00" in head:
        raise TableError("ENCODING", "The file is not text in any encoding we recognise.")
    if re.search(rb"[\x80-\x9f]", head):
        return "cp1252", None
    return "latin-1", "latin-1"


def transcode(src: Path, dst: Path, encoding: str, errors: str = "strict") -> None:
    """Rewrite ``src`` as UTF-8 in ``dst``, a MiB at a time."""
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    offset = 0
    try:
        with open(src, "rb") as fin, open(dst, "w", encoding="utf-8", newline="") as fout:
            while chunk := fin.read(HEAD_BYTES):
                fout.write(decoder.decode(chunk))
                offset += len(chunk)
            fout.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError as exc:
        raise TableError(
            "ENCODING",
            f"The file is not valid {encoding}: byte {offset + exc.start:,} cannot be read.",
            {"encoding": encoding, "byte": offset + exc.start},
        ) from None


class _Dialect:
    """How DuckDB's sniffer says the file is written, as ``read_csv`` options."""

    def __init__(self, row: tuple, encoding: str | None):
        self.delimiter = row[0]
        self.options = {
            "delim": row[0],
            "quote": _empty(row[1]),
            "escape": _empty(row[2]),
            "new_line": row[3],
            "comment": _empty(row[4]),
            "skip": int(row[5]),
        }
        if encoding:
            self.options["encoding"] = encoding
        self.header = bool(row[6])
        date_format, timestamp_format = row[8], row[9]
        self.types = []
        for column in row[7]:
            kind = column["type"]
            if kind == "DATE" and date_format and date_format not in _ISO_DATE:
                kind = "VARCHAR"
            if kind.startswith("TIMESTAMP") and timestamp_format not in (None, *_ISO_TIMESTAMP):
                kind = "VARCHAR"
            self.types.append(kind)

    def source(self, path: Path, names: list[str], types: list[str], **extra: object) -> str:
        columns = ", ".join(
            f"{quote_literal(n)}: {quote_literal(t)}" for n, t in zip(names, types, strict=True)
        )
        options = {**self.options, **extra}
        args = ", ".join(f"{k}={_sql_value(v)}" for k, v in options.items())
        return (
            f"read_csv({quote_literal(str(path))}, auto_detect=false, {args}, "
            f"columns={{{columns}}})"
        )


def convert_csv(
    con: duckdb.DuckDBPyConnection,
    src: Path,
    dst: Path,
    *,
    format: str,
    temp_dir: Path,
    max_columns: int,
) -> Converted:
    """Convert a delimited text file; see the module docstring."""
    encoding, duck_encoding = detect_encoding(src)
    warnings: list[str] = []
    path = src
    if duck_encoding is None:
        path = temp_dir / "utf8.csv"
        transcode(src, path, encoding)
        duck_encoding = "utf-8"
    try:
        return _convert(con, path, dst, format, encoding, duck_encoding, max_columns, warnings)
    except duckdb.InvalidInputException as exc:
        if "unicode" not in str(exc).lower() or path != src:
            raise
    path = temp_dir / "utf8.csv"
    transcode(src, path, "utf-8", errors="replace")
    warnings.append("Some bytes were not valid UTF-8; they were replaced with '\ufffd'.")
    return _convert(con, path, dst, format, encoding, "utf-8", max_columns, warnings)


def _convert(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    dst: Path,
    format: str,
    encoding: str,
    duck_encoding: str,
    max_columns: int,
    warnings: list[str],
) -> Converted:
    dialect = _sniff(con, path, duck_encoding, null_padding=False)
    ragged = False
    skipped = _skipped_rows_hold_fields(path, dialect, duck_encoding)
    if len(dialect.types) == 1 or skipped:
        # One column, or lines with fields skipped as a preamble: ragged rows look like
        # either to a sniffer that expects every row to have as many fields as the header.
        padded = _sniff(con, path, duck_encoding, null_padding=True)
        if len(padded.types) > 1 and padded.options["skip"] < max(dialect.options["skip"], 1):
            dialect, ragged = padded, True
    if dialect.options["skip"]:
        warnings.append(
            f"The first {dialect.options['skip']:,} lines were skipped: they do not have the "
            "table's shape (a title or notes above it)."
        )
    raw = _header(path, dialect, "utf-8-sig" if duck_encoding == "utf-8" else encoding)
    if len(raw) > max_columns:
        raw = raw[: max_columns + 1]
    types = (dialect.types + ["VARCHAR"] * len(raw))[: len(raw)]
    names = [f"c{i}" for i in range(len(raw))]
    if not ragged:
        try:
            return _copy(con, path, dst, dialect, raw, names, types, format, encoding,
                         max_columns, warnings, null_padding=False)  # fmt: skip
        except duckdb.InvalidInputException as exc:
            if "Expected Number of Columns" not in str(exc):
                raise
    short, long, width = _count_ragged(con, path, dialect, names)
    if width > len(raw):
        raw += [""] * (width - len(raw))
        types = (dialect.types + ["VARCHAR"] * width)[:width]
        names = [f"c{i}" for i in range(width)]
    warnings.append(
        f"{short:,} rows had fewer fields than the header (the missing ones are empty) and "
        f"{long:,} rows had more (kept in extra columns)."
    )
    return _copy(con, path, dst, dialect, raw, names, types, format, encoding,
                 max_columns, warnings, null_padding=True)  # fmt: skip


def _skipped_rows_hold_fields(path: Path, dialect: _Dialect, encoding: str) -> bool:
    """Whether a line the sniffer would skip has the delimiter in it: rows of the table
    (a title or notes above a table have none)."""
    skip = int(dialect.options["skip"])
    if not skip:
        return False
    with open(
        path, encoding="utf-8-sig" if encoding == "utf-8" else encoding, errors="replace"
    ) as f:
        lines = [f.readline() for _ in range(skip)]
    return any(dialect.delimiter in line for line in lines)


def _sniff(
    con: duckdb.DuckDBPyConnection, path: Path, encoding: str, *, null_padding: bool
) -> _Dialect:
    rows, fields, delimiter = _first_line_shape(path)
    options = f"sample_size={rows}, encoding={quote_literal(encoding)}"
    options += f", null_padding={str(null_padding).lower()}"
    if fields > WIDE:
        # Trying every quote and escape on thousands of columns needs more than
        # memory_limit: a file this wide is machine-written, with the usual quoting.
        options += f", delim={quote_literal(delimiter)}, quote='\"', escape='\"'"
    try:
        row = con.execute(
            f"SELECT * FROM sniff_csv({quote_literal(str(path))}, {options})"
        ).fetchone()
    except duckdb.Error as exc:
        raise TableError(
            "INVALID_CSV", f"The file could not be read as delimited text: {_first_line(exc)}"
        ) from None
    if row is None or row[0] not in _DELIMITERS and len(row[7]) > 1:
        raise TableError("INVALID_CSV", "The file's delimiter is not one of , ; tab |.")
    return _Dialect(row, encoding)


def _first_line_shape(path: Path) -> tuple[int, int, str]:
    """Rows for the sniffer to sample (fewer for a wide file, whose sample must fit
    ``memory_limit``), and the fields and likely delimiter of the first line."""
    with open(path, "rb") as f:
        line = f.readline(HEAD_BYTES)
    counts = {d: line.count(d.encode()) for d in _DELIMITERS}
    delimiter = max(counts, key=lambda d: counts[d])
    fields = 1 + counts[delimiter]
    return max(1_000, min(SAMPLE_ROWS, SAMPLE_CELLS // fields)), fields, delimiter


def _header(path: Path, dialect: _Dialect, encoding: str) -> list[str]:
    """The header cells as written (DuckDB's own names are already deduplicated, and
    its padding would hide how many fields the header has)."""
    if not dialect.header:
        return [""] * len(dialect.types)
    quote = str(dialect.options["quote"])
    escape = str(dialect.options["escape"])
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding=encoding, errors="replace", newline="") as f:
        for _ in range(int(dialect.options["skip"])):
            f.readline()
        reader = csv.reader(
            f,
            delimiter=dialect.delimiter,
            quotechar=quote or '"',
            quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
            escapechar=escape if escape and escape != quote else None,
            doublequote=not escape or escape == quote,
        )
        return next(reader, None) or [""] * len(dialect.types)


def _copy(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    dst: Path,
    dialect: _Dialect,
    raw: list[str],
    names: list[str],
    types: list[str],
    format: str,
    encoding: str,
    max_columns: int,
    warnings: list[str],
    *,
    null_padding: bool,
) -> Converted:
    types = list(types)
    for _ in range(MAX_WIDENINGS + 1):
        source = _guarded(dialect, path, names, types, null_padding)
        scanned = list(zip(names, types, strict=True))
        try:
            rows, columns, physical, renamed = copy_to_parquet(
                con, source, scanned, dst, raw_names=raw, max_columns=max_columns
            )
        except (duckdb.ConversionException, duckdb.InvalidInputException) as exc:
            widened = _widen(str(exc), names, types, raw)
            if widened is None:
                raise
            warnings.append(widened)
            continue
        return Converted(
            rows=rows,
            columns=columns,
            physical=physical,
            format=format,
            encoding=encoding.removesuffix("-sig"),
            delimiter=dialect.delimiter,
            renamed=renamed,
            warnings=warnings,
        )
    types = ["VARCHAR"] * len(types)
    warnings.append("Too many columns did not fit their sampled types; all were read as text.")
    return _copy(con, path, dst, dialect, raw, names, types, format, encoding,
                 max_columns, warnings, null_padding=null_padding)  # fmt: skip


def _guarded(
    dialect: _Dialect, path: Path, names: list[str], types: list[str], null_padding: bool
) -> str:
    """The scan, integers read as text and cast with a check: DuckDB's CSV reader
    rounds ``"1.5"`` into a BIGINT column, which must instead widen it to DOUBLE.

    Not for a table of over :data:`WIDE` columns, whose text scan would not fit
    ``memory_limit``: there DuckDB's cast stands.
    """
    wide = len(types) > WIDE
    scan = ["VARCHAR" if t == "BIGINT" and not wide else t for t in types]
    inner = dialect.source(path, names, scan, header=dialect.header, null_padding=null_padding)
    if scan == types:
        return inner
    select = []
    for i, (name, kind) in enumerate(zip(names, types, strict=True)):
        col = quote_ident(name)
        if kind == "BIGINT":
            number = f"TRY_CAST({col} AS BIGINT)"
            fits = f"{col} IS NULL OR (strpos({col}, '.') = 0 AND {number} IS NOT NULL)"
            col = f"CASE WHEN {fits} THEN {number} ELSE error('{_GUARD_TAG}{i}:' || {col}) END"
        select.append(f"{col} AS {quote_ident(name)}")
    return f"(SELECT {', '.join(select)} FROM {inner})"


def _widen(message: str, names: list[str], types: list[str], raw: list[str]) -> str | None:
    """Widen the column a conversion error names; a warning, or None if none is named."""
    guard = _GUARD.search(message)
    found = _BAD_COLUMN.search(message)
    value: str | None
    if guard:
        i, value = int(guard["i"]), guard["val"]
    elif found and found["col"].replace('""', '"') in names:
        i = names.index(found["col"].replace('""', '"'))
        bad = _BAD_VALUE.search(message)
        value = bad["val"] if bad else None
    else:
        return None
    numeric = value is not None and _is_number(value)
    new = "DOUBLE" if types[i] == "BIGINT" and numeric else "VARCHAR"
    if types[i] == new:
        return None
    label = raw[i].strip() or f"column_{i + 1}"
    old, types[i] = types[i], new
    return f"Column {label!r}: values after the sample did not fit {old}; read as {new}."


def _count_ragged(
    con: duckdb.DuckDBPyConnection, path: Path, dialect: _Dialect, names: list[str]
) -> tuple[int, int, int]:
    """Rows with too few and too many fields, and the most fields a row has.

    The counts come from DuckDB's reject table (at most 100,000 rows kept, so a file of
    millions of ragged rows reports at least that many).
    """
    source = dialect.source(
        path,
        names,
        ["VARCHAR"] * len(names),
        header=dialect.header,
        ignore_errors=True,
        store_rejects=True,
        rejects_limit=100_000,
    )
    con.execute(f"SELECT count(c0) FROM {source}").fetchall()
    rows = con.execute(
        "SELECT error_type, count(*), max(TRY_CAST(regexp_extract(error_message, "
        "'Found: (\\d+)', 1) AS INTEGER)) FROM reject_errors "
        "WHERE scan_id = (SELECT max(scan_id) FROM reject_errors) GROUP BY ALL"
    ).fetchall()
    counts = {kind: (int(n), int(w or 0)) for kind, n, w in rows}
    short = counts.get("MISSING COLUMNS", (0, 0))[0]
    long, width = counts.get("TOO MANY COLUMNS", (0, 0))
    return short, long, max(width, len(names))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _empty(value: str | None) -> str:
    return "" if value in (None, "(empty)") else str(value)


def _sql_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    return quote_literal(str(value))


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
