"""The errors the augury API answers, as exceptions.

``_error_from`` turns an error answer (``{"error": {"code", "message", "details"}}``,
or whatever a proxy in between answered) into the exception for its code, or for
its status when the code is not one of augury's.
"""

from __future__ import annotations

from typing import Any

import httpx


class AuguryAPIError(Exception):
    """An error answered by the augury API.

    Parameters
    ----------
    status : int
        HTTP status of the answer.
    code : str
        Error code, e.g. ``"RESOURCE_NOT_FOUND"``.
    message : str
        Human-readable explanation.
    details : dict, optional
        Structured details (field errors, allowed values ...).
    """

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        super().__init__(f"{status} {code}: {message}")


class AuthenticationError(AuguryAPIError):
    """Missing, wrong, expired or revoked credentials (401)."""


class PermissionDeniedError(AuguryAPIError):
    """The credentials may not do this (403)."""


class NotFoundError(AuguryAPIError):
    """No such resource in the organization you act in (404)."""


class ConflictError(AuguryAPIError):
    """The resource's current state forbids this (409)."""


class PayloadTooLargeError(AuguryAPIError):
    """The request body is over the server's limit (413)."""


class ValidationError(AuguryAPIError):
    """The request is malformed or its values are invalid (422)."""


class RateLimitError(AuguryAPIError):
    """Too many requests (429); retry after ``retry_after`` seconds."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, code, message, details)
        self.retry_after = retry_after


class ServerError(AuguryAPIError):
    """The server failed (5xx)."""


_ERRORS_BY_CODE: dict[str, type[AuguryAPIError]] = {
    "AUTHENTICATION_FAILED": AuthenticationError,
    "PERMISSION_DENIED": PermissionDeniedError,
    "RESOURCE_NOT_FOUND": NotFoundError,
    "CONFLICT": ConflictError,
    "PAYLOAD_TOO_LARGE": PayloadTooLargeError,
    "VALIDATION_ERROR": ValidationError,
    "RATE_LIMIT_EXCEEDED": RateLimitError,
    "INTERNAL_ERROR": ServerError,
}
_ERRORS_BY_STATUS: dict[int, type[AuguryAPIError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: ValidationError,
    429: RateLimitError,
}


def _error_from(response: httpx.Response) -> AuguryAPIError:
    """The exception for an error answer, from its envelope when it has one."""
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
        details = error.get("details") or {}
    except (ValueError, KeyError, TypeError):
        # Not augury's envelope (a proxy in between, for instance).
        code = "INTERNAL_ERROR" if response.status_code >= 500 else "HTTP_ERROR"
        message = response.text[:500] or response.reason_phrase
        details = {}
    cls = _ERRORS_BY_CODE.get(code) or _ERRORS_BY_STATUS.get(response.status_code)
    if cls is None:
        cls = ServerError if response.status_code >= 500 else AuguryAPIError
    if cls is RateLimitError:
        retry_after = response.headers.get("Retry-After") or details.get("retry_after")
        try:
            retry_after = float(retry_after) if retry_after is not None else None
        except (TypeError, ValueError):
            retry_after = None
        return RateLimitError(response.status_code, code, message, details, retry_after)
    return cls(response.status_code, code, message, details)
