"""Documents out of uploaded files: a table whose chosen column holds the texts.

An upload is previewed, a person picks the column with the documents, and each row's
cell becomes one document with the row's other cells as its ``meta``.
:func:`read_table` reads the file once into a :class:`DocumentTable` (columnar lists,
100,000 rows in about a second) that serves all three steps:

* CSV and TSV in any common encoding (the tabular reader's detection: byte-order
  marks, UTF-8, ``charset_normalizer``, else Latin-1/cp1252), with the delimiter and
  header found from the first lines. Python's ``csv`` module reads them, not DuckDB:
  every cell stays the text it was ("007" is not 7) and a 5 MB cell is just a cell
  (DuckDB refuses lines over 2 MiB);
* TXT: one document per non-empty line;
* JSON: an array of objects or of strings, an object holding one such array, or one
  object; JSONL: one object or string per line. A string is a row whose ``text`` is it;
* XLSX (through :func:`augury.engines.tabular.read.convert`, which streams the sheet
  and refuses zip bombs) and Parquet;
* PDF: ONE document, the text layer (pypdf), pages joined by a blank line with each
  page's span kept in :attr:`DocumentTable.pages`; pages without a text layer are read
  by OCR (:mod:`._ocr`) where Tesseract and pdftoppm are installed;
* PNG, JPEG and TIFF images: ONE document read by Tesseract.

A file it cannot use raises :class:`~.errors.TextFileError`; its message says what to do.

>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / "reviews.csv"
>>> _ = path.write_bytes("id;review;stars\\n1;Très bon café;5\\n2;Slow service;2\\n"
...                      .encode("latin-1"))
>>> table = read_table(path)
>>> table.format, table.encoding, table.delimiter, table.row_count
('csv', 'latin-1', ';', 2)
>>> table.preview()
[['id', 'review', 'stars'], ['1', 'Très bon café', '5'], ['2', 'Slow service', '2']]
>>> table.texts("review"), table.meta(exclude="review")
(['Très bon café', 'Slow service'], [{'id': '1', 'stars': '5'}, {'id': '2', 'stars': '2'}])
"""

from __future__ import annotations

import codecs
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

from ..tabular._read_csv import detect_encoding
from ..tabular.errors import TableError
from ._ocr import OcrTools
from ._pages import read_image, read_pdf
from ._table import PAGE_SEPARATOR, DocumentTable
from ._tables import (
    MAX_JSON_BYTES,
    SNIFF_BYTES,
    find_delimiter,
    read_delimited,
    read_json,
    read_lines,
    read_parquet,
    read_xlsx,
)
from .errors import TextFileError

__all__ = [
    "FORMATS",
    "MAX_JSON_BYTES",
    "PAGE_SEPARATOR",
    "DocumentTable",
    "detect_format",
    "read_table",
]

FORMATS = ("csv", "tsv", "txt", "json", "jsonl", "xlsx", "parquet", "pdf", "image")
"""The formats :func:`read_table` reads."""

_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "txt",
    ".text": "txt",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".parquet": "parquet",
    ".pdf": "pdf",
}
_IMAGES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")
_OTHER_BINARIES = {
    b"\xd0\xcf\x11\xe0": "an old Office file (.xls or .doc): save it as .xlsx, or as PDF",
    b"\x1f\x8b": "compressed (gzip): unpack it first",
    b"GIF87a": "a GIF image: save it as PNG",
    b"GIF89a": "a GIF image: save it as PNG",
    b"{\\rtf": "RTF: save it as PDF or TXT",
}
_CONTROL = frozenset(map(chr, [*range(0, 9), *range(14, 27), *range(28, 32), 127]))


def detect_format(path: Path, filename: str | None = None) -> str:
    """The file's format, one of :data:`FORMATS`: binary formats from their first bytes;
    text by its extension (``.csv``, ``.tsv``, ``.txt``), else by its content (JSON or
    JSON lines; else CSV where a delimiter splits its lines, TXT where none does).

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "upload"
    >>> _ = p.write_text("great food\\nslow service\\n")
    >>> detect_format(p), detect_format(p, "reviews.csv")
    ('txt', 'csv')
    """
    return _sniff(Path(path), filename)[0]


