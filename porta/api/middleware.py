"""Request-wide concerns that must hold for every route, DRF or not."""

from __future__ import annotations

import logging
import re
import uuid

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware

from porta.api.clientip import client_ip
from porta.api.errors import error_response, response_for_exception
from porta.core.context import RequestContext, reset_request_context, set_request_context
from porta.core.errors import ERROR_NAMES

logger = logging.getLogger("porta.requests")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,200}")


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


class RequestContextMiddleware:
    """Accepts or makes the request id, resolves the client IP once, and echoes X-Request-ID."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = offered if _REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        ip = client_ip(request)
        request.porta_client_ip = ip
        token = set_request_context(
            RequestContext(
                request_id=request_id, ip=ip, user_agent=request.META.get("HTTP_USER_AGENT", ""), stamps={}
            )
        )
        try:
            response = self.get_response(request)
        finally:
            reset_request_context(token)
        response["X-Request-ID"] = request_id
        return response


class ApiErrorMiddleware:
    """Under /api/, any error that did not come from our handler (Django's 404 for an unknown
    route, a 500 outside DRF, CSRF or host checks) is rewritten to the contract's shape."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            is_api_path(request.path)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            headers = {k: v for k, v in response.items() if k in {"Allow", "Retry-After", "WWW-Authenticate"}}
            message = "Route not found" if status == 404 else None
            return error_response(status, message, error=ERROR_NAMES.get(status), headers=headers)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_api_path(request.path):
            return response_for_exception(exception, request)
        return None


class RequestGuardMiddleware:
    """Refuses what no view should ever see: bodies over 2 MiB (413, before anything reads
    them) and NUL characters in the path or query, which PostgreSQL cannot store (400)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.PORTA_MAX_BODY_BYTES:
            return error_response(413)
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return error_response(400, "NUL characters are not allowed in the path or query")
        return self.get_response(request)


#: Paths whose views never read a cookie: credentials come in headers or the body only.
_COOKIELESS_PREFIXES = ("/api/", "/health/", "/metrics/")


class HeaderCredentialsCsrfMiddleware(CsrfViewMiddleware):
    """CSRF protection where a browser's cookies are the credential (the Django admin, the HTML
    pages); none for the JSON endpoints, which authenticate by header only, so a forged
    cross-site request carries nothing they honour. Checking CSRF there ran before the view and
    turned a method the route does not serve (``DELETE /api/admin/metadata``) into a 403
    instead of a 405. Protocol views outside these prefixes opt out with ``csrf_exempt``."""

    def process_view(self, request, callback, callback_args, callback_kwargs):
        if f"{request.path}/".startswith(_COOKIELESS_PREFIXES):  # "/health" too, not "/healthy-org/"
            return None
        return super().process_view(request, callback, callback_args, callback_kwargs)


def json_response(data, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(orjson.dumps(data), status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response
