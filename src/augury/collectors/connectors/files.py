"""Files: CSV, JSON lines and Parquet files in a local folder (``folder``) or an S3
bucket (``s3``, AWS or an S3-compatible server such as MinIO).

A stream names a sub-folder (``path``: a key prefix on S3) and a glob
(``fileNamePattern``, default ``*``) matched against each file's path below it, with
``*`` crossing folders, as S3 keys have none (``*.csv`` also finds ``2026/01/a.csv``).
Hidden files (a name starting with ``.``, as partial uploads and editors' swap files
are) are never read. A read takes every matching file in name order and concatenates
them; a file has no notion of the poll's window, so the rows are the files' whole
content and :func:`~augury.engines.collect.mapping.to_points` keeps those inside it.

- the format is the stream's ``fileFormat`` or the file's extension (``.csv``, ``.tsv``,
  ``.jsonl``, ``.ndjson``, ``.parquet``, ``.pq``; CSV and JSON lines may be ``.gz``);
- CSV cells are read as text (a ``01234`` zip code stays itself; the mapping reads
  numbers and times from text), empty cells as missing; ``header: false`` names the
  columns 0, 1, 2 ...;
- a JSON line is one object; nested objects become columns named with dots (``a.b``);
- a file whose header (CSV) or schema (Parquet) lacks a column the first file has is
  refused, naming it: it changed, and reading it would leave holes in the metrics. JSON
  lines are exempt: a key is often absent from every row of one file;
- a read stops once it is over its row limit (:class:`TooManyRows`), so a huge file is
  never read whole; a Parquet file is read batch by batch;
- ``window=None`` (a preview) reads the newest files (by modification time) until it
  has ``limit`` rows, and returns their last ``limit`` rows.

Folders: the source's ``path`` is absolute, or relative to the allowed folders (the
first that holds it, ``<data_dir>/collect`` first). Its real path (symlinks resolved)
must be inside one of ``Limits.allowed_folders`` (``<data_dir>/collect`` and
``AUGURY_COLLECT__ALLOWED_FOLDERS``),
checked when connecting and again for every file, so a symlink inside that points
outside is refused; a file is opened by its checked real path, refusing a symlink put
in its place since (``O_NOFOLLOW``).

S3: boto3 (imported only here, when an S3 source is used). Without keys the bucket is
read anonymously (a public bucket): the server's own AWS credentials (environment,
instance role) are never lent to a source. An ``endpoint_url`` host is vetted like any
source host (loopback and private addresses only when
``AUGURY_COLLECT__ALLOWED_PRIVATE_NETWORKS`` allows them) when connecting and before
every read; boto3 resolves the name again itself, so unlike the HTTP connectors the
connection is not pinned to the checked address.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import urlsplit

import pandas as pd

from augury.collectors.connectors.base import (
    BadResponse,
    ConfigInvalid,
    Limits,
    Probe,
    QueryFailed,
    QueryTimeout,
    SourceAuthFailed,
    SourceError,
    SourceRefused,
    SourceUnreachable,
    TooManyRows,
    Window,
)
from augury.collectors.connectors.web import check_url, vet_host, with_secrets

TYPES = ("folder", "s3")
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "folder": (),
    "s3": ("access_key_id", "secret_access_key"),
}
FORMATS = ("csv", "jsonl", "parquet")
MAX_FILES = 10_000
"""Most files one stream reads: more means the pattern is too wide."""
MAX_LISTED = 200_000
"""Most objects one S3 listing walks through looking for matches."""
PROBE_OBJECTS = 500
MAX_LINE_BYTES = 16 * 1024 * 1024
MAX_SPOOLED_BYTES = 2 * 1024**3
"""Largest S3 Parquet object read (Parquet needs the whole file: it is downloaded to a
temporary file, spilling to disk past 64 MiB)."""
ALLOW_FOLDERS = "AUGURY_COLLECT__ALLOWED_FOLDERS"
ROW_LIMIT = "AUGURY_COLLECT__MAX_ROWS_PER_POLL"

_CHUNK_ROWS = 100_000
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,254}")
_REGION = re.compile(r"[A-Za-z0-9_-]{1,64}")
_S3_AUTH_CODES = {
    "AccessDenied",
    "AccountProblem",
    "AllAccessDisabled",
    "ExpiredToken",
    "InvalidAccessKeyId",
    "InvalidToken",
    "SignatureDoesNotMatch",
    "TokenRefreshRequired",
}


# --------------------------------------------------------------------------- checks


def _known(values: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    if not isinstance(values, Mapping):
        raise ConfigInvalid(where, f"The {where} must be an object.")
    for key in values:
        if key not in allowed:
            hint = f"; the fields are {', '.join(allowed)}" if allowed else "; it has none"
            raise ConfigInvalid(f"{where}.{key}", f"Unknown {where} field {key!r}{hint}.")


def _text(value: object, field: str, what: str, *, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        if required:
            raise ConfigInvalid(field, f"{what} is required.")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigInvalid(field, f"{what} must be a non-empty string.")
    if any(ord(c) < 32 or c == "\x7f" for c in value):
        raise ConfigInvalid(field, f"{what} may not hold control characters.")
    return value.strip()


def check_config(
    source_type: str, config: Mapping[str, Any], secret: Mapping[str, Any]
) -> dict[str, Any]:
    """The config normalised (defaults filled in), or :class:`ConfigInvalid`."""
    if source_type == "folder":
        _known(config, ("path",), "config")
        _known(secret or {}, (), "secret")
        path = _text(config.get("path"), "config.path", "The folder path", required=True)
        assert path is not None
        if "\x00" in path or len(path) > 4096:
            raise ConfigInvalid("config.path", "Not a folder path.")
        if ".." in Path(path).parts:
            # an allowed folder is entered, never left by name (links are checked too)
            raise ConfigInvalid("config.path", "'..' is not allowed in the folder path.")
        return {"path": os.path.normpath(path)}
    if source_type != "s3":
        raise ConfigInvalid("type", f"The files connector does not read {source_type!r}.")
    _known(config, ("bucket", "region", "endpoint_url", "prefix"), "config")
    _known(secret or {}, SECRET_FIELDS["s3"], "secret")
    bucket = _text(config.get("bucket"), "config.bucket", "The bucket", required=True)
    assert bucket is not None
    if not _BUCKET.fullmatch(bucket):
        raise ConfigInvalid(
            "config.bucket",
            "The bucket name may hold letters, digits, '.', '-' and '_' (3 to 255 of them).",
        )
    region = _text(config.get("region"), "config.region", "The region") or "us-east-1"
    if not _REGION.fullmatch(region):
        raise ConfigInvalid("config.region", "The region is a name such as 'eu-west-1'.")
    endpoint = config.get("endpoint_url")
    if endpoint is not None and not (isinstance(endpoint, str) and not endpoint.strip()):
        endpoint = check_url("config.endpoint_url", endpoint, what="endpoint URL")
    else:
        endpoint = None
    prefix = _text(config.get("prefix"), "config.prefix", "The prefix") or ""
    prefix = prefix.strip("/")
    secret = secret or {}
    given = [k for k in SECRET_FIELDS["s3"] if secret.get(k) not in (None, "")]
    for key in given:
        if not isinstance(secret[key], str):
            raise ConfigInvalid(f"secret.{key}", f"{key} must be a string.")
    if len(given) == 1:
        missing = next(k for k in SECRET_FIELDS["s3"] if k not in given)
        raise ConfigInvalid(
            f"secret.{missing}",
            "Give both access_key_id and secret_access_key, or neither (a public bucket).",
        )
    return {
        "bucket": bucket,
        "region": region,
        "endpoint_url": endpoint,
        "prefix": f"{prefix}/" if prefix else "",
    }


@dataclass(frozen=True, slots=True)
class FileSpec:
    """What a stream reads from a folder or bucket."""

    path: str
    """A relative folder (S3: key prefix) below the source's, ``""`` for its root."""
    pattern: str
    format: str | None
    header: bool
    delimiter: str | None


