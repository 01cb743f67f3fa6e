"""The one authentication module for the admin API: ``Authorization: Bearer <access token>``.

JWTs are verified with PyJWT directly over our own ``kid``-aware keyring (keys.tokens), not
djangorestframework-simplejwt: simplejwt holds a single signing key and cannot rotate keys by
``kid``, and its token model does not fit Porta's per-organization issuers.

Per request this costs one Redis MGET of version stamps, one signature check (skipped for a token
this process already verified under the same keys) and, unless this process holds a current copy
of its answer (below), one primary-key query to PostgreSQL for everything a credential can lose:
the user's and the organization's standing, and whether the token's session and signing key (or
the API key) are revoked. The admin roles and permissions (a five-table join) are cached per
process and dropped as soon as any process changes a role, a permission or an assignment
(porta.invalidation bumps the PRINCIPALS stamp).

What that query reads is cached the same way, per process, under the stamps the check reads in
its one MGET anyway: for an admin API key its creator's standing and its revocation (API_KEYS,
bumped by every key revocation; PRINCIPALS, bumped by every change to a user or an
organization), for a JWT the user's standing, the session's and the signing key's revocation
(SESSIONS, bumped by every session revocation; PRINCIPALS; KEYS, bumped by every signing-key
change). So a caller pays no database query per request (issued-key verification is the hot
path). Only accepted credentials are kept, and a copy is trusted only under exactly the stamps
it was read under and for at most ``STANDING_MAX_AGE`` seconds: a revocation or suspension made
through Porta in any process takes effect on the next request; nothing Redis loses brings a
revoked credential back (a flush or a restart leaves no stamp a copy was read under, an
unreachable Redis gives no stamps and the database is read every time, a bump lost while Redis
hung is sent again by its writer once Redis answers); and a change made behind Porta's back
(SQL, no bump) or a bump whose writer died before it could resend it takes effect within the
maximum age.

Admin API keys (``porta_pat_…``, ``porta_wak_…``) are told apart from JWTs by their prefix and
take the same path from there: see ``principal_from_api_key``.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid

import jwt
from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from apikeys import selectors as api_key_selectors
from apikeys import usage as api_key_usage
from apikeys.models import AdminApiKey
from keys.keyring import keyring
from keys.models import SigningKey, SigningKeyStatus
from keys.tokens import TokenInvalid, verify_access_token
from oidc.issuers import ADMIN_API_AUDIENCE_PATH, issuer_for
from oidc.models import Session
from organizations.selectors import UserStanding, standing_from_row, standing_sql
from porta.api.principal import Principal
from porta.core import versions
from porta.core.ids import parse_uuid
from rbac.admin_roles import SUPER_ADMIN_ROLES
from rbac.selectors import AdminAuthorization, admin_authorization

logger = logging.getLogger("porta.auth")

AUTHORIZATION_MAX_AGE = 30.0  # bounds staleness should a version bump ever be lost
_AUTHORIZATION_CACHE_SIZE = 10_000
_authorizations: dict[uuid.UUID, tuple[str, float, AdminAuthorization]] = {}
_authorizations_lock = threading.Lock()
#: The longest a process trusts its copy of a credential's standing (see the docstring).
STANDING_MAX_AGE = 5.0
_STANDING_CACHE_SIZE = 10_000
#: ("api_key", key id, creator id) or ("jwt", user id, session id, kid) → (stamps read under,
#: monotonic time read, the user's standing); accepted credentials only.
_standings: dict[tuple, tuple[tuple[str | None, ...], float, UserStanding]] = {}
_standings_lock = threading.Lock()


def admin_api_audience() -> str:
    return settings.PORTA_PUBLIC_URL + ADMIN_API_AUDIENCE_PATH


def forget_authorizations() -> None:
    """Drop this process's cached principals (tests; other processes follow the stamp)."""
    with _authorizations_lock:
        _authorizations.clear()
    with _standings_lock:
        _standings.clear()


def _authorization(user_id: uuid.UUID, stamp: str | None) -> AdminAuthorization:
    cached = _authorizations.get(user_id)
    if (
        cached is not None
        and stamp is not None
        and cached[0] == stamp
        and time.monotonic() - cached[1] < AUTHORIZATION_MAX_AGE
    ):
        return cached[2]
    authorization = admin_authorization(user_id, stamp=stamp)
    if stamp is not None:
        with _authorizations_lock:
            if len(_authorizations) >= _AUTHORIZATION_CACHE_SIZE:
                _authorizations.clear()
            _authorizations[user_id] = (stamp, time.monotonic(), authorization)
    return authorization


