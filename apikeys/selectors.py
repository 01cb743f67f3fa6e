"""Reads of admin API keys, including the per-request lookup of a presented secret.

The lookup is on the hottest path of the API, so the key's row and the admin permissions of its
roles are kept per process behind two version stamps: API_KEYS (bumped by every revoke, so a
revoked key fails in every process on its very next request) and PRINCIPALS (bumped by every
role or permission change). Entries also expire after a short maximum age, which bounds
staleness should a bump ever be lost. Raw secrets are never kept: entries are keyed by hash.
"""

from __future__ import annotations

import datetime
import threading
import time
import uuid
from dataclasses import dataclass

from django.db.models import QuerySet

from apikeys.models import PREFIXES, AdminApiKey
from porta.core.tokens import keyed_hash
from rbac.grants import admin_permissions_of_roles

#: The version stamp revocations bump (porta.core.versions takes any name).
API_KEYS_STAMP = "api_keys"
LOOKUP_MAX_AGE = 30.0
_LOOKUP_CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class ActiveKey:
    """What authentication needs to know about a key that is not revoked."""

    id: uuid.UUID
    name: str
    organization_id: uuid.UUID | None
    roles: frozenset[str]
    permissions: frozenset[str]  # what its roles grant now, before the creator's cap
    expires_at: datetime.datetime | None
    created_by_id: uuid.UUID | None

    def expired(self, now: datetime.datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


_lookups: dict[str, tuple[tuple[str | None, ...], float, ActiveKey]] = {}
_lookups_lock = threading.Lock()


def forget_lookups() -> None:
    """Drop this process's cached keys (tests; other processes follow the stamp)."""
    with _lookups_lock:
        _lookups.clear()


def api_keys() -> QuerySet[AdminApiKey]:
    """Every field the API shows is on the row itself (the creator by id): no join needed."""
    return AdminApiKey.objects.all()


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(tuple(f"{prefix}_" for prefix in PREFIXES))


def active_key_uncached(secret_hash: str) -> ActiveKey | None:
    """One query on the unique index of ``secret_hash``."""
    rows = AdminApiKey.objects.filter(secret_hash=secret_hash, revoked_at__isnull=True).values_list(
        "id", "name", "organization_id", "roles", "expires_at", "created_by_id"
    )
    row = next(iter(rows[:1]), None)  # [:1] rather than first(): a lookup by key needs no ORDER BY
    if row is None:
        return None
    key_id, name, organization_id, roles, expires_at, created_by_id = row
    return ActiveKey(
        id=key_id,
        name=name,
        organization_id=organization_id,
        roles=frozenset(roles),
        permissions=admin_permissions_of_roles(roles),
        expires_at=expires_at,
        created_by_id=created_by_id,
    )


def active_key(secret: str, stamps: tuple[str | None, ...]) -> ActiveKey | None:
    """The non-revoked key ``secret`` names (expiry is the caller's check), or None.

    ``stamps`` are the API_KEYS and PRINCIPALS stamps read by the caller in its one MGET; with
    any of them unreadable (Redis down) the database is asked every time. Unknown secrets are
    not cached, so nobody can fill the cache with guesses.
    """
    secret_hash = keyed_hash(secret)
    cacheable = None not in stamps
    if cacheable:
        cached = _lookups.get(secret_hash)
        if cached is not None and cached[0] == stamps and time.monotonic() - cached[1] < LOOKUP_MAX_AGE:
            return cached[2]
    key = active_key_uncached(secret_hash)
    if key is not None and cacheable:
        with _lookups_lock:
            if len(_lookups) >= _LOOKUP_CACHE_SIZE:
                _lookups.clear()
            _lookups[secret_hash] = (stamps, time.monotonic(), key)
    return key
