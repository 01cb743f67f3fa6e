"""``lastUsedAt`` of credentials without a database write per use.

Each use is noted in one Redis hash (credential id → epoch seconds), at most once per credential
per process every ``resolution`` seconds, so a hot path usually pays a dictionary lookup and
nothing more. A Celery beat task takes the hash (atomically) and writes the values to the
database; reads through the API show the later of the stored value and the pending one, so a
``lastUsedAt`` is never more than the resolution behind. Without Redis (embedded default, one
process) the pending uses live in the process. Admin API keys and issued API keys each keep
their own notes.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable

import redis as redis_lib

from porta.core.redis import get_redis

logger = logging.getLogger("porta.usage")


def _to_datetime(epoch: float | bytes | str) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(float(epoch), tz=datetime.UTC)


class UsageNotes:
    """The pending uses of one kind of credential, under the Redis hash ``redis_key``."""

    def __init__(self, redis_key: str, *, resolution: Callable[[], float]):
        self.redis_key = redis_key
        self._resolution = resolution
        self._noted: dict[uuid.UUID, float] = {}  # id → monotonic time this process last noted a use
        self._local_pending: dict[str, float] = {}
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Drop this process's notes (tests)."""
        with self._lock:
            self._noted.clear()
            self._local_pending.clear()

    def note_use(self, credential_id: uuid.UUID) -> None:
        now = time.monotonic()
        last = self._noted.get(credential_id)
        if last is not None and now - last < self._resolution():
            return
        self._noted[credential_id] = now
        client = get_redis()
        if client is None:
            self._local_pending[str(credential_id)] = time.time()
            return
        try:
            client.hset(self.redis_key, str(credential_id), repr(time.time()))
        except redis_lib.RedisError as exc:  # a lost timestamp is not worth failing a request
            logger.warning("Cannot note a credential's use in Redis: %s", exc)

    def pending(self, credential_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, datetime.datetime]:
        """Uses noted but not yet flushed, for the given credentials."""
        ids = [str(credential_id) for credential_id in credential_ids]
        if not ids:
            return {}
        client = get_redis()
        if client is None:
            values = [self._local_pending.get(credential_id) for credential_id in ids]
        else:
            try:
                values = client.hmget(self.redis_key, ids)
            except redis_lib.RedisError as exc:
                logger.warning("Cannot read pending credential uses from Redis: %s", exc)
                return {}
        return {
            uuid.UUID(credential_id): _to_datetime(value)
            for credential_id, value in zip(ids, values, strict=True)
            if value is not None
        }

    def take_pending(self) -> dict[uuid.UUID, datetime.datetime]:
        """Every pending use, removed from the store in one atomic step (MULTI: HGETALL + DEL),
        so a use noted while a flush runs is kept for the next one."""
        client = get_redis()
        if client is None:
            with self._lock:
                taken = dict(self._local_pending)
                self._local_pending.clear()
            return {uuid.UUID(k): _to_datetime(v) for k, v in taken.items()}
        pipe = client.pipeline(transaction=True)
        pipe.hgetall(self.redis_key)
        pipe.delete(self.redis_key)
        values, _ = pipe.execute()
        return {uuid.UUID(k.decode()): _to_datetime(v) for k, v in values.items()}

    def restore(self, uses: dict[uuid.UUID, datetime.datetime]) -> None:
        """Put back uses a failed flush took, unless a later use was noted meanwhile."""
        if not uses:
            return
        client = get_redis()
        if client is None:
            with self._lock:
                for credential_id, used_at in uses.items():
                    self._local_pending.setdefault(str(credential_id), used_at.timestamp())
            return
        try:
            pipe = client.pipeline(transaction=False)
            for credential_id, used_at in uses.items():
                pipe.hsetnx(self.redis_key, str(credential_id), repr(used_at.timestamp()))
            pipe.execute()
        except redis_lib.RedisError as exc:
            logger.warning("Cannot put pending credential uses back into Redis: %s", exc)