def _relative(value: object, field: str, what: str, default: str) -> str:
    text = _text(value, field, what)
    if text is None:
        return default
    if "\\" in text:
        raise ConfigInvalid(field, f"{what} uses '/' between folders, not '\\'.")
    parts = PurePosixPath(text).parts
    if text.startswith("/"):
        raise ConfigInvalid(field, f"{what} must be relative to the source's folder.")
    if ".." in parts:
        raise ConfigInvalid(field, f"{what} may not hold '..'.")
    return "/".join(p for p in parts if p not in ("", "."))


def parse_stream(stream: Mapping[str, Any]) -> FileSpec:
    """The file fields of a stream object, or :class:`ConfigInvalid` naming one."""
    path = _relative(stream.get("path"), "path", "The path", "")
    pattern = _relative(stream.get("fileNamePattern"), "fileNamePattern", "The pattern", "*")
    if not pattern:
        pattern = "*"
    fmt = stream.get("fileFormat")
    if fmt is not None:
        if not isinstance(fmt, str) or fmt.strip().lower() not in FORMATS:
            raise ConfigInvalid("fileFormat", f"fileFormat is one of {', '.join(FORMATS)}.")
        fmt = fmt.strip().lower()
    header = stream.get("header")
    if header is None:
        header = True
    if not isinstance(header, bool):
        raise ConfigInvalid("header", "header is true (the first CSV line names columns) or false.")
    delimiter = stream.get("delimiter")
    if delimiter is not None and (
        not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n'
    ):
        raise ConfigInvalid(
            "delimiter", "delimiter is one character (',', ';', a tab ...), not a quote."
        )
    return FileSpec(path, pattern, fmt, header, delimiter)


