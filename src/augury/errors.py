"""Errors that carry an API code, translated once into the response envelope.

    AuguryError (500 INTERNAL_ERROR)
    ├── AuthenticationFailed (401 AUTHENTICATION_FAILED)
    ├── PermissionDenied (403 PERMISSION_DENIED)
    ├── NotFound (404 RESOURCE_NOT_FOUND)
    ├── Conflict (409 CONFLICT)
    ├── ValidationFailed (422 VALIDATION_ERROR)
    ├── BadPayload (400 INVALID_PAYLOAD)
    ├── PayloadTooLarge (413 PAYLOAD_TOO_LARGE)
    ├── RateLimited (429 RATE_LIMIT_EXCEEDED)
    ├── QuotaExceeded (429 or 403 QUOTA_EXCEEDED)
    ├── ProviderError (502 PROVIDER_ERROR)
    └── ServiceUnavailable (503 SERVICE_UNAVAILABLE)

Services raise these; ``api/errors.py`` turns them into
``{"error": {"code", "message", "details"}}``. No route raises ``HTTPException``.
"""

from __future__ import annotations

from typing import Any


class AuguryError(Exception):
    status = 500
    code = "INTERNAL_ERROR"
    default_message = "Internal error."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ):
        self.message = message or self.default_message
        self.details = details or {}
        self.extra = extra or {}
        """Fields beside ``error`` in the body (wire-compatible ingestion answers)."""
        super().__init__(self.message)


class AuthenticationFailed(AuguryError):
    status = 401
    code = "AUTHENTICATION_FAILED"
    default_message = "Authentication failed."


class PermissionDenied(AuguryError):
    status = 403
    code = "PERMISSION_DENIED"
    default_message = "You do not have permission to do this."


class NotFound(AuguryError):
    status = 404
    code = "RESOURCE_NOT_FOUND"
    default_message = "Resource not found."


class Conflict(AuguryError):
    status = 409
    code = "CONFLICT"
    default_message = "Conflict with the current state."


class ValidationFailed(AuguryError):
    status = 422
    code = "VALIDATION_ERROR"
    default_message = "Invalid request."


class BadPayload(AuguryError):
    """A request body that cannot be read at all (not JSON, not snappy, bad gzip ...)."""

    status = 400
    code = "INVALID_PAYLOAD"
    default_message = "The request body cannot be read."


class PayloadTooLarge(AuguryError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"
    default_message = "Request body too large."


class RateLimited(AuguryError):
    status = 429
    code = "RATE_LIMIT_EXCEEDED"
    default_message = "Rate limit exceeded."

    def __init__(self, retry_after: int, message: str | None = None):
        super().__init__(
            message or f"Rate limit exceeded. Try again in {retry_after} seconds.",
            details={"retry_after": retry_after},
        )
        self.retry_after = retry_after


class QuotaExceeded(AuguryError):
    """An organization's quota (``AUGURY_QUOTAS__*``) is used up: 429 with Retry-After when
    it frees itself in time (jobs that finish, the next minute), else 403."""

    status = 403
    code = "QUOTA_EXCEEDED"
    default_message = "Quota exceeded."

    def __init__(
        self,
        message: str,
        *,
        quota: str,
        limit: int | float,
        used: int | float,
        retry_after: int | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(
            message, details={"quota": quota, "limit": limit, "used": used}, extra=extra
        )
        self.retry_after = retry_after
        if retry_after is not None:
            self.status = 429


class ProviderError(AuguryError):
    """An outside service augury was asked to use (an organization's LLM provider)
    failed: unreachable, timed out, an HTTP error, or an answer augury cannot use;
    ``details.provider`` names it, ``details.reason`` says what went wrong."""

    status = 502
    code = "PROVIDER_ERROR"
    default_message = "The provider did not give a usable answer."


class ServiceUnavailable(AuguryError):
    """A service augury depends on (the dataset files' S3 storage ...) cannot be reached;
    trying again later may work."""

    status = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "A service augury depends on is unavailable; try again later."
