"""A source's credentials (encrypted at rest, masked in answers) and its connector.

The credentials are one JSON object encrypted with Fernet under a key derived from the
server's secret by HKDF-SHA256 (a purpose of their own, so the key says nothing of the
other keys the secret derives); a copy of the database alone does not reveal them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from augury.collectors import connectors
from augury.collectors.connectors import Connector, Limits, SourceAuthFailed
from augury.collectors.models import DataSource
from augury.config import Settings

_HKDF_INFO = b"augury collector source credentials v1"
MASK = "***"


def _fernet(settings: Settings) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(settings.derived_key(_HKDF_INFO)))


def encrypt_secret(settings: Settings, secret: Mapping[str, Any]) -> str | None:
    """The credentials as stored; ``None`` when there are none."""
    if not secret:
        return None
    return _fernet(settings).encrypt(json.dumps(dict(secret)).encode()).decode("ascii")


def decrypt_secret(settings: Settings, token: str | None) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return json.loads(_fernet(settings).decrypt(token.encode("ascii")))
    except (InvalidToken, ValueError) as exc:
        raise SourceAuthFailed(
            "The source's stored credentials cannot be decrypted (the server's secret "
            "changed?): set them again."
        ) from exc


def masked(settings: Settings, source: DataSource) -> dict[str, str]:
    """The credential fields that are set, each as ``***``."""
    return {key: MASK for key in sorted(decrypt_secret(settings, source.secret))}


def _secret_values(secret: Mapping[str, Any]) -> list[str]:
    values: list[str] = []
    for value in secret.values():
        if isinstance(value, Mapping):
            values += _secret_values(value)
        elif value is not None:
            values.append(str(value))
    return values


def limits(settings: Settings, secret: Mapping[str, Any] | None = None) -> Limits:
    """What the operator allows, with the credentials to scrub from messages."""
    cfg = settings.collect
    return Limits(
        timeout_s=cfg.query_timeout_s,
        max_rows=cfg.max_rows_per_poll,
        allowed_private_networks=tuple(cfg.allowed_private_networks),
        allowed_folders=(settings.data_dir.resolve() / "collect", *cfg.allowed_folders),
        secrets=tuple(_secret_values(secret or {})),
    )


def connector_for(settings: Settings, source: DataSource) -> Connector:
    """A connector for a saved source (close it when done)."""
    secret = decrypt_secret(settings, source.secret)
    return connectors.connect(source.type, source.config, secret, limits(settings, secret))