def check_stream(source_type: str, stream: Mapping[str, Any]) -> None:
    parse_stream(stream)


# --------------------------------------------------------------------------- reading files


def flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A JSON object as one row: nested objects' keys joined with ``.``, lists kept as
    JSON text (a cell must be one value).

    >>> flatten({"a": 1, "b": {"c": 2, "d": {"e": None}}, "f": [1, 2]})
    {'a': 1, 'b.c': 2, 'b.d.e': None, 'f': '[1, 2]'}
    """
    row: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            row.update(flatten(item, f"{name}."))
        elif isinstance(item, list):
            row[name] = json.dumps(item)
        else:
            row[name] = item
    return row


def _kind(value: object) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str
    """The path below the stream's folder or prefix (what the pattern matched)."""
    size: int
    mtime: float
    ref: str
    """The real path, or the S3 key."""


class _Gone(Exception):
    """A listed file disappeared before it was read: there is nothing to read."""


def _format(entry: _Entry, spec: FileSpec) -> tuple[str, str | None]:
    """The file's format and compression (``gzip`` or ``None``)."""
    name = entry.name.lower()
    gz = name.endswith(".gz")
    base = name[:-3] if gz else name
    fmt = spec.format or _EXTENSIONS.get(PurePosixPath(base).suffix)
    if fmt is None:
        raise BadResponse(
            f"{entry.name}: the format cannot be told from the name; set the stream's "
            "fileFormat (csv, jsonl or parquet) or narrow fileNamePattern."
        )
    if fmt == "parquet" and gz:
        raise BadResponse(
            f"{entry.name}: gzip-compressed Parquet is not read (Parquet compresses itself)."
        )
    return fmt, "gzip" if gz else None


def _lines(fh: IO[bytes]) -> Iterator[bytes]:
    pending = b""
    while True:
        chunk = fh.read(1 << 20)
        if not chunk:
            break
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from complete
        if len(pending) > MAX_LINE_BYTES:
            raise ValueError(f"a line is over {MAX_LINE_BYTES // (1 << 20)} MiB")
    if pending:
        yield pending


