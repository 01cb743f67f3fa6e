"""The domain exception hierarchy: what domain code raises when a request cannot be served.

Each error carries its HTTP status so the kernel (porta.api.errors) renders it in the contract's
shape; the core only names the errors, it renders nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ERROR_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    402: "PaymentRequired",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    412: "PreconditionFailed",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "UnprocessableEntity",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}
DEFAULT_MESSAGES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Request body exceeds the 2 MiB limit",
    415: "Unsupported media type",
    429: "Rate limit exceeded. Try again later.",
    500: "Internal server error",
    503: "Service unavailable",
}


class ApiError(Exception):
    """Base of every domain error that reaches the client."""

    status_code = 500
    error: str | None = None

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Mapping[str, list[str]] | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message or DEFAULT_MESSAGES.get(self.status_code, ERROR_NAMES[self.status_code])
        self.details = dict(details) if details else None
        self.extra = dict(extra) if extra else {}
        self.headers = dict(headers) if headers else {}
        super().__init__(self.message)


class BadRequest(ApiError):
    status_code = 400


class ValidationFailed(ApiError):
    status_code = 400
    error = "ValidationError"


class Unauthorized(ApiError):
    status_code = 401


class PaymentRequired(ApiError):
    """A plan limit (a quota) refuses the write; ``extra`` carries ``reason`` and the figures."""

    status_code = 402


class Forbidden(ApiError):
    status_code = 403


class NotFound(ApiError):
    status_code = 404


class Conflict(ApiError):
    status_code = 409


class InvalidTransition(Conflict):
    """An action that the resource's transition table does not allow from its current status."""


class PreconditionFailed(ApiError):
    status_code = 412


class PayloadTooLarge(ApiError):
    status_code = 413


class UnsupportedMediaType(ApiError):
    status_code = 415


class UnprocessableEntity(ApiError):
    status_code = 422


class TooManyRequests(ApiError):
    status_code = 429


class ServiceUnavailable(ApiError):
    status_code = 503
