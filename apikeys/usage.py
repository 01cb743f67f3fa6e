"""``lastUsedAt`` without a database write per request.

Each use is noted in one Redis hash (key id → epoch seconds), at most once per key per process
every ``PORTA_API_KEY_LAST_USED_RESOLUTION`` seconds, so the hot path usually pays nothing at
all. ``flush`` (a Celery beat task, every minute) moves the hash to the database atomically;
reads through the API show the later of the stored value and the pending one, so a key's
``lastUsedAt`` is never more than the resolution behind. Without Redis (embedded default, one
process) the pending uses live in the process.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
import uuid
from collections.abc import Iterable

import redis as redis_lib
from django.conf import settings

from porta.core.redis import get_redis

logger = logging.getLogger("porta.apikeys")

PENDING_KEY = "porta:apikeys:last_used"

_noted: dict[uuid.UUID, float] = {}  # key id → monotonic time this process last noted a use
_local_pending: dict[str, float] = {}
_lock = threading.Lock()


def forget() -> None:
    """Drop this process's notes (tests)."""
    with _lock:
        _noted.clear()
        _local_pending.clear()


def note_use(key_id: uuid.UUID) -> None:
    now = time.monotonic()
    last = _noted.get(key_id)
    if last is not None and now - last < settings.PORTA_API_KEY_LAST_USED_RESOLUTION:
        return
    _noted[key_id] = now
    client = get_redis()
    if client is None:
        _local_pending[str(key_id)] = time.time()
        return
    try:
        client.hset(PENDING_KEY, str(key_id), repr(time.time()))
    except redis_lib.RedisError as exc:  # a lost timestamp is not worth failing a request
        logger.warning("Cannot note API key use in Redis: %s", exc)


def _to_datetime(epoch: float | bytes | str) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(float(epoch), tz=datetime.UTC)


def pending(key_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, datetime.datetime]:
    """Uses noted but not yet flushed, for the given keys."""
    ids = [str(key_id) for key_id in key_ids]
    if not ids:
        return {}
    client = get_redis()
    if client is None:
        values = [_local_pending.get(key_id) for key_id in ids]
    else:
        try:
            values = client.hmget(PENDING_KEY, ids)
        except redis_lib.RedisError as exc:
            logger.warning("Cannot read pending API key uses from Redis: %s", exc)
            return {}
    return {
        uuid.UUID(key_id): _to_datetime(v) for key_id, v in zip(ids, values, strict=True) if v is not None
    }


def take_pending() -> dict[uuid.UUID, datetime.datetime]:
    """Every pending use, removed from the store in one atomic step (MULTI: HGETALL + DEL), so
    a use noted while a flush runs is kept for the next one."""
    client = get_redis()
    if client is None:
        with _lock:
            taken = dict(_local_pending)
            _local_pending.clear()
        return {uuid.UUID(k): _to_datetime(v) for k, v in taken.items()}
    pipe = client.pipeline(transaction=True)
    pipe.hgetall(PENDING_KEY)
    pipe.delete(PENDING_KEY)
    values, _ = pipe.execute()
    return {uuid.UUID(k.decode()): _to_datetime(v) for k, v in values.items()}