def _read_jsonl(
    fh: IO[bytes], entry: _Entry, compression: str | None, nrows: int, tail: int | None
) -> pd.DataFrame:
    source: IO[bytes] = gzip.GzipFile(fileobj=fh) if compression else fh  # type: ignore[assignment]
    rows: deque[dict[str, Any]] | list[dict[str, Any]] = deque(maxlen=tail) if tail else []
    for number, raw in enumerate(_lines(source), 1):
        line = raw.strip()
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")
        if not line:
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise BadResponse(f"{entry.name}, line {number}: not JSON ({exc}).") from exc
        if not isinstance(value, dict):
            raise BadResponse(
                f"{entry.name}, line {number}: a JSON {_kind(value)}, not an object; each "
                "line of a JSON lines file is one object (one row)."
            )
        rows.append(flatten(value))
        if tail is None and len(rows) >= nrows:
            break
    return pd.DataFrame.from_records(list(rows))


def _read_csv(
    fh: IO[bytes],
    entry: _Entry,
    spec: FileSpec,
    compression: str | None,
    nrows: int,
    tail: int | None,
) -> pd.DataFrame:
    delimiter = spec.delimiter or (
        "\t" if entry.name.lower().endswith((".tsv", ".tsv.gz")) else ","
    )
    options: dict[str, Any] = {
        "sep": delimiter,
        "header": 0 if spec.header else None,
        "dtype": str,
        "keep_default_na": False,
        "na_values": [""],
        "encoding": "utf-8-sig",
        "compression": compression,
    }
    try:
        if tail is None:
            return pd.read_csv(fh, nrows=nrows, **options)
        kept: list[pd.DataFrame] = []
        held = 0
        with pd.read_csv(fh, chunksize=_CHUNK_ROWS, **options) as reader:
            for chunk in reader:
                kept.append(chunk)
                held += len(chunk)
                while len(kept) > 1 and held - len(kept[0]) >= tail:
                    held -= len(kept.pop(0))
        if not kept:
            return pd.DataFrame()
        return pd.concat(kept, ignore_index=True).tail(tail)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _read_parquet(fh: IO[bytes], nrows: int, tail: int | None) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(fh)
    schema = parquet.schema_arrow
    tables: list[pa.Table] = []
    held = 0
    if tail is None:
        for batch in parquet.iter_batches(batch_size=min(_CHUNK_ROWS, max(nrows, 1))):
            tables.append(pa.Table.from_batches([batch]))
            held += batch.num_rows
            if held >= nrows:
                break
    else:
        for group in reversed(range(parquet.num_row_groups)):
            table = parquet.read_row_group(group)
            tables.insert(0, table)
            held += table.num_rows
            if held >= tail:
                break
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    frame = table.to_pandas()
    return frame.head(nrows) if tail is None else frame.tail(tail)


_PARSE_ERRORS = (
    ValueError,  # pandas' ParserError, JSON, encodings (UnicodeDecodeError), pyarrow's
    pd.errors.ParserError,
    OSError,  # gzip's BadGzipFile, a file that cannot be read
    EOFError,
)


# --------------------------------------------------------------------------- connectors