def _pk(value: uuid.UUID | None):
    """A UUID as the database takes it (hex text on SQLite)."""
    return None if value is None else Session._meta.pk.get_db_prep_value(value, connection)


@functools.cache
def _token_standing_sql() -> str:
    session, key = Session._meta, SigningKey._meta
    return standing_sql(
        f', (SELECT s."revoked_at" IS NULL FROM "{session.db_table}" s'
        f' WHERE s."id" = %s AND s."user_id" = u."id")'
        f', (SELECT k."status" FROM "{key.db_table}" k WHERE k."kid" = %s)'
    )


@functools.cache
def _api_key_standing_sql() -> str:
    key = AdminApiKey._meta
    return standing_sql(f', (SELECT a."revoked_at" IS NULL FROM "{key.db_table}" a WHERE a."id" = %s)')


def _fetch(sql: str, params: list) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def token_standing(
    user_id: uuid.UUID, *, session_id: uuid.UUID | None, kid: str | None
) -> tuple[UserStanding | None, bool, str | None]:
    """The user's standing, whether the session is live (not revoked; False when unknown), and
    the status of the signing key (None when unknown): one fixed statement, one round trip."""
    row = _fetch(_token_standing_sql(), [_pk(session_id), kid or "", _pk(user_id)])
    if row is None:
        return None, False, None
    return standing_from_row(row), bool(row[7]), row[8]


def api_key_standing(creator_id: uuid.UUID, *, key_id: uuid.UUID) -> tuple[UserStanding | None, bool]:
    """The creator's standing and whether the key is not revoked, in one round trip."""
    row = _fetch(_api_key_standing_sql(), [_pk(key_id), _pk(creator_id)])
    if row is None:
        return None, False
    return standing_from_row(row), bool(row[7])


def _kept(cache_key: tuple, stamps: tuple[str | None, ...]) -> object | None:
    """This process's copy of a credential's standing, if read under exactly ``stamps`` and
    younger than ``STANDING_MAX_AGE``."""
    if None in stamps:
        return None
    cached = _standings.get(cache_key)
    if cached is not None and cached[0] == stamps and time.monotonic() - cached[1] < STANDING_MAX_AGE:
        return cached[2]
    return None


def _admits(user: UserStanding) -> bool:
    """Only a standing that lets its credential in is kept: one that refuses it is read again
    on the next request, so a user put back in good standing is let in at once."""
    return user.is_active and user.organization_is_super_admin


def _keep(cache_key: tuple, stamps: tuple[str | None, ...], read_at: float, standing: object) -> None:
    if None in stamps:
        return  # no stamps (Redis unreachable): nothing could tell this copy is stale
    with _standings_lock:
        if len(_standings) >= _STANDING_CACHE_SIZE:
            _standings.clear()
        _standings[cache_key] = (stamps, read_at, standing)


def live_api_key_creator(
    creator_id: uuid.UUID, *, key_id: uuid.UUID, stamps: tuple[str | None, ...]
) -> UserStanding | None:
    """The standing of a key's creator if the key is not revoked (else None), kept per process
    under the API_KEYS and PRINCIPALS ``stamps``. Refusals are not kept."""
    cache_key = ("api_key", key_id, creator_id)
    kept = _kept(cache_key, stamps)
    if kept is not None:
        return kept
    read_at = time.monotonic()
    creator, key_live = api_key_standing(creator_id, key_id=key_id)
    if creator is None or not key_live:
        return None
    if _admits(creator):
        _keep(cache_key, stamps, read_at, creator)
    return creator


def live_token_standing(
    user_id: uuid.UUID, *, session_id: uuid.UUID | None, kid: str | None, stamps: tuple[str | None, ...]
) -> UserStanding | None:
    """The user's standing if the token's session (when it names one) is not revoked and its
    signing key is known and not revoked (else None), kept per process under the KEYS,
    PRINCIPALS and SESSIONS ``stamps``. Refusals are not kept."""
    cache_key = ("jwt", user_id, session_id, kid)
    kept = _kept(cache_key, stamps)
    if kept is not None:
        return kept
    read_at = time.monotonic()
    user, session_live, key_status = token_standing(user_id, session_id=session_id, kid=kid)
    if user is None or (session_id is not None and not session_live):
        if user is not None:
            logger.info("Rejected access token: session %s is revoked", session_id)
        return None
    if key_status in (None, SigningKeyStatus.REVOKED):
        logger.info("Rejected access token: signing key %s is revoked", kid)
        return None
    if _admits(user):
        _keep(cache_key, stamps, read_at, user)
    return user


