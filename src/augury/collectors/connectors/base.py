"""What every connector offers, and the errors a source can give.

A connector is built for one data source (:func:`augury.collectors.connectors.connect`)
from its ``config`` (where it is), its decrypted ``secret`` (the credentials) and the
:class:`Limits` the operator set. It never touches augury's database: it reads from the
source and returns plain pandas frames, so the collector, the preview, the connection
test and the benchmark all use the same code.

Errors are :class:`SourceError` s with a stable ``code`` (stored on the stream, shown
in the UI) and a message that never holds a credential (:meth:`Limits.scrub`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol

import pandas as pd


class SourceError(Exception):
    """A source could not be read. ``code`` is one of:

    - ``source_unreachable``: connection refused, host unknown, server gone mid-poll;
    - ``source_auth``: the credentials were refused (they stopped working);
    - ``source_refused``: a private/loopback host or a folder the operator did not allow;
    - ``query_timeout``: the read ran past ``Limits.timeout_s`` and was cancelled;
    - ``query_unsafe``: the query writes, or is more than one statement;
    - ``query_failed``: the source refused the query (syntax, unknown table ...);
    - ``too_many_rows``: more than ``Limits.max_rows`` rows in one read;
    - ``bad_response``: a file, Prometheus or HTTP answer that cannot be read as rows;
    - ``columns_changed``: a file's header lost a column the stream reads.
    """

    code: ClassVar[str] = "source_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]


class SourceUnreachable(SourceError):
    code = "source_unreachable"


class SourceAuthFailed(SourceError):
    code = "source_auth"


class SourceRefused(SourceError):
    code = "source_refused"


class QueryTimeout(SourceError):
    code = "query_timeout"


class QueryUnsafe(SourceError):
    code = "query_unsafe"


class QueryFailed(SourceError):
    code = "query_failed"


class TooManyRows(SourceError):
    code = "too_many_rows"


class BadResponse(SourceError):
    code = "bad_response"


class ConfigInvalid(ValueError):
    """A source's ``config``/``secret`` or a stream's definition is wrong for its type;
    ``field`` names the offending field (the API answers 422 naming it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Limits:
    """What the operator allows (``AUGURY_COLLECT__*``), passed to every connector."""

    timeout_s: float = 60.0
    max_rows: int = 2_000_000
    allowed_private_networks: Sequence[str] = ()
    allowed_folders: Sequence[Path] = ()
    secrets: Sequence[str] = field(default=())
    """Credential values to take out of any message (:meth:`scrub`)."""

    def scrub(self, text: str) -> str:
        """``text`` with every credential value replaced by ``***``."""
        for value in self.secrets:
            if value and len(value) >= 3:
                text = text.replace(value, "***")
        return text


@dataclass(frozen=True, slots=True)
class Window:
    """The time range a poll reads: ``start <= t < end`` (aware UTC datetimes), and the
    stream's time zone for sources whose time column holds local wall times."""

    start: datetime
    end: datetime
    time_zone: str = "UTC"


@dataclass(slots=True)
class Probe:
    """What a connection test found: ``detail`` (server version, bucket, folder ...)
    and ``objects`` (tables, files, metric names: what a stream could read, at most a
    few hundred, for the stream builder)."""

    detail: str
    objects: list[str] = field(default_factory=list)


class Connector(Protocol):
    """One source's reader. Every method raises :class:`SourceError` on failure."""

    type: str

    def test(self) -> Probe:
        """Connect, authenticate and list what can be read (the "Test connection")."""
        ...

    def read(self, stream: Mapping[str, Any], window: Window | None, *, limit: int) -> pd.DataFrame:
        """The rows of ``stream`` (the Anodot stream object: ``tableName``/``query``,
        ``path``/``fileNamePattern``, PromQL ``query`` ...) whose time is inside
        ``window`` (``None``: the latest ``limit`` rows, for a preview). A source may
        return rows outside the window (the mapping keeps only those inside, exactly);
        it must return every row inside it. At most ``limit`` rows, else
        :class:`TooManyRows`. Columns keep the source's names (or 0, 1, ... for a file
        without a header)."""
        ...

    def close(self) -> None:
        """Release connections (a connector may be reused for several reads)."""
        ...


def frame(rows: Sequence[Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """Rows as a frame (an empty one keeps no columns)."""
    return rows if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(list(rows))