class _Files:
    """What the folder and S3 connectors share: the read over a list of files."""

    type: str
    limits: Limits

    def _where(self, spec: FileSpec | None = None) -> str:
        raise NotImplementedError

    def _list(self, spec: FileSpec, deadline: float) -> list[_Entry]:
        raise NotImplementedError

    def _open(self, entry: _Entry, fmt: str, deadline: float) -> contextlib.AbstractContextManager:
        raise NotImplementedError

    def _failure(self, exc: BaseException) -> SourceError | None:
        """The source error a transport failure stands for (``None``: not one)."""
        return None

    def _check_time(self, deadline: float) -> None:
        if time.monotonic() > deadline:
            raise QueryTimeout(
                f"Reading the files took over {self.limits.timeout_s:g} s "
                "(AUGURY_COLLECT__QUERY_TIMEOUT_S): narrow fileNamePattern, or move files "
                "already collected elsewhere."
            )

    def _file(
        self, entry: _Entry, spec: FileSpec, nrows: int, tail: int | None, deadline: float
    ) -> pd.DataFrame:
        """One file's rows: at most ``nrows`` of the first, or the last ``tail``."""
        fmt, compression = _format(entry, spec)
        try:
            with self._open(entry, fmt, deadline) as fh:
                if fmt == "csv":
                    return _read_csv(fh, entry, spec, compression, nrows, tail)
                if fmt == "jsonl":
                    return _read_jsonl(fh, entry, compression, nrows, tail)
                return _read_parquet(fh, nrows, tail)
        except (SourceError, _Gone):
            raise
        except Exception as exc:
            mapped = self._failure(exc)
            if mapped is not None:
                raise mapped from exc
            if isinstance(exc, _PARSE_ERRORS):
                reason = " ".join(str(exc).split())[:300] or type(exc).__name__
                raise BadResponse(
                    self.limits.scrub(
                        f"{entry.name} cannot be read as {fmt}: {reason}. Fix or remove the "
                        "file, or set the stream's fileFormat, header or delimiter."
                    )
                ) from exc
            raise

    def read(self, stream: Mapping[str, Any], window: Window | None, *, limit: int) -> pd.DataFrame:
        try:
            spec = parse_stream(stream)
        except ConfigInvalid as exc:
            raise QueryFailed(f"The stream's {exc.field}: {exc.message}") from exc
        deadline = time.monotonic() + self.limits.timeout_s
        entries = self._list(spec, deadline)
        if window is None:
            return self._latest(entries, spec, max(limit, 0), deadline)
        cap = min(limit, self.limits.max_rows)
        frames: list[tuple[_Entry, pd.DataFrame]] = []
        total = 0
        for entry in entries:
            self._check_time(deadline)
            try:
                frame = self._file(entry, spec, cap - total + 1, None, deadline)
            except _Gone:
                continue
            total += len(frame)
            if total > cap:
                raise TooManyRows(
                    f"The files matching {spec.pattern!r} in {self._where(spec)} hold more "
                    f"than {cap} rows, the most one read may return ({ROW_LIMIT}): narrow "
                    "fileNamePattern, or move files already collected elsewhere."
                )
            frames.append((entry, frame))
        return _concat(frames, spec)

    def _latest(
        self, entries: list[_Entry], spec: FileSpec, limit: int, deadline: float
    ) -> pd.DataFrame:
        """The last ``limit`` rows of the newest files (a preview)."""
        chosen: list[tuple[_Entry, pd.DataFrame]] = []
        held = 0
        for entry in sorted(entries, key=lambda e: (e.mtime, e.name), reverse=True):
            if held >= limit:
                break
            self._check_time(deadline)
            try:
                frame = self._file(entry, spec, limit, limit - held, deadline)
            except _Gone:
                continue
            chosen.insert(0, (entry, frame))
            held += len(frame)
        return _concat(chosen, spec).tail(limit).reset_index(drop=True)

    def close(self) -> None:
        """Nothing is held between reads."""


def _concat(frames: list[tuple[_Entry, pd.DataFrame]], spec: FileSpec) -> pd.DataFrame:
    """The files' rows in order, once each file's header is checked against the first's."""
    reference: tuple[str, list[Any]] | None = None
    for entry, frame in frames:
        fmt, _ = _format(entry, spec)
        if fmt == "jsonl" or len(frame.columns) == 0:
            continue
        columns = list(frame.columns)
        if reference is None:
            reference = (entry.name, columns)
            continue
        have = set(columns)
        missing = [c for c in reference[1] if c not in have]
        if missing:
            shown = ", ".join(repr(c) for c in missing[:10])
            raise BadResponse(
                f"{entry.name} has no column {shown}, which {reference[0]} has: its header "
                "changed. Fix the file, or move it out of the stream's folder or pattern."
            )
    kept = [frame for _, frame in frames if len(frame)]
    if not kept:
        columns = reference[1] if reference else []
        return pd.DataFrame(columns=columns)
    if len(kept) == 1:
        return kept[0].reset_index(drop=True)
    return pd.concat(kept, ignore_index=True)


def _inside(path: Path, folders: list[Path]) -> bool:
    return any(path == f or path.is_relative_to(f) for f in folders)


