"""One Redis connection pool per process for the things that need Redis itself, not the cache API
(rate-limit counters, readiness). ``None`` when Porta runs without Redis (embedded default)."""

from __future__ import annotations

import redis as redis_lib
from django.conf import settings
from django.core.signals import setting_changed

_client: redis_lib.Redis | None = None
_client_url: str | None = None


def get_redis() -> redis_lib.Redis | None:
    global _client, _client_url
    url = settings.REDIS_URL
    if not url:
        return None
    if _client is None or _client_url != url:
        _client = redis_lib.Redis.from_url(
            url, socket_connect_timeout=0.25, socket_timeout=0.25, health_check_interval=30
        )
        _client_url = url
    return _client


def _reset(**kwargs) -> None:
    global _client
    if kwargs.get("setting") == "REDIS_URL":
        _client = None


setting_changed.connect(_reset)
