"""The one place errors become responses: every error under /api/ has the contract's shape.

Domain code raises the typed exceptions of porta.core.errors; DRF's own exceptions and anything
unexpected are mapped here too, so no handler elsewhere renders an error body.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from rest_framework import exceptions as drf

from porta.api import database
from porta.core.context import current_request_context
from porta.core.errors import DEFAULT_MESSAGES, ERROR_NAMES, ApiError

logger = logging.getLogger("porta.errors")


def error_body(
    status: int,
    message: str | None = None,
    *,
    error: str | None = None,
    details: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "error": error or ERROR_NAMES.get(status, "Error"),
        "message": message or DEFAULT_MESSAGES.get(status, ERROR_NAMES.get(status, "Error")),
        "statusCode": status,
    }
    if details:
        body["details"] = dict(details)
    if extra:
        body.update(extra)
    body["requestId"] = current_request_context().request_id
    return body


def error_response(
    status: int,
    message: str | None = None,
    *,
    error: str | None = None,
    details: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    response = HttpResponse(
        orjson.dumps(error_body(status, message, error=error, details=details, extra=extra)),
        status=status,
        content_type="application/json",
    )
    for name, value in (headers or {}).items():
        response[name] = value
    if status == 401 and "WWW-Authenticate" not in response:
        response["WWW-Authenticate"] = 'Bearer realm="porta"'
    return response


def flatten_details(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF error trees → ``{"field": [...], "branding.primaryColor": [...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = "nonFieldErrors" if key == "non_field_errors" else str(key)
            out.update(flatten_details(value, f"{prefix}.{name}" if prefix else name))
    elif isinstance(detail, list | tuple):
        if all(not isinstance(item, Mapping | list | tuple) for item in detail):
            out.setdefault(prefix or "nonFieldErrors", []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                out.update(flatten_details(item, f"{prefix}[{index}]"))
    else:
        out.setdefault(prefix or "nonFieldErrors", []).append(str(detail))
    return out


def _validation_message(details: dict[str, list[str]]) -> str:
    unknown = sorted(name for name, messages in details.items() if "Unknown field." in messages)
    if unknown:
        return "Unknown field(s): " + ", ".join(unknown)
    return "Validation failed: " + ", ".join(sorted(details)) if details else "Validation failed"


def response_for_exception(exc: BaseException, request: HttpRequest | None = None) -> HttpResponse:
    if isinstance(exc, ApiError):
        return error_response(
            exc.status_code,
            exc.message,
            error=exc.error,
            details=exc.details,
            extra=exc.extra,
            headers=exc.headers,
        )
    if isinstance(exc, drf.ValidationError):
        details = flatten_details(exc.detail)
        return error_response(400, _validation_message(details), error="ValidationError", details=details)
    if isinstance(exc, drf.ParseError):
        return error_response(400, f"Malformed request body: {exc.detail}")
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        return error_response(401, str(exc.detail))
    if isinstance(exc, drf.PermissionDenied | DjangoPermissionDenied):
        return error_response(403, str(getattr(exc, "detail", "")) or None)
    if isinstance(exc, drf.NotFound | Http404):
        return error_response(404)
    if isinstance(exc, drf.MethodNotAllowed):
        return error_response(405, str(exc.detail))
    if isinstance(exc, drf.UnsupportedMediaType):
        return error_response(415, "Unsupported media type: send application/json")
    if isinstance(exc, drf.NotAcceptable):
        return error_response(406, str(exc.detail))
    if isinstance(exc, RequestDataTooBig):
        return error_response(413)
    if isinstance(exc, drf.Throttled):
        return error_response(429, headers={"Retry-After": str(int(exc.wait or 1))})
    if isinstance(exc, drf.APIException):
        return error_response(exc.status_code, str(exc.detail))
    if database.is_unavailable(exc):
        database.log_unavailable(request, exc)
        response = error_response(503, database.MESSAGE, headers=database.retry_after_headers())
        response._has_been_logged = True  # one line is enough: Django must not add its own
        return response
    logger.exception("Unhandled error", exc_info=exc)
    return error_response(500)


def exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse:
    """DRF's EXCEPTION_HANDLER: every exception in a DRF view, expected or not."""
    return response_for_exception(exc, context.get("request"))
