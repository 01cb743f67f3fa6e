"""Verifying an issued API key: the hot path behind ``POST /api/admin/api-keys/verify``.

Cost of one verification:

1. ``credentials.parse`` judges the string alone: malformed → ``INVALID_FORMAT``; a checksum no
   configured pepper made (tampered, made up, another installation's) → ``NOT_FOUND``. No cache,
   Redis or database access happens for these.
2. One Redis MGET of the ``issued_api_keys`` version stamp. The key's row (never its secret, only
   the keyed hash) is kept per process, by key id, for as long as that stamp is unchanged and at
   most ``PORTA_ISSUED_KEY_CACHE_SECONDS``: after a key's first verification, verifying it again
   in the same process costs no database query.
3. A constant-time comparison of the credential's keyed hash with the stored one, then the
   organization scope, revocation and expiry (checked against the clock on every call).

Freshness: every write that changes what verification answers (revoke, rotate, PATCH, delete)
calls :func:`keys_changed`, which bumps the stamp at once and again on commit, so every process
drops its copies before its next verification: **a revoked key fails at once, everywhere**. A
Redis flush loses the stamp, and a new random one is created on the next read, which no process
has seen, so every copy is dropped then too; with Redis unreachable each verification reads the
database. The one case a stamp cannot cover (a bump lost while the writer alone could not reach
Redis) is bounded by the maximum age: a revocation is then effective within
``PORTA_ISSUED_KEY_CACHE_SECONDS`` (5 s by default). Expiry needs no invalidation.

``lastUsedAt`` is noted per key at most once per process every
``PORTA_ISSUED_KEY_LAST_USED_RESOLUTION`` seconds (porta.core.usage) and written to the
database in batches by a Celery beat task (``issuedkeys.tasks``), never once per verification.
"""

from __future__ import annotations

import datetime
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from issuedkeys import credentials, usage
from issuedkeys.credentials import INVALID_FORMAT, NOT_FOUND, CredentialError, ParsedCredential
from issuedkeys.models import IssuedApiKey
from porta.core import versions

#: The version stamp every change to an issued key bumps.
STAMP = "issued_api_keys"
EXPIRED = "EXPIRED"
REVOKED = "REVOKED"
ERROR_CODES = (NOT_FOUND, EXPIRED, REVOKED, INVALID_FORMAT)
#: Keys kept per process (each holds its metadata, ≤ 4 KB); a full cache starts over.
_CACHE_SIZE = 10_000
_FIELDS = ("id", "organization_id", "actor_id", "scopes", "metadata", "status", "expires_at", "secret_hash")


@dataclass(frozen=True, slots=True)
class KeySnapshot:
    """What verification needs of a key's row; shared between requests, so never mutated."""

    id: uuid.UUID
    organization_id: uuid.UUID
    actor_id: str | None
    scopes: tuple[str, ...]
    metadata: dict[str, Any]
    revoked: bool
    expires_at: datetime.datetime | None
    secret_hash: str


@dataclass(frozen=True, slots=True)
class Verification:
    """The answer for one credential. ``key`` is set only when the caller proved possession of
    a key it may see (valid, expired or revoked); never for ``NOT_FOUND``/``INVALID_FORMAT``."""

    is_valid: bool
    error_code: str | None = None
    key: KeySnapshot | None = None


# Authentication reads its stamps first in every request; this one comes along in the same MGET.
versions.read_along(STAMP)

_NOT_FOUND = Verification(is_valid=False, error_code=NOT_FOUND)
_INVALID_FORMAT = Verification(is_valid=False, error_code=INVALID_FORMAT)

#: key id → (stamp it was read under, monotonic time read, snapshot or None for "no such row")
_cache: dict[uuid.UUID, tuple[str, float, KeySnapshot | None]] = {}
_cache_lock = threading.Lock()


def forget() -> None:
    """Drop this process's cached keys (tests; other processes follow the stamp)."""
    with _cache_lock:
        _cache.clear()


def keys_changed() -> None:
    """Call inside the transaction of any write that changes a key's verification answer.

    Bumped now and again once committed: a process that re-read the row in between (and saw the
    old state) would otherwise keep that copy under the new stamp."""
    versions.bump(STAMP)
    transaction.on_commit(lambda: versions.bump(STAMP))


