"""Fixed-window counters shared by every process through Redis (in-process without Redis).

If Redis cannot be reached the limiter fails open: the request goes through, the failure is
logged and counted, and Redis is not retried for a second so an outage costs no latency.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import redis as redis_lib

from porta.core.metrics import RATE_LIMIT_BACKEND_ERRORS
from porta.core.redis import get_redis

logger = logging.getLogger("porta.ratelimit")

# INCR and set the expiry on the first hit of a window, atomically; return the count and TTL.
_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the window ends

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


_local_lock = threading.Lock()
_local_windows: dict[str, tuple[int, float]] = {}
_redis_down_until = 0.0


def _local_hit(key: str, window: int) -> tuple[int, int]:
    now = time.monotonic()
    with _local_lock:
        count, expires = _local_windows.get(key, (0, 0.0))
        if expires <= now:
            count, expires = 0, now + window
        count += 1
        _local_windows[key] = (count, expires)
        if len(_local_windows) > 100_000:
            for stale in [k for k, (_, exp) in _local_windows.items() if exp <= now]:
                del _local_windows[stale]
    return count, max(1, int(expires - now + 0.999))


def hit(key: str, *, limit: int, window: int) -> Decision:
    """Count one event against ``key`` and say whether it is within ``limit`` per ``window`` s."""
    global _redis_down_until
    client = get_redis()
    if client is None:
        count, ttl = _local_hit(key, window)
    else:
        if time.monotonic() < _redis_down_until:
            RATE_LIMIT_BACKEND_ERRORS.inc()  # still failing open, without another connect attempt
            return Decision(True, limit, limit, window)
        try:
            count, ttl = client.eval(_HIT_SCRIPT, 1, f"porta:rl:{key}", window)
            count, ttl = int(count), int(ttl)
        except redis_lib.RedisError as exc:
            _redis_down_until = time.monotonic() + 1.0
            RATE_LIMIT_BACKEND_ERRORS.inc()
            logger.warning("Rate limiter cannot reach Redis, failing open: %s", exc)
            return Decision(True, limit, limit, window)
    return Decision(count <= limit, limit, max(0, limit - count), max(1, ttl))


def peek_failures(key: str) -> int:
    """How many events ``key`` has in its current window (0 when unknown or Redis is down)."""
    client = get_redis()
    if client is None:
        count, expires = _local_windows.get(key, (0, 0.0))
        return count if expires > time.monotonic() else 0
    try:
        value = client.get(f"porta:rl:{key}")
    except redis_lib.RedisError:
        return 0
    return int(value or 0)


def clear(key: str) -> None:
    client = get_redis()
    if client is None:
        with _local_lock:
            _local_windows.pop(key, None)
        return
    try:
        client.delete(f"porta:rl:{key}")
    except redis_lib.RedisError:
        RATE_LIMIT_BACKEND_ERRORS.inc()