def read_table(
    path: Path | str,
    filename: str | None = None,
    *,
    sheet: str | None = None,
    header: bool | None = None,
    ocr_language: str = "eng",
    ocr_timeout_s: float = 120.0,
    search_path: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DocumentTable:
    """Read the upload at ``path`` (``filename`` is the name it was uploaded under, for
    its extension).

    ``sheet`` picks a workbook's sheet (the first by default); ``header`` says whether a
    CSV's first row names the columns (guessed by default: not when a cell is a number
    or reads like a sentence). OCR reads ``ocr_language`` (Tesseract's names, ``"eng"``,
    ``"eng+deu"``) with ``ocr_timeout_s`` per page, finding its programs on
    ``search_path`` (the ``PATH`` by default); ``progress(done, total)`` is called after
    each OCR page, for a job's progress bar.
    """
    path = Path(path)
    try:
        format, encoding = _sniff(path, filename)
        if format in ("csv", "tsv"):
            return read_delimited(path, format, str(encoding), header)
        if format == "txt":
            return read_lines(path, str(encoding))
        if format in ("json", "jsonl"):
            return read_json(path, format, str(encoding))
        if format == "xlsx":
            return read_xlsx(path, sheet)
        if format == "parquet":
            return read_parquet(path)
        tools = OcrTools.find(
            language=ocr_language, timeout_s=ocr_timeout_s, search_path=search_path
        )
        if format == "pdf":
            return read_pdf(path, tools, progress)
        return read_image(path, tools, progress)
    except TableError as exc:
        raise TextFileError(exc.code, exc.message, exc.details) from None


def _sniff(path: Path, filename: str | None) -> tuple[str, str | None]:
    """The format and, for text formats, the Python codec to read the file with."""
    hint = _EXTENSIONS.get(Path(filename or path.name).suffix.lower())
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
        if not head.strip() and not f.read(1):
            raise TextFileError("EMPTY_FILE", "The file is empty: upload a file with text in it.")
    if b"%PDF-" in head[:1024]:
        return "pdf", None
    if head.startswith(_IMAGES):
        return "image", None
    if head.startswith(b"PAR1"):
        return "parquet", None
    if head.startswith(b"PK\x03\x04"):
        return _zip_format(path), None
    for magic, what in _OTHER_BINARIES.items():
        if head.startswith(magic):
            raise TextFileError(
                "UNSUPPORTED_FORMAT", f"The file is {what}.", {"formats": list(FORMATS)}
            )
    encoding = _encoding(path, head)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)
    if sum(1 for c in text if c in _CONTROL) > len(text) / 100:
        raise _binary()
    if hint in ("csv", "tsv", "txt"):
        return hint, encoding  # a line of text may well start with "[" or "{"
    body = text.lstrip("\ufeff \t\r\n")
    if body.startswith("["):
        return "json", encoding
    if body.startswith("{"):
        return ("jsonl" if _json_lines(body) or hint == "jsonl" else "json"), encoding
    if hint in ("jsonl", "json"):
        return hint, encoding
    return ("csv" if find_delimiter(text) else "txt"), encoding


def _zip_format(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        raise _binary() from None
    if "xl/workbook.xml" in names:
        return "xlsx"
    what = (
        "a Word document: save it as PDF or TXT"
        if "word/document.xml" in names
        else ("a zip archive: unpack it and upload the file inside")
    )
    raise TextFileError("UNSUPPORTED_FORMAT", f"The file is {what}.", {"formats": list(FORMATS)})


def _binary() -> TextFileError:
    return TextFileError(
        "BINARY_FILE",
        "The file is binary, not text or a format we read: upload CSV, TSV, TXT, JSON, JSONL, "
        "XLSX, Parquet, PDF, or a PNG, JPEG or TIFF scan.",
        {"formats": list(FORMATS)},
    )


def _encoding(path: Path, head: bytes) -> str:
    """The codec of a text file; UTF-16 without a byte-order mark is recognised by its
    zero bytes, any other file with zero bytes is binary."""
    boms = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)
    if b"\x00" in head and not head.startswith(boms):
        pairs = len(head) // 2 or 1
        odd = head[1::2].count(0) / pairs
        even = head[0::2].count(0) / pairs
        if odd > 0.3 and even < 0.05:
            return "utf-16-le"
        if even > 0.3 and odd < 0.05:
            return "utf-16-be"
        raise _binary()
    return detect_encoding(path)[0]


def _json_lines(body: str) -> bool:
    """Whether text starting with ``{`` is JSON lines: its first line is a whole value
    and another line follows."""
    first, _, rest = body.partition("\n")
    try:
        json.loads(first)
    except ValueError:
        return False
    return bool(rest.strip())
