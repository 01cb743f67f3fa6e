"""The session revocation list: which sessions' access tokens must stop working before they expire.

Access tokens are self-contained JWTs, so revoking a session needs a list every process checks on
every request. The list lives in Redis as one key per revoked session, ``porta:revoked-sid:<id>``,
expiring when the last access token of that session has expired (so it never grows beyond the
revocations of the last access-token lifetime).

The hot path adds no Redis round trip in the steady state. Each revocation also bumps the
``revoked-sessions`` version stamp, which the authentication module reads in the MGET it already
makes for the key and principal stamps. Every process remembers the answers it got for session ids
under the stamp it read; a sid it has seen costs a dict lookup, a sid it has not seen since the
last revocation anywhere costs one ``EXISTS``.

Failure policy (fail closed for writes, fail safe for reads):

* A revocation that cannot reach Redis raises ``RevocationUnavailable`` inside the service's
  transaction, so nothing is revoked and the caller gets 503 and can retry: an acknowledged
  revocation is never missing from the list.
* A reader that cannot reach Redis (stamp ``None``) asks the database (``Session.revoked_at``,
  one primary-key query) instead of trusting its memory. Without Redis at all (the embedded
  single-process default) the database is the list.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Iterable

import redis as redis_lib
from django.conf import settings
from django.utils import timezone

from keys.tokens import LEEWAY_SECONDS
from porta import versions
from porta.redis import get_redis

logger = logging.getLogger("porta.revocation")

#: Version stamp bumped by every revocation (read with the other stamps on each request).
REVOCATIONS = "revoked-sessions"
#: Bounds how long a remembered "not revoked" survives should a stamp bump ever be lost.
MAX_AGE = 30.0
_CACHE_SIZE = 50_000

_lock = threading.Lock()
_stamp: str | None = None
_known: dict[str, tuple[bool, float]] = {}


class RevocationUnavailable(Exception):
    """The revocation list could not be written; the revocation must not be acknowledged."""


def _key(sid: str) -> str:
    return f"porta:revoked-sid:{sid}"


def entry_ttl(expires_at: datetime.datetime, now: datetime.datetime | None = None) -> int:
    """Seconds a revoked session's entry must live: until its last access token has expired.

    Access tokens never outlive their session (the issuer caps their ``exp``), so that is the
    access-token TTL or the session's remaining lifetime, whichever ends first, plus the
    verifier's leeway and a margin for clock skew between processes."""
    remaining = max(0, int((expires_at - (now or timezone.now())).total_seconds()))
    return min(settings.PORTA_ACCESS_TOKEN_TTL, remaining) + LEEWAY_SECONDS + 5


def revoke_sessions(ids_with_expiry: Iterable[tuple[object, datetime.datetime]]) -> None:
    """Put sessions on the revocation list. Called by the services inside the transaction that
    sets ``revoked_at``, so a failure here rolls the revocation back (RevocationUnavailable).

    Written at once rather than on commit: the next request, even one racing the commit, must
    already be refused. A transaction that rolls back after this leaves entries that refuse a
    still-active session's access tokens until they expire: the safe direction."""
    now = timezone.now()
    entries = [(str(sid), entry_ttl(expires_at, now)) for sid, expires_at in ids_with_expiry]
    if not entries:
        return
    client = get_redis()
    if client is not None:
        try:
            pipe = client.pipeline(transaction=False)
            for sid, ttl in entries:
                pipe.set(_key(sid), b"1", ex=ttl)
            pipe.execute()
        except redis_lib.RedisError as exc:
            logger.error("Cannot write the session revocation list: %s", exc)
            raise RevocationUnavailable("The session revocation list is unavailable; try again") from exc
    versions.bump(REVOCATIONS)  # after the entries, so no process can re-cache "not revoked"
    with _lock:
        for sid, _ttl in entries:
            _known.pop(sid, None)


def _database_says_revoked(sid: str) -> bool:
    from oidc.models import Session

    return Session.objects.filter(pk=sid, revoked_at__isnull=False).exists()


def is_session_revoked(sid: str, stamp: str | None) -> bool:
    """Whether ``sid`` is revoked. ``stamp`` is the REVOCATIONS version stamp the caller read
    (``None`` when Redis could not be reached: then the database answers)."""
    global _stamp
    client = get_redis()
    if client is None or stamp is None:
        return _database_says_revoked(sid)
    now = time.monotonic()
    if stamp == _stamp:
        known = _known.get(sid)
        if known is not None and (known[0] or now - known[1] < MAX_AGE):
            return known[0]
    try:
        revoked = bool(client.exists(_key(sid)))
    except redis_lib.RedisError as exc:
        logger.warning("Cannot read the session revocation list, asking the database: %s", exc)
        return _database_says_revoked(sid)
    with _lock:
        if stamp != _stamp:
            _known.clear()
            _stamp = stamp
        elif len(_known) >= _CACHE_SIZE:
            _known.clear()
        _known[sid] = (revoked, now)
    return revoked


def forget() -> None:
    """Drop this process's remembered answers (tests; other processes follow the stamp)."""
    global _stamp
    with _lock:
        _known.clear()
        _stamp = None
