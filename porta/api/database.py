"""PostgreSQL outages: a clear 503 while the database is away, and recovery without a restart.

While PostgreSQL is down (or restarting) every request that needs it fails with a DB-API
``OperationalError`` or ``InterfaceError`` — errors of the database's operation, not of the
code. Those are answered 503 ``ServiceUnavailable`` with ``Retry-After`` in the contract's shape
(the OAuth 2 shape, ``temporarily_unavailable``, at the token endpoints) and logged on one line,
without a traceback: an outage is an operational event, and a traceback per request would bury
the log. Every other error keeps its 500 and its traceback.

Persistent connections (``CONN_MAX_AGE``) opened before a PostgreSQL restart are dead
afterwards, but a process only learns that when it next uses one, and that request would fail.
So before each request every idle persistent connection is checked without a round trip: a
server that shut down or restarted has closed the socket (after a last "terminating connection"
message), which makes it readable, while a healthy idle connection has nothing to read. Such a
connection is closed, and the request opens a fresh one.
"""

from __future__ import annotations

import logging
import select
import sys

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.views import defaults

logger = logging.getLogger("porta.database")

#: Seconds a client is told to wait before retrying while the database is unavailable.
RETRY_AFTER_SECONDS = 5
MESSAGE = "The database is unavailable; try again shortly"


def is_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, OperationalError | InterfaceError)


def one_line(exc: BaseException) -> str:
    """The error's message on one line (psycopg's connection errors span several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def log_unavailable(request: HttpRequest | None, exc: BaseException) -> None:
    """One line per failed request: where, the request id, and what the driver said."""
    from porta.core.context import current_request_context

    where = f"{request.method} {request.path}" if request is not None else "-"
    logger.error(
        "Database unavailable, answered 503 (%s, request %s): %s: %s",
        where,
        current_request_context().request_id or "-",
        type(exc).__name__,
        one_line(exc),
    )


def retry_after_headers() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}


def unavailable_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """The 503 for a request outside DRF (the token endpoints, pages, middleware failures)."""
    from porta.api.errors import error_response
    from porta.api.middleware import is_api_path, json_response

    log_unavailable(request, exc)
    headers = {**retry_after_headers(), "Cache-Control": "no-store"}
    path = request.path
    if "/auth/" in path and not is_api_path(path):
        body = {"error": "temporarily_unavailable", "error_description": MESSAGE}
        response = json_response(body, status=503, headers=headers)
    elif is_api_path(path) or path.startswith("/health/"):
        response = error_response(503, MESSAGE, headers=headers)
    else:
        response = HttpResponse(MESSAGE + "\n", status=503, content_type="text/plain; charset=utf-8")
        for name, value in headers.items():
            response[name] = value
    response._has_been_logged = True  # one line above; Django must not log it again with a traceback
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: what no view or middleware handled. A database outage is a 503 (see
    above); anything else is Django's own 500, rewritten to the contract's shape under /api/."""
    exc = sys.exc_info()[1]
    if is_unavailable(exc):
        return unavailable_response(request, exc)
    return defaults.server_error(request)


def _socket_says_closed(raw_connection) -> bool:
    """Whether an idle connection's socket is readable (EOF or a goodbye message) or unusable.
    ``poll`` rather than ``select``, which fails on descriptors above 1023."""
    try:
        if raw_connection.closed:
            return True
        poller = select.poll()
        poller.register(raw_connection.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except Exception:  # noqa: BLE001 - any doubt about the socket means reconnect
        return True


def drop_dead_connections(**_: object) -> None:
    """``request_started`` receiver: close persistent PostgreSQL connections the server has
    closed, so the request reconnects instead of failing on a dead socket."""
    for connection in connections.all(initialized_only=True):
        raw = connection.connection
        if raw is None or connection.vendor != "postgresql" or connection.in_atomic_block:
            continue
        if _socket_says_closed(raw):
            logger.info("Dropping a closed database connection (%s); reconnecting", connection.alias)
            connection.close()
