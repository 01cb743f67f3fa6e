"""Wiring-level endpoints: admin metadata, health and readiness."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from applications.models import Client
from oidc.issuers import issuer_for
from organizations.models import Organization
from porta import shutdown
from porta.api.database import one_line
from porta.api.errors import error_response
from porta.api.middleware import json_response
from porta.bootstrap import CLI_CLIENT_ID
from porta.core.redis import get_redis
from rbac.admin_roles import ADMIN_APP_SLUG

logger = logging.getLogger("porta.health")


@require_GET
def admin_metadata(request: HttpRequest) -> HttpResponse:
    """Where a CLI or GUI finds the admin issuer. Unauthenticated; 503 until porta_init has run."""
    organization = Organization.objects.filter(is_super_admin=True).only("slug").first()
    client = (
        Client.objects.filter(client_id=CLI_CLIENT_ID, application__slug=ADMIN_APP_SLUG)
        .only("client_id")
        .first()
        if organization
        else None
    )
    if organization is None or client is None:
        return error_response(503, "Porta is not initialized. Run: python manage.py porta_init")
    issuer = issuer_for(organization.slug)
    return json_response(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/auth/authorize",
            "token_endpoint": f"{issuer}/auth/token",
            "end_session_endpoint": f"{issuer}/auth/end-session",
            "jwks_uri": f"{issuer}/auth/jwks",
            "orgSlug": organization.slug,
            "clientId": client.client_id,
        }
    )


@require_GET
def alive(request: HttpRequest) -> HttpResponse:
    return json_response({"status": "ok"})


_migrations_ok = False


def _check_database() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


#: The embedded default runs without Redis (in-process cache, eager tasks): not a failure.
NOT_CONFIGURED = "not configured"


def _check_redis() -> str:
    if not settings.REDIS_URL:
        return NOT_CONFIGURED
    client = get_redis()
    client.ping()
    return "ok"


def _check_migrations() -> str:
    global _migrations_ok
    if _migrations_ok:  # once applied they stay applied for the life of the process
        return "ok"
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return "pending"
    _migrations_ok = True
    return "ok"


@require_GET
def ready(request: HttpRequest) -> HttpResponse:
    if shutdown.draining():  # at once, without touching a dependency: the balancer must stop now
        return json_response(
            {"status": "unavailable", "checks": {"server": "shutting down"}, "message": "Shutting down"},
            status=503,
        )
    checks: dict[str, str] = {}
    for name, check in (
        ("database", _check_database),
        ("redis", _check_redis),
        ("migrations", _check_migrations),
    ):
        try:
            checks[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure of a dependency is "not ready"
            logger.warning("Readiness check %s failed: %s", name, one_line(exc))
            checks[name] = "error"
    failing = [name for name, result in checks.items() if result not in {"ok", NOT_CONFIGURED}]
    if failing:
        return json_response(
            {"status": "unavailable", "checks": checks, "message": f"Failing checks: {', '.join(failing)}"},
            status=503,
        )
    return json_response({"status": "ok", "checks": checks})
