"""Contract §1 rate limit: writes to /api/admin/ are limited per client IP across all processes.

A middleware rather than a DRF throttle so it runs before authentication (a flood of bad tokens
is throttled too) and covers every write route, unknown ones included.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from porta.api.errors import error_response
from porta.core import liveconfig, ratelimit
from porta.core.metrics import THROTTLED_REQUESTS

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class WriteRateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method not in WRITE_METHODS
            or not request.path.startswith("/api/admin/")
            or request.path.startswith(settings.PORTA_RATE_LIMIT_READ_POSTS)
        ):
            return self.get_response(request)
        ip = getattr(request, "porta_client_ip", None) or request.META.get("REMOTE_ADDR", "")
        decision = ratelimit.hit(
            f"admin-write:{ip}",
            limit=liveconfig.get("api_rate_limit"),
            window=settings.PORTA_RATE_LIMIT_WINDOW,
        )
        if not decision.allowed:
            THROTTLED_REQUESTS.labels(scope="admin_write").inc()
            return error_response(
                429,
                "Rate limit exceeded. Try again later.",
                headers={"Retry-After": str(decision.reset), **decision.headers()},
            )
        response = self.get_response(request)
        for name, value in decision.headers().items():
            response[name] = value
        return response