def principal_from_access_token(token: str) -> Principal:
    stamps = versions.read(versions.KEYS, versions.PRINCIPALS, versions.SESSIONS)
    keys_stamp, principals_stamp, _ = stamps
    try:
        claims = verify_access_token(
            token, issuer=None, audience=admin_api_audience(), ring=keyring(keys_stamp, versioned=True)
        )
        kid = jwt.get_unverified_header(token).get("kid")
    except (TokenInvalid, jwt.PyJWTError) as exc:
        logger.info("Rejected access token: %s", exc)
        raise AuthenticationFailed("Invalid or expired token") from exc
    session_id = None
    if "sid" in claims:  # a login session's token: refused once the session is revoked
        session_id = parse_uuid(claims["sid"])
        if session_id is None:
            raise AuthenticationFailed("Invalid or expired token")
    user_id = parse_uuid(claims.get("sub"))
    if user_id is None:
        raise AuthenticationFailed("Invalid or expired token")
    user = live_token_standing(user_id, session_id=session_id, kid=kid, stamps=stamps)
    if user is None or claims.get("iss") != issuer_for(user.organization_slug):
        raise AuthenticationFailed("Invalid or expired token")
    if not user.is_active:
        raise AuthenticationFailed("User is not active")
    # The admin issuer's users act across organizations. A tenant administrator (a user of
    # organization X with a ``porta-*`` role, whose token X's issuer minted for a client of the
    # porta-admin application — the only tenant tokens with this audience) acts on X alone,
    # exactly like a ``porta_pat_`` key of X: the scope is the user's organization, never a claim.
    scope = None if user.organization_is_super_admin else user.organization_id
    return Principal(
        user=user,
        organization_id=user.organization_id,
        is_admin_org_member=user.organization_is_super_admin,
        authorization=_authorization(user.id, principals_stamp),
        credential="jwt",
        scope_organization_id=scope,
        claims=claims,
    )


def principal_from_api_key(secret: str) -> Principal:
    """An admin API key (``porta_pat_…``/``porta_wak_…``): one MGET of stamps, the key from the
    per-process cache (or one query on the unique hash index), and the creator's standing and
    the key's revocation by primary key, from the per-process copy kept under the same stamps
    (``live_api_key_creator``) or read fresh.

    The key acts with its roles' permissions capped by what its creator holds now: demoting,
    suspending or removing the creator shrinks or stops their keys at once (a key is delegated
    power, never more than its author's). Its scope is the key's organization (None for a
    ``porta_wak_`` key); the tenancy rules key on that, not on the kind of credential.
    Unknown, revoked and expired keys get one and the same answer.
    """
    stamps = versions.read(api_key_selectors.API_KEYS_STAMP, versions.PRINCIPALS)
    key = api_key_selectors.active_key(secret, stamps)
    if key is None or key.expired(timezone.now()):
        raise AuthenticationFailed("Invalid or expired API key")
    creator = (
        live_api_key_creator(key.created_by_id, key_id=key.id, stamps=stamps) if key.created_by_id else None
    )
    if creator is None or not creator.organization_is_super_admin or not creator.is_active:
        raise AuthenticationFailed("Invalid or expired API key")
    held = _authorization(creator.id, stamps[1])
    roles = frozenset(
        role for role in key.roles if held.roles and (role not in SUPER_ADMIN_ROLES or held.is_super_admin)
    )
    api_key_usage.note_use(key.id)
    return Principal(
        user=creator,
        organization_id=creator.organization_id,
        is_admin_org_member=True,
        authorization=AdminAuthorization(roles, key.permissions & held.permissions),
        credential="api_key",
        scope_organization_id=key.organization_id,
        api_key_id=key.id,
        api_key_name=key.name,
    )


class BearerAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise AuthenticationFailed("Missing or invalid Authorization header")
        if api_key_selectors.looks_like_api_key(credential):
            principal = principal_from_api_key(credential)
        else:
            principal = principal_from_access_token(credential)
        return principal.user, principal

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="porta-admin"'
