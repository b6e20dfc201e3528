"""HTTP dependencies of the datasets routes: the dataset a path names (404 for another
organization's) and the streaming reader of a multipart upload.

A dataset upload may be gigabytes, so it is never read into memory: the multipart body
is parsed as it arrives and the file part written straight into the staging folder,
counting bytes, and refused with 413 as soon as it passes ``datasets.max_upload_bytes``
(or at once when the declared length already does).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Annotated, Any, BinaryIO, cast

from fastapi import Depends, Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from augury.api.deps import ObjectId, Reader, SessionDep
from augury.config import Settings
from augury.datasets import service
from augury.datasets.models import Dataset
from augury.datasets.storage import storage_for
from augury.errors import BadPayload, PayloadTooLarge

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 50


def _dataset(dataset_id: ObjectId, principal: Reader, session: SessionDep) -> Dataset:
    return service.get(session=session, org_id=principal.org_id, dataset_id=dataset_id)


DatasetDep = Annotated[Dataset, Depends(_dataset)]


@dataclass
class Upload:
    """A received multipart form: its small fields, and its one file in staging."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    path: Path | None = None
    file_name: str | None = None
    size: int = 0

    def first(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def safe_file_name(raw: str | None) -> str | None:
    """The last part of a client's file name, never a path (``../../etc/x.csv`` ->
    ``x.csv``); control characters dropped; at most 255 characters."""
    if not raw:
        return None
    name = PurePath(raw.replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if name in ("", ".", ".."):
        return None
    return name[:255]


class _FormReader:
    """python-multipart callbacks: small fields kept in memory, the file part written
    to ``path`` as it comes."""

    def __init__(self, path: Path, max_bytes: int):
        self.path = path
        self.max_bytes = max_bytes
        self.upload = Upload()
        self._out: BinaryIO | None = None
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._field_name: str | None = None
        self._field_value = bytearray()
        self._is_file = False

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._part_begin,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_header_field": self._header_field_data,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
        }

    def _part_begin(self) -> None:
        self._headers = {}
        self._field_value = bytearray()

    def _header_field_data(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        self._field_name = name
        self._is_file = b"filename" in options
        if self._is_file:
            if self.upload.path is not None:
                raise BadPayload("Send one file per upload.", details={"reason": "ONE_FILE"})
            raw = options[b"filename"].decode("utf-8", "replace")
            self.upload.file_name = safe_file_name(raw)
            self.upload.path = self.path
            self._out = self.path.open("wb")
        elif sum(len(v) for v in self.upload.fields.values()) >= MAX_FIELDS:
            raise BadPayload(f"At most {MAX_FIELDS} form fields.")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file:
            assert self._out is not None
            self.upload.size += end - start
            if self.upload.size > self.max_bytes:
                raise PayloadTooLarge(
                    f"The file is larger than {self.max_bytes} bytes.",
                    details={"max_bytes": self.max_bytes},
                )
            self._out.write(data[start:end])
        else:
            self._field_value += data[start:end]
            if len(self._field_value) > MAX_FIELD_BYTES:
                raise BadPayload(f"Form field '{self._field_name}' is too long.")

    def _part_end(self) -> None:
        if self._is_file and self._out is not None:
            self._out.close()
            self._out = None
        elif self._field_name:
            value = self._field_value.decode("utf-8", "replace")
            self.upload.fields.setdefault(self._field_name, []).append(value)

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


@asynccontextmanager
async def received_upload(request: Request, settings: Settings) -> AsyncIterator[Upload]:
    """Receive a multipart upload into the staging folder; the file is removed when the
    block ends (the service has moved what it keeps by then)."""
    max_bytes = settings.datasets.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdecimal() and int(declared) > max_bytes + MAX_FIELD_BYTES:
        raise PayloadTooLarge(
            f"The file is larger than {max_bytes} bytes.", details={"max_bytes": max_bytes}
        )
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or not options.get(b"boundary"):
        raise BadPayload(
            "Send the file as multipart/form-data (a `file` part), or JSON records to "
            "/api/v1/datasets/records.",
            details={"reason": "NOT_MULTIPART"},
        )
    reader = _FormReader(storage_for(settings).staging_file(".upload"), max_bytes)
    parser = MultipartParser(options[b"boundary"], cast(Any, reader.callbacks()))
    try:
        try:
            pending = bytearray()
            async for chunk in request.stream():
                pending += chunk
                if len(pending) >= 1 << 20:  # parse and write a megabyte at a time, off the loop
                    await run_in_threadpool(parser.write, bytes(pending))
                    pending.clear()
            if pending:
                await run_in_threadpool(parser.write, bytes(pending))
            parser.finalize()
        except MultipartParseError as exc:
            raise BadPayload(f"The multipart body cannot be read: {exc}.") from exc
        reader.close()
        if reader.upload.path is None:
            raise BadPayload(
                "No file in the upload (a `file` part).", details={"reason": "NO_FILE"}
            )
        yield reader.upload
    finally:
        reader.close()
        reader.path.unlink(missing_ok=True)
