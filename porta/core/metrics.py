"""Prometheus metrics: request count and latency by route and status, plus domain counters.

Counters live in each process's default registry; with several gunicorn workers each scrape sees
one worker (set PROMETHEUS_MULTIPROC_DIR for aggregated multi-process metrics).
"""

from __future__ import annotations

import time

from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prom_multiprocess

REQUESTS = Counter("porta_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "porta_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
THROTTLED_REQUESTS = Counter("porta_throttled_requests_total", "Requests refused by a rate limit", ["scope"])
RATE_LIMIT_BACKEND_ERRORS = Counter(
    "porta_rate_limit_backend_errors_total",
    "Rate-limit checks that failed open because Redis was unreachable",
)
TOKENS_ISSUED = Counter("porta_tokens_issued_total", "Access tokens issued", ["grant_type"])
LOGIN_FAILURES = Counter(
    "porta_login_failures_total",
    "Failed password and one-time-code checks, by entrance (token_endpoint, django_admin, recovery)",
    ["channel", "reason"],
)


#: Collectors that read their values when scraped (e.g. jobs by status, from the database); apps
#: add theirs with ``register_live``, so the multi-process registry includes them too.
_LIVE_COLLECTORS: list = []


def register_live(collector) -> None:
    if collector not in _LIVE_COLLECTORS:
        _LIVE_COLLECTORS.append(collector)
        REGISTRY.register(collector)


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.route or match.view_name or "unknown"


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = _route(request)
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        return response


def prometheus_view(request: HttpRequest) -> HttpResponse:
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prom_multiprocess.MultiProcessCollector(registry)
        for collector in _LIVE_COLLECTORS:
            registry.register(collector)
        body = generate_latest(registry)
    else:
        body = generate_latest()
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
