"""Credentials never reach a log line.

uvicorn's access log writes each request's path with its query string, so every
``?token=aug_…`` request (Anodot-style ingestion) would put a whole API key in the log;
an exception message or a logged URL can carry one as well. :class:`RedactingFilter`
rewrites a record before any handler formats it: its message, its arguments (one by one,
keeping their types where nothing changes, as uvicorn's access formatter unpacks five of
them and formats the status as a number) and its traceback. :func:`install` puts it on
the root logger's and uvicorn's handlers; ``augury serve`` and ``augury worker`` call it
once logging is configured, and :func:`uvicorn_log_config` is uvicorn's own logging
configuration with the filter on its handlers.

What is redacted (:func:`redact`): API keys (``aug_<prefix>_<secret>`` keeps its public
prefix), JWTs, the value of ``token=``, ``api_key=``, ``password=`` and other secret query
parameters or quoted JSON fields, ``Authorization`` / ``X-Auth-Token`` values, and the
password of a URL's user information.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping

REDACTED = "[redacted]"

_SECRET_NAMES = (
    r"token|access_token|refresh_token|id_token|auth_token|api_key|apikey|api-key|"
    r"password|passwd|pwd|secret|client_secret|signature|sig|credentials?"
)
_KEY = re.compile(r"\baug_([0-9a-f]{8})_[A-Za-z0-9_-]+")
_OTHER_KEY = re.compile(r"\baug_(?![0-9a-f]{8}_\[redacted\])[A-Za-z0-9_-]{4,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_PARAM = re.compile(rf"(?<![\w.-])((?:{_SECRET_NAMES})=)([^&\s\"'#;,<>]+)", re.I)
_JSON_FIELD = re.compile(rf"([\"'](?:{_SECRET_NAMES})[\"']\s*:\s*[\"'])([^\"']+)([\"'])", re.I)
_HEADER = re.compile(
    r"((?:authorization|x-auth-token|proxy-authorization)[\"']?\s*[:=]\s*[\"']?)"
    r"((?:bearer|basic|token|digest)\s+)?([^\s\"',;]+)",
    re.I,
)
_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)([^@\s/]+)@", re.I)


def _already(value: str) -> bool:
    return value.endswith(REDACTED)


def redact(text: str) -> str:
    """``text`` without the credentials it holds (see the module's docstring)."""
    if not text:
        return text
    text = _KEY.sub(rf"aug_\1_{REDACTED}", text)
    text = _OTHER_KEY.sub(f"aug_{REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    text = _PARAM.sub(lambda m: m[0] if _already(m[2]) else m[1] + REDACTED, text)
    text = _JSON_FIELD.sub(lambda m: m[0] if _already(m[2]) else m[1] + REDACTED + m[3], text)
    text = _HEADER.sub(lambda m: m[0] if _already(m[3]) else m[1] + (m[2] or "") + REDACTED, text)
    return _USERINFO.sub(rf"\1{REDACTED}@", text)


def _redact_arg(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    cleaned = redact(text)
    return value if cleaned == text else cleaned


class RedactingFilter(logging.Filter):
    """Rewrites a record's message, arguments and traceback without credentials."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        elif record.msg is not None:
            record.msg = _redact_arg(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(a) for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {k: _redact_arg(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "augury")


def install() -> None:
    """Put the filter on the root and uvicorn loggers and their handlers (idempotent).

    A logger's own filter sees only the records made on it, a handler's sees every record
    it writes, so both are covered; call again after logging is reconfigured."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        for target in (logger, *logger.handlers):
            if not any(isinstance(f, RedactingFilter) for f in target.filters):
                target.addFilter(RedactingFilter())


def uvicorn_log_config() -> dict:
    """uvicorn's default logging configuration, its handlers filtered."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact"] = {"()": RedactingFilter}
    for handler in config.get("handlers", {}).values():
        handler.setdefault("filters", []).append("redact")
    return config
