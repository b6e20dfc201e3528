"""Password hashing (argon2), token hashing and JWTs. No database access here."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from augury import clock
from augury.errors import AuthenticationFailed

_hasher = PasswordHasher()
# A real hash to verify against when the user does not exist, so a wrong email
# costs the same time as a wrong password (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash("augury-dummy-password")

API_KEY_PREFIX = "aug_"
JWT_ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def hash_token(token: str) -> str:
    """Hash of a high-entropy secret (API key, refresh/reset/invite token): SHA-256 suffices."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def new_api_key() -> tuple[str, str]:
    """A new key and its public prefix (shown in lists so people can tell keys apart)."""
    prefix = secrets.token_hex(4)
    return f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


def encode_access_token(
    *, key: str, user_id: int, org_id: int, session_id: int, minutes: int
) -> tuple[str, datetime]:
    issued = clock.now()
    expires = issued + timedelta(minutes=minutes)
    claims = {
        "sub": str(user_id),
        "org": org_id,
        "sid": session_id,
        "typ": "access",
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
    }
    return jwt.encode(claims, key, algorithm=JWT_ALGORITHM), expires


def decode_access_token(token: str, *, key: str) -> dict[str, Any]:
    try:
        # exp is checked against augury's clock below (PyJWT would read time.time()).
        claims = jwt.decode(
            token,
            key,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["exp", "sub", "org", "sid"], "verify_exp": False},
        )
    except jwt.PyJWTError as exc:
        raise AuthenticationFailed("Invalid access token.") from exc
    if claims.get("typ") != "access":
        raise AuthenticationFailed("Not an access token.")
    if claims["exp"] <= clock.now().timestamp():
        raise AuthenticationFailed("Access token expired.")
    return claims
