"""HTTP JSON: rows picked out of a JSON answer with JSONPath.

A source is a base ``url`` and a ``method`` (``GET`` or ``POST``, sent without a body),
its secret the ``headers`` to send (``{"Authorization": "Bearer ..."}``, an API key
header ...): every header value is a credential, stored encrypted, scrubbed from every
message. A stream appends its ``path`` to the URL, where ``{start}`` and ``{end}``
become the window's epoch seconds and ``{start_iso}``/``{end_iso}`` its ISO-8601 UTC
times (``2026-01-02T03:04:05Z``), so an API can be asked for just the poll's range; a
preview (no window) asks for the last hour. Any other ``{...}`` stays as written.

``jsonPath`` (jsonpath-ng's extended syntax: ``$.data[*]``, filters
``$.items[?(@.kind == 'sale')]``) picks the rows: each match must be an object, whose
nested objects become columns named with dots (``{"geo": {"country": "ES"}}`` gives
``geo.country``) and lists JSON text. An answer is read up to
:data:`MAX_ANSWER_BYTES`; the host is vetted after DNS and the call pinned to the
vetted address, with TLS checked against the URL's host (:mod:`.web`); redirects are
not followed.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from augury import clock
from augury.collectors.connectors.base import (
    BadResponse,
    ConfigInvalid,
    Limits,
    Probe,
    QueryFailed,
    SourceAuthFailed,
    SourceUnreachable,
    TooManyRows,
    Window,
)
from augury.collectors.connectors.files import flatten
from augury.collectors.connectors.web import Answer, Fetcher, check_url, with_secrets

TYPES = ("http",)
SECRET_FIELDS: dict[str, tuple[str, ...]] = {"http": ("headers",)}
METHODS = ("GET", "POST")
PLACEHOLDERS = ("start", "end", "start_iso", "end_iso")
MAX_ANSWER_BYTES = 50 * 1024 * 1024
PREVIEW_RANGE = timedelta(hours=1)
PROBE_OBJECTS = 500
ROW_LIMIT = "AUGURY_COLLECT__MAX_ROWS_PER_POLL"

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_FIXED_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "upgrade", "te"}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _headers(secret: Mapping[str, Any]) -> dict[str, str]:
    headers = secret.get("headers")
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise ConfigInvalid(
            "secret.headers", 'headers is an object of names and values: {"Authorization": "..."}.'
        )
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise ConfigInvalid("secret.headers", f"{name!r} is not a valid header name.")
        if name.lower() in _FIXED_HEADERS:
            raise ConfigInvalid("secret.headers", f"The {name} header is set by augury itself.")
        if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
            # the value is a credential: never repeated in a message
            raise ConfigInvalid(
                f"secret.headers.{name}", f"The {name} header's value must be one line of text."
            )
        checked[name] = value
    return checked


def check_config(
    source_type: str, config: Mapping[str, Any], secret: Mapping[str, Any]
) -> dict[str, Any]:
    """``{"url", "method"}`` normalised, or :class:`ConfigInvalid`; the secret may only
    hold ``headers``."""
    if not isinstance(config, Mapping):
        raise ConfigInvalid("config", "The config must be an object.")
    for key in config:
        if key not in ("url", "method"):
            raise ConfigInvalid(
                f"config.{key}", f"Unknown config field {key!r}; the fields are url and method."
            )
    url = check_url("config.url", config.get("url"))
    method = config.get("method") or "GET"
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise ConfigInvalid("config.method", "method is GET or POST.")
    secret = secret or {}
    if not isinstance(secret, Mapping):
        raise ConfigInvalid("secret", "The secret must be an object.")
    for key in secret:
        if key != "headers":
            raise ConfigInvalid(
                f"secret.{key}", f"Unknown secret field {key!r}; the field is headers."
            )
    _headers(secret)
    return {"url": url, "method": method.upper()}


@functools.lru_cache(maxsize=256)
def _compiled(expression: str) -> Any:
    from jsonpath_ng.ext import parse

    return parse(expression)


def _json_path(stream: Mapping[str, Any]) -> tuple[str, Any]:
    expression = stream.get("jsonPath")
    if not isinstance(expression, str) or not expression.strip():
        raise ConfigInvalid(
            "jsonPath", "jsonPath is required: the JSONPath of the rows, e.g. $.data[*]."
        )
    expression = expression.strip()
    try:
        return expression, _compiled(expression)
    except Exception as exc:  # noqa: BLE001 - jsonpath-ng raises plain Exceptions
        reason = " ".join(str(exc).split())[:200]
        raise ConfigInvalid(
            "jsonPath", f"jsonPath {expression!r} is not valid JSONPath: {reason}"
        ) from exc


def _path(stream: Mapping[str, Any]) -> str:
    path = stream.get("path")
    if path is None or path == "":
        return ""
    if not isinstance(path, str):
        raise ConfigInvalid("path", "path is text appended to the source's URL.")
    if any(ord(c) < 33 or c == "\x7f" for c in path):
        raise ConfigInvalid(
            "path", "path may not hold spaces or control characters (encode them: %20)."
        )
    if "://" in path or path.startswith("//") or "#" in path:
        raise ConfigInvalid(
            "path",
            "path is appended to the source's URL: it may not name another host or a #fragment.",
        )
    return path


def check_stream(source_type: str, stream: Mapping[str, Any]) -> None:
    _path(stream)
    _json_path(stream)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fill(path: str, start: datetime, end: datetime) -> str:
    """``path`` with the window's placeholders filled in (others stay as written).

    >>> t = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    >>> fill("/m?from={start}&to={end_iso}&x={other}", t, t + timedelta(hours=1))
    '/m?from=1767323045&to=2026-01-02T04:04:05Z&x={other}'
    """
    values = {
        "start": str(int(start.timestamp())),
        "end": str(int(end.timestamp())),
        "start_iso": _iso(start),
        "end_iso": _iso(end),
    }
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), path)


def join(base: str, path: str) -> str:
    """The source's URL with a stream's path after it (one ``/`` between them)."""
    if not path:
        return base
    if path.startswith("?"):
        return base + path
    return f"{base.rstrip('/')}/{path.lstrip('/')}"


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "null" if value is None else "number"


def array_paths(document: Any, limit: int = PROBE_OBJECTS) -> list[str]:
    """JSONPaths of the lists of objects in ``document`` (what a stream's jsonPath
    could pick), for the stream builder.

    >>> array_paths({"data": [{"a": 1, "items": [{"b": 2}]}], "meta": {"n": 1}})
    ['$.data[*]', '$.data[*].items[*]']
    """
    found: list[str] = []

    def walk(value: Any, path: str, depth: int) -> None:
        if len(found) >= limit or depth > 6:
            return
        if isinstance(value, Mapping):
            for key, item in value.items():
                step = f".{key}" if _IDENTIFIER.fullmatch(str(key)) else f"['{key}']"
                walk(item, path + step, depth + 1)
        elif isinstance(value, list):
            objects = [item for item in value if isinstance(item, Mapping)]
            if objects:
                found.append(f"{path}[*]")
                walk(objects[0], f"{path}[*]", depth + 1)

    walk(document, "$", 0)
    return found


class HttpConnector:
    """Reads JSON from one HTTP API."""

    type = "http"

    def __init__(self, config: Mapping[str, Any], secret: Mapping[str, Any], limits: Limits):
        self.url = str(config["url"]).rstrip("/")
        self.method = str(config.get("method") or "GET").upper()
        self._headers = {"Accept": "application/json", **_headers(secret)}
        self.limits = limits
        self._fetcher = Fetcher(limits)

    def close(self) -> None:
        self._fetcher.close()

    def _call(self, url: str) -> Answer:
        return self._fetcher.request(
            self.method, url, headers=self._headers, max_bytes=MAX_ANSWER_BYTES
        )

    def _refusal(self, answer: Answer) -> None:
        """Raise the error an answer that is not a success stands for."""
        status = answer.status
        scrub = self.limits.scrub
        if status in (401, 403):
            raise SourceAuthFailed(
                f"{answer.shown} refused the credentials (HTTP {status}): check the headers "
                "in the source's secret (Authorization, an API key ...)."
            )
        if 300 <= status < 400:
            raise BadResponse(
                scrub(
                    f"{answer.shown} redirects (HTTP {status}) to "
                    f"{answer.location or 'another address'}: redirects are not followed; "
                    "use the final address in the source's url or the stream's path."
                )
            )
        if status == 404:
            raise QueryFailed(
                f"{answer.shown} was not found (HTTP 404): check the stream's path and the "
                "source's url."
            )
        if status in (408, 429) or status >= 500:
            raise SourceUnreachable(
                scrub(f"{answer.shown} failed (HTTP {status}): {answer.snippet(self.limits)}")
            )
        if status >= 400:
            raise QueryFailed(
                scrub(
                    f"{answer.shown} refused the request (HTTP {status}): "
                    f"{answer.snippet(self.limits)}"
                )
            )

    def _document(self, answer: Answer) -> Any:
        try:
            return json.loads(answer.body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            kind = answer.content_type.split(";")[0].strip() or "an answer"
            raise BadResponse(
                self.limits.scrub(
                    f"{answer.shown} answered {kind} that is not JSON "
                    f"({' '.join(str(exc).split())[:120]}): check the stream's path. It "
                    f"starts: {answer.snippet(self.limits)[:120]}"
                )
            ) from exc

    def test(self) -> Probe:
        answer = self._call(self.url)
        if answer.status >= 300 and answer.status not in (404, 405):
            self._refusal(answer)
        kind = answer.content_type.split(";")[0].strip() or "no content type"
        detail = f"{answer.shown} answered HTTP {answer.status} ({kind}, {len(answer.body)} bytes)"
        if answer.status >= 400:
            return Probe(detail + ": reachable; streams add their path to this URL")
        try:
            document = json.loads(answer.body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            return Probe(detail)
        return Probe(detail, array_paths(document))

    def read(self, stream: Mapping[str, Any], window: Window | None, *, limit: int) -> pd.DataFrame:
        try:
            path = _path(stream)
            expression, compiled = _json_path(stream)
        except ConfigInvalid as exc:
            raise QueryFailed(f"The stream's {exc.field}: {exc.message}") from exc
        if window is None:
            end = clock.now()
            start, cap = end - PREVIEW_RANGE, None
        else:
            start, end = window.start, window.end
            cap = min(limit, self.limits.max_rows)
        answer = self._call(join(self.url, fill(path, start, end)))
        if answer.status >= 300:
            self._refusal(answer)
        document = self._document(answer)
        rows: list[dict[str, Any]] = []
        for match in compiled.find(document):
            value = match.value
            if not isinstance(value, Mapping):
                hint = (
                    f" (it is a list: pick its items with {expression}[*])"
                    if isinstance(value, list)
                    else ""
                )
                raise BadResponse(
                    f"jsonPath {expression!r} matched a {_kind(value)} at {match.full_path}, "
                    f"not an object{hint}: rows are JSON objects; fix the stream's jsonPath."
                )
            rows.append(flatten(value))
            if cap is not None and len(rows) > cap:
                raise TooManyRows(
                    f"{answer.shown} gave more than {cap} rows, the most one read may "
                    f"return ({ROW_LIMIT}): ask for a shorter range with {{start}} and {{end}}."
                )
        frame = pd.DataFrame.from_records(rows)
        if cap is None:
            frame = frame.tail(max(limit, 0)).reset_index(drop=True)
        return frame


def connect(
    source_type: str, config: Mapping[str, Any], secret: Mapping[str, Any], limits: Limits
) -> HttpConnector:
    if source_type != "http":
        raise ConfigInvalid("type", f"The HTTP connector does not read {source_type!r}.")
    secret = secret or {}
    headers = secret.get("headers") if isinstance(secret.get("headers"), Mapping) else {}
    limits = with_secrets(limits, list((headers or {}).values()))
    return HttpConnector(config, secret, limits)
