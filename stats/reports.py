"""What ``/stats`` answers: the numbers of a scope plus the system's health, cached briefly.

A report is kept in the cache for ``PORTA_STATS_CACHE_TTL`` seconds per scope (all
organizations, or one), so a dashboard polling every second costs one computation per period
whatever the number of viewers; each report says when it was computed (``generatedAt``).
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from porta.api.serializers import iso_ms
from porta.core.redis import get_redis
from stats import selectors, services

logger = logging.getLogger("porta.stats")

#: Deltas are folded every minute by the beat task; a read folds them itself when no fold has
#: happened for this long (a deployment running no beat), so the deltas it sums stay few.
FOLD_ON_READ_AFTER = 300


def _cache_key(scope: uuid.UUID | None) -> str:
    return f"stats:v1:{scope or 'overview'}"


def system_health() -> dict[str, str]:
    """Each dependency as the readiness probe names it: ``ok``, ``error`` or ``not configured``."""
    health = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        health["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure of the database is "error"
        logger.warning("Stats health check of the database failed: %s", exc)
        health["database"] = "error"
    client = get_redis()
    if client is None:
        health["redis"] = "not configured"
    else:
        try:
            client.ping()
            health["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure of Redis is "error"
            logger.warning("Stats health check of Redis failed: %s", exc)
            health["redis"] = "error"
    return health


def _fold_if_due() -> None:
    if cache.add("stats:v1:folded-recently", True, timeout=FOLD_ON_READ_AFTER):
        services.tallies_compact()


def _cached(scope: uuid.UUID | None, compute) -> dict:
    ttl = settings.PORTA_STATS_CACHE_TTL
    if ttl:
        report = cache.get(_cache_key(scope))
        if report is not None:
            return report
    _fold_if_due()
    now = timezone.now()
    report = {**compute(now), "generatedAt": iso_ms(now)}
    if ttl:
        cache.set(_cache_key(scope), report, timeout=ttl)
    return report


def overview() -> dict:
    return _cached(None, lambda now: {**selectors.overview_numbers(now), "systemHealth": system_health()})


def organization_report(organization_id: uuid.UUID) -> dict:
    return _cached(
        organization_id,
        lambda now: {
            "organizationId": str(organization_id),
            **selectors.organization_numbers(organization_id, now),
        },
    )