def _snapshot(row: tuple) -> KeySnapshot:
    key_id, organization_id, actor_id, scopes, metadata, status, expires_at, secret_hash = row
    return KeySnapshot(
        id=key_id,
        organization_id=organization_id,
        actor_id=actor_id,
        scopes=tuple(scopes or ()),
        metadata=metadata or {},
        revoked=status != IssuedApiKey.Status.ACTIVE,
        expires_at=expires_at,
        secret_hash=secret_hash,
    )


def _fetch(key_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, KeySnapshot]:
    """One query on the primary key, however many keys."""
    rows = IssuedApiKey.objects.filter(pk__in=key_ids).values_list(*_FIELDS)
    if len(key_ids) == 1:
        rows = rows[:1]  # a lookup by key needs no ORDER BY
    return {row[0]: _snapshot(row) for row in rows}


def _snapshots(key_ids: Sequence[uuid.UUID], stamp: str | None) -> dict[uuid.UUID, KeySnapshot | None]:
    """The snapshot of each key (None: no such row), from this process's cache where it is
    current, the rest from the database in one query."""
    found: dict[uuid.UUID, KeySnapshot | None] = {}
    missing: list[uuid.UUID] = []
    now = time.monotonic()
    max_age = settings.PORTA_ISSUED_KEY_CACHE_SECONDS
    for key_id in key_ids:
        cached = _cache.get(key_id) if stamp is not None else None
        if cached is not None and cached[0] == stamp and now - cached[1] < max_age:
            found[key_id] = cached[2]
        else:
            missing.append(key_id)
    if missing:
        fetched = _fetch(missing)
        with _cache_lock:
            if stamp is not None and len(_cache) + len(missing) > _CACHE_SIZE:
                _cache.clear()
            for key_id in missing:
                snapshot = fetched.get(key_id)
                found[key_id] = snapshot
                if stamp is not None:
                    _cache[key_id] = (stamp, now, snapshot)
    return found


def _judge(
    parsed: ParsedCredential,
    snapshot: KeySnapshot | None,
    *,
    organization_id: uuid.UUID | None,
    now: datetime.datetime,
) -> Verification:
    if snapshot is None or not parsed.matches(snapshot.secret_hash):
        return _NOT_FOUND
    if organization_id is not None and snapshot.organization_id != organization_id:
        return _NOT_FOUND  # another tenant's key: indistinguishable from an unknown one
    if snapshot.revoked:
        return Verification(is_valid=False, error_code=REVOKED, key=snapshot)
    if snapshot.expires_at is not None and snapshot.expires_at <= now:
        return Verification(is_valid=False, error_code=EXPIRED, key=snapshot)
    usage.note_use(snapshot.id)
    return Verification(is_valid=True, key=snapshot)


def verify_many(
    presented: Sequence[object], *, organization_id: uuid.UUID | None = None
) -> list[Verification]:
    """One answer per credential, in order. ``organization_id``: the caller's scope (None: any
    organization); a key of another organization answers ``NOT_FOUND``. One stamp read and at
    most one database query for the whole batch."""
    parsed: list[ParsedCredential | Verification] = []
    for credential in presented:
        try:
            parsed.append(credentials.parse(credential))
        except CredentialError as exc:
            parsed.append(_INVALID_FORMAT if exc.code == INVALID_FORMAT else _NOT_FOUND)
    key_ids = list(dict.fromkeys(p.key_id for p in parsed if isinstance(p, ParsedCredential)))
    if not key_ids:
        return parsed  # type: ignore[return-value]  # every item is already an answer
    (stamp,) = versions.read(STAMP)
    snapshots = _snapshots(key_ids, stamp)
    now = timezone.now()
    return [
        _judge(p, snapshots[p.key_id], organization_id=organization_id, now=now)
        if isinstance(p, ParsedCredential)
        else p
        for p in parsed
    ]


def verify(credential: object, *, organization_id: uuid.UUID | None = None) -> Verification:
    return verify_many([credential], organization_id=organization_id)[0]


def possessed_key(credential: object) -> IssuedApiKey | None:
    """The key row ``credential`` proves possession of (any status), read fresh from the
    database, or None: for self-revocation, which must not trust a cache."""
    try:
        parsed = credentials.parse(credential)
    except CredentialError:
        return None
    row = next(iter(IssuedApiKey.objects.filter(pk=parsed.key_id)[:1]), None)
    if row is None or not parsed.matches(row.secret_hash):
        return None
    return row