class FolderConnector(_Files):
    """Files in a local folder (or a mounted share) the operator allowed."""

    type = "folder"

    def __init__(self, config: Mapping[str, Any], limits: Limits) -> None:
        self.limits = limits
        self.path = str(config["path"])
        self._allowed = [Path(f).resolve() for f in limits.allowed_folders]
        self.root = self._root()

    def _root(self) -> Path:
        """The source's folder: an absolute path as it is, a relative one in the first
        allowed folder that holds it (``<data_dir>/collect`` first, as SQLite files
        are found), so a source need not know where the server keeps its data."""
        given = Path(self.path)
        if ".." in given.parts:
            raise SourceRefused("'..' is not allowed in a folder source's path.")
        candidates = [given] if given.is_absolute() else [f / given for f in self._allowed]
        for candidate in candidates or [given]:  # none allowed: refused, not missing
            real = self._checked(candidate, self.path)
            if real.is_dir():
                return real
        raise SourceUnreachable(
            f"The folder {self.path} does not exist or is not a folder: create it, or "
            "fix config.path."
        )

    def _checked(self, path: Path, shown: str) -> Path:
        """``path``'s real path, if it is inside an allowed folder."""
        real = path.resolve()
        if not _inside(real, self._allowed):
            allowed = ", ".join(str(f) for f in self._allowed) or "none"
            raise SourceRefused(
                f"{shown} is outside the folders data sources may read ({allowed}); an "
                f"operator can allow its folder in {ALLOW_FOLDERS}."
            )
        return real

    def _where(self, spec: FileSpec | None = None) -> str:
        return os.path.join(self.path, spec.path) if spec and spec.path else self.path

    def _folder(self, spec: FileSpec) -> Path:
        if not spec.path:
            return self._checked(self.root, self.path)
        folder = self._checked(self.root / spec.path, self._where(spec))
        if not folder.is_dir():
            raise QueryFailed(
                f"The stream's path {spec.path!r} is not a folder in {self.path}: fix the "
                "stream's path."
            )
        return folder

    def _walk(self, base: Path, pattern: str, deadline: float) -> Iterator[_Entry]:
        def fail(exc: OSError) -> None:
            raise SourceUnreachable(f"{self.path} cannot be listed: {exc.strerror}.")

        for dirpath, dirnames, filenames in os.walk(base, onerror=fail):
            self._check_time(deadline)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                full = Path(dirpath, name)
                relative = full.relative_to(base).as_posix()
                if not fnmatchcase(relative, pattern):
                    continue
                real = self._checked(full, relative)
                try:
                    stat = real.stat()
                except OSError:
                    continue  # a dangling link, or removed since the listing
                if not os.path.isfile(real):
                    continue
                yield _Entry(relative, stat.st_size, stat.st_mtime, str(real))

    def _list(self, spec: FileSpec, deadline: float) -> list[_Entry]:
        found: list[_Entry] = []
        for entry in self._walk(self._folder(spec), spec.pattern, deadline):
            found.append(entry)
            if len(found) > MAX_FILES:
                raise QueryFailed(
                    f"More than {MAX_FILES} files in {self._where(spec)} match "
                    f"{spec.pattern!r}: narrow fileNamePattern or the stream's path."
                )
        return sorted(found, key=lambda e: e.name)

    @contextlib.contextmanager
    def _open(self, entry: _Entry, fmt: str, deadline: float) -> Iterator[IO[bytes]]:
        try:
            fd = os.open(entry.ref, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError as exc:
            raise _Gone from exc
        except OSError as exc:
            raise BadResponse(
                f"{entry.name} cannot be opened ({exc.strerror}): check its permissions."
            ) from exc
        with os.fdopen(fd, "rb") as fh:
            yield fh

    def test(self) -> Probe:
        deadline = time.monotonic() + self.limits.timeout_s
        names: list[str] = []
        count = 0
        for entry in self._walk(self._checked(self.root, self.path), "*", deadline):
            count += 1
            if len(names) < PROBE_OBJECTS:
                names.append(entry.name)
            if count > MAX_FILES:
                break
        shown = f"more than {MAX_FILES}" if count > MAX_FILES else str(count)
        return Probe(detail=f"folder {self.path}: {shown} files", objects=sorted(names))


class S3Connector(_Files):
    """Objects in an S3 bucket (AWS, or an S3-compatible server at ``endpoint_url``)."""

    type = "s3"

    def __init__(self, config: Mapping[str, Any], secret: Mapping[str, Any], limits: Limits):
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config

        self.limits = limits
        self.bucket = str(config["bucket"])
        self.region = str(config.get("region") or "us-east-1")
        self.endpoint = config.get("endpoint_url") or None
        self.prefix = str(config.get("prefix") or "")
        self._vet()
        key_id = secret.get("access_key_id") or None
        key = secret.get("secret_access_key") or None
        options: dict[str, Any] = {
            "connect_timeout": limits.timeout_s,
            "read_timeout": limits.timeout_s,
            "retries": {"max_attempts": 2, "mode": "standard"},
            "user_agent_extra": "augury-collector",
        }
        if not (key_id and key):
            options["signature_version"] = UNSIGNED
        if self.endpoint:
            # S3-compatible servers (MinIO ...) rarely serve bucket.host names
            options["s3"] = {"addressing_style": "path"}
        # a session of its own: the default one would lend this source the server's
        # own credentials from the environment or an instance role
        session = boto3.session.Session()
        self._client = session.client(
            "s3",
            region_name=self.region,
            endpoint_url=self.endpoint,
            aws_access_key_id=key_id if key else None,
            aws_secret_access_key=key if key_id else None,
            config=Config(**options),
        )

    def _vet(self) -> None:
        if not self.endpoint:
            return  # AWS itself
        parts = _host_port(self.endpoint)
        vet_host(parts[0], parts[1], self.limits)

    def _where(self, spec: FileSpec | None = None) -> str:
        prefix = self.prefix + (f"{spec.path}/" if spec and spec.path else "")
        return f"s3://{self.bucket}/{prefix}"

    def _failure(self, exc: BaseException) -> SourceError | None:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectTimeoutError,
            EndpointConnectionError,
            ReadTimeoutError,
        )

        where = self.endpoint or f"AWS ({self.region})"
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            meta = exc.response.get("ResponseMetadata", {})
            status = meta.get("HTTPStatusCode")
            if code in _S3_AUTH_CODES or status in (401, 403):
                return SourceAuthFailed(
                    f"S3 refused access to bucket {self.bucket} ({code or status}): check "
                    "access_key_id and secret_access_key, and that they may list and read "
                    "the bucket."
                )
            if code in ("NoSuchBucket", "404") or (code == "" and status == 404):
                return QueryFailed(
                    f"The bucket {self.bucket} does not exist at {where}: check config.bucket, "
                    "config.region and config.endpoint_url."
                )
            if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "301") or (
                status == 301
            ):
                region = meta.get("HTTPHeaders", {}).get("x-amz-bucket-region")
                hint = f" ({region})" if region else ""
                return QueryFailed(
                    f"The bucket {self.bucket} is in another region{hint}: set config.region to it."
                )
            message = " ".join(str(error.get("Message", "")).split())[:300]
            return QueryFailed(
                self.limits.scrub(f"S3 refused the request ({code or status}): {message}")
            )
        if isinstance(exc, ReadTimeoutError):
            return QueryTimeout(
                f"S3 at {where} did not answer within {self.limits.timeout_s:g} s "
                "(AUGURY_COLLECT__QUERY_TIMEOUT_S)."
            )
        if isinstance(exc, ConnectTimeoutError | EndpointConnectionError):
            return SourceUnreachable(
                f"S3 at {where} cannot be reached: check config.endpoint_url and config.region, "
                "and that the server is running."
            )
        if isinstance(exc, BotoCoreError):
            return SourceUnreachable(
                self.limits.scrub(f"S3 at {where} failed ({type(exc).__name__}): {exc}")
            )
        return None

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (SourceError, _Gone):
            raise
        except Exception as exc:
            mapped = self._failure(exc)
            if mapped is None:
                raise
            raise mapped from exc

    def _objects(self, prefix: str, deadline: float) -> Iterator[tuple[str, dict[str, Any]]]:
        """(key below ``prefix``, object) for each object that is not hidden or a folder."""
        self._vet()
        listed = 0
        with self._errors():
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                self._check_time(deadline)
                for item in page.get("Contents", []):
                    listed += 1
                    if listed > MAX_LISTED:
                        raise QueryFailed(
                            f"More than {MAX_LISTED} objects under s3://{self.bucket}/{prefix}: "
                            "set the stream's path (a narrower prefix)."
                        )
                    key = item["Key"]
                    relative = key[len(prefix) :]
                    if not relative or key.endswith("/"):
                        continue
                    if PurePosixPath(relative).name.startswith("."):
                        continue
                    yield relative, item

    def _list(self, spec: FileSpec, deadline: float) -> list[_Entry]:
        prefix = self.prefix + (f"{spec.path}/" if spec.path else "")
        found: list[_Entry] = []
        for relative, item in self._objects(prefix, deadline):
            if not fnmatchcase(relative, spec.pattern):
                continue
            modified = item.get("LastModified")
            found.append(
                _Entry(
                    relative,
                    int(item.get("Size", 0)),
                    modified.timestamp() if modified is not None else 0.0,
                    item["Key"],
                )
            )
            if len(found) > MAX_FILES:
                raise QueryFailed(
                    f"More than {MAX_FILES} objects in {self._where(spec)} match "
                    f"{spec.pattern!r}: narrow fileNamePattern or the stream's path."
                )
        return sorted(found, key=lambda e: e.name)

    @contextlib.contextmanager
    def _open(self, entry: _Entry, fmt: str, deadline: float) -> Iterator[IO[bytes]]:
        from botocore.exceptions import ClientError

        try:  # the host was vetted by the listing this entry came from
            with self._errors():
                answer = self._client.get_object(Bucket=self.bucket, Key=entry.ref)
        except QueryFailed as exc:
            cause = exc.__cause__
            if isinstance(cause, ClientError) and cause.response.get("Error", {}).get("Code") in (
                "NoSuchKey",
            ):
                raise _Gone from exc
            raise
        body = answer["Body"]
        try:
            if fmt != "parquet":
                yield body
                return
            size = int(answer.get("ContentLength") or 0)
            if size > MAX_SPOOLED_BYTES:
                raise BadResponse(
                    f"{entry.name} is over {MAX_SPOOLED_BYTES // 1024**3} GiB: split it into "
                    "smaller Parquet files."
                )
            with tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as spool:
                while chunk := body.read(1 << 20):
                    spool.write(chunk)
                    self._check_time(deadline)
                spool.seek(0)
                yield spool
        finally:
            body.close()

    def test(self) -> Probe:
        deadline = time.monotonic() + self.limits.timeout_s
        self._vet()
        with self._errors():
            self._client.head_bucket(Bucket=self.bucket)
        names: list[str] = []
        count = 0
        for relative, _ in self._objects(self.prefix, deadline):
            count += 1
            if len(names) < PROBE_OBJECTS:
                names.append(relative)
            if count > MAX_FILES:
                break
        shown = f"more than {MAX_FILES}" if count > MAX_FILES else str(count)
        return Probe(detail=f"{self._where()}: {shown} objects", objects=sorted(names))

    def close(self) -> None:
        self._client.close()


def _host_port(url: str) -> tuple[str, int]:
    """The host and port of an http(s) URL."""
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def connect(
    source_type: str, config: Mapping[str, Any], secret: Mapping[str, Any], limits: Limits
) -> FolderConnector | S3Connector:
    """A connector for a folder or bucket; :class:`SourceRefused` for a folder or host
    the operator did not allow."""
    if source_type == "folder":
        return FolderConnector(config, limits)
    if source_type == "s3":
        secret = secret or {}
        limits = with_secrets(limits, [secret.get(k) for k in SECRET_FIELDS["s3"]])
        return S3Connector(config, secret, limits)
    raise ConfigInvalid("type", f"The files connector does not read {source_type!r}.")
