"""Connectors: how augury reads each type of data source.

Each module serves one family of source types and offers the same four names:

- ``TYPES``: the source types it serves (``SourceType`` values);
- ``SECRET_FIELDS``: per type, the config keys that are credentials (stored encrypted,
  never returned: ``password``, ``secret_access_key``, ``token``, ``headers`` ...);
- ``check_config(type, config, secret) -> dict``: the config checked and normalised
  (defaults filled in), or :class:`~.base.ConfigInvalid` naming the field;
- ``check_stream(type, stream) -> None``: the stream object has what this type reads
  (a table or query, a path and pattern, a PromQL expression ...), or ``ConfigInvalid``;
- ``connect(type, config, secret, limits) -> Connector``.

The module for a type is imported when a source of it is first used, so a process that
never reads S3 never imports boto3.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from augury.collectors.connectors.base import (
    BadResponse,
    ConfigInvalid,
    Connector,
    Limits,
    Probe,
    QueryFailed,
    QueryTimeout,
    QueryUnsafe,
    SourceAuthFailed,
    SourceError,
    SourceRefused,
    SourceUnreachable,
    TooManyRows,
    Window,
)

__all__ = [
    "MODULES",
    "BadResponse",
    "ConfigInvalid",
    "Connector",
    "Limits",
    "Probe",
    "QueryFailed",
    "QueryTimeout",
    "QueryUnsafe",
    "SourceAuthFailed",
    "SourceError",
    "SourceRefused",
    "SourceUnreachable",
    "TooManyRows",
    "Window",
    "check_config",
    "check_stream",
    "connect",
    "secret_fields",
]

MODULES = {
    "psql": "augury.collectors.connectors.sql",
    "mysql": "augury.collectors.connectors.sql",
    "mariadb": "augury.collectors.connectors.sql",
    "sqlite": "augury.collectors.connectors.sql",
    "s3": "augury.collectors.connectors.files",
    "folder": "augury.collectors.connectors.files",
    "prometheus": "augury.collectors.connectors.prometheus",
    "http": "augury.collectors.connectors.http",
}
"""Source type -> the module that reads it."""


def _module(source_type: str) -> ModuleType:
    name = MODULES.get(source_type)
    if name is None:
        raise ConfigInvalid(
            "type", f"Unknown source type {source_type!r}; one of {', '.join(MODULES)}."
        )
    return importlib.import_module(name)


def secret_fields(source_type: str) -> tuple[str, ...]:
    return tuple(_module(source_type).SECRET_FIELDS.get(source_type, ()))


def check_config(
    source_type: str, config: Mapping[str, Any], secret: Mapping[str, Any]
) -> dict[str, Any]:
    return _module(source_type).check_config(source_type, config, secret)


def check_stream(source_type: str, stream: Mapping[str, Any]) -> None:
    _module(source_type).check_stream(source_type, stream)


def connect(
    source_type: str, config: Mapping[str, Any], secret: Mapping[str, Any], limits: Limits
) -> Connector:
    return _module(source_type).connect(source_type, config, secret, limits)
