"""Version stamps: every process keeps hot data (signing keys, admin principals) in memory and
still sees a change made by any process on its very next request.

A writer bumps a stamp; a reader fetches all the stamps it needs in one Redis MGET and trusts
its in-memory copy only while the stamp it was built under is unchanged. Without Redis
(embedded default, one process) stamps live in the process. If Redis cannot be reached, ``read``
answers None and callers go to the database instead of trusting a cache.

Redis may lose its data (FLUSHALL, a restart without persistence, eviction): a lost stamp must
never make an old copy look current. So stamps are random tokens rather than counters (a stamp
recreated after a loss is one no process has seen), and every stamp a process reads carries its
*outage epoch*, which goes up each time this process fails to reach Redis: a copy cached before
an outage the process noticed never matches a stamp read after it, even if Redis kept its data
and the bump of a change made during the outage was lost. Revocations do not rest on stamps at
all: authentication reads them from PostgreSQL on every request (authn.authentication).

Round trips: a hot path that needs a stamp late in a request (issued API key verification, after
authentication has read its own stamps) registers it with :func:`read_along`; the first read of
each HTTP request then fetches it in the same MGET and keeps it for the rest of that request
(``porta.core.context``), so the hot path pays no round trip of its own. A bump drops the kept
value. Outside a request (tasks, commands) every read goes to Redis.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid

import redis as redis_lib

from porta.core.context import request_stamps
from porta.core.redis import get_redis

logger = logging.getLogger("porta.versions")

KEYS = "keys"
PRINCIPALS = "principals"
#: Bumped by every session revocation (oidc.session_services).
SESSIONS = "sessions"

_local: dict[str, str] = {}
_epochs = itertools.count(1)
_epoch = 0
#: After a failure, reads skip Redis for this long (callers go to the database), so an outage
#: costs neither a connect timeout nor a log line on every request.
RETRY_AFTER = 1.0
_down_until = 0.0
#: Bumps that could not reach Redis: sent again before this process's next successful read, so
#: a bump lost while Redis hung still reaches the processes that never noticed the outage.
_unsent: set[str] = set()


def _key(name: str) -> str:
    return f"porta:ver:{name}"


def _redis_failed() -> None:
    global _epoch, _down_until
    _epoch = next(_epochs)
    _down_until = time.monotonic() + RETRY_AFTER


#: Stamps fetched along with the first read of every HTTP request (see the module docstring).
_read_along: tuple[str, ...] = ()


def read_along(name: str) -> None:
    """Fetch ``name`` with the first stamp read of every HTTP request and keep it for the rest of
    that request."""
    global _read_along
    if name not in _read_along:
        _read_along = (*_read_along, name)


def read(*names: str) -> tuple[str | None, ...]:
    kept = request_stamps()
    if kept is None:
        return _fetch(names)
    if all(name in kept for name in names):
        return tuple(kept[name] for name in names)
    fetched = names + tuple(name for name in _read_along if name not in names and name not in kept)
    stamps = _fetch(fetched)
    for name, stamp in zip(fetched, stamps, strict=True):
        if name in _read_along:
            kept[name] = stamp
    return stamps[: len(names)]


def _fetch(names: tuple[str, ...]) -> tuple[str | None, ...]:
    client = get_redis()
    if client is None:
        return tuple(_local.setdefault(name, uuid.uuid4().hex) for name in names)
    if time.monotonic() < _down_until:
        return (None,) * len(names)
    try:
        if _unsent:
            _resend(client)
        values = client.mget([_key(name) for name in names])
        stamps = []
        for name, value in zip(names, values, strict=True):
            if value is None:  # first use, or Redis lost its data: start a new epoch
                client.set(_key(name), uuid.uuid4().hex, nx=True)
                value = client.get(_key(name))
            stamps.append(f"{value.decode()}.{_epoch}" if value is not None else None)
        return tuple(stamps)
    except redis_lib.RedisError as exc:
        _redis_failed()
        logger.warning("Cannot read version stamps from Redis, bypassing caches: %s", exc)
        return (None,) * len(names)


def _resend(client: redis_lib.Redis) -> None:
    pipeline = client.pipeline(transaction=False)
    pending = tuple(_unsent)
    for name in pending:
        pipeline.set(_key(name), uuid.uuid4().hex)
    pipeline.execute()
    _unsent.difference_update(pending)


def bump(name: str) -> None:
    """Invalidate every process's copy of ``name``."""
    _local[name] = uuid.uuid4().hex
    kept = request_stamps()
    if kept is not None:
        kept.pop(name, None)
    client = get_redis()
    if client is None:
        return
    try:
        client.set(_key(name), uuid.uuid4().hex)
        _unsent.discard(name)
    except redis_lib.RedisError as exc:
        _unsent.add(name)
        # Other processes read None while Redis is down and bypass their caches; cached copies
        # also expire after a short maximum age, which bounds staleness if Redis comes back.
        # Bumps are always attempted, but logged once per back-off window, not once per write.
        if time.monotonic() >= _down_until:
            logger.warning("Cannot bump version stamp %s in Redis: %s", name, exc)
        _redis_failed()
