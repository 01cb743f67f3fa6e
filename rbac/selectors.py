"""Reads of roles and permissions, including the admin authorization of a user."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from applications.models import Application
from applications.selectors.claims import token_custom_claims
from organizations.models import User
from porta.core import versions
from rbac.admin_roles import ADMIN_APP_SLUG, ALL_ADMIN_PERMISSIONS, SUPER_ADMIN_ROLES
from rbac.models import Permission, Role, UserRole


def roles_of_user(user_id: uuid.UUID) -> QuerySet[Role]:
    """Every role the user holds, of any application."""
    return Role.objects.filter(user_roles__user_id=user_id)


def assignments_of_user(user_id: uuid.UUID) -> QuerySet[UserRole]:
    """The user's role assignments, each with its role."""
    return UserRole.objects.filter(user_id=user_id).select_related("role")


def super_admin_user_ids() -> frozenset[uuid.UUID]:
    """The super-admin user (as a set, for the protected-users registry): the earliest admin of
    the super-admin organization holding ``porta-super-admin`` (the one ``porta_init`` created)."""
    first = (
        UserRole.objects.filter(
            role__application__slug=ADMIN_APP_SLUG,
            role__slug="porta-super-admin",
            user__organization__is_super_admin=True,
        )
        .order_by("user__created_at", "user_id")
        .values_list("user_id", flat=True)
        .first()
    )
    return frozenset() if first is None else frozenset({first})


def permissions_of_role(role_id: uuid.UUID) -> QuerySet[Permission]:
    return Permission.objects.filter(role_permissions__role_id=role_id)


def holders_of(role_id: uuid.UUID, *, organization_id: uuid.UUID | None = None) -> QuerySet[User]:
    """The users holding a role, of every organization or of one."""
    users = User.objects.filter(user_roles__role_id=role_id)
    return users.filter(organization_id=organization_id) if organization_id is not None else users


def roles_granting(permission_id: uuid.UUID) -> QuerySet[Role]:
    return Role.objects.filter(role_permissions__permission_id=permission_id)


#: "Read the PRINCIPALS stamp yourself" (the default of the functions that take ``stamp``).
_READ_STAMP = object()


def _collect(rows) -> tuple[set[str], set[str]]:
    """Role slugs and permission slugs from ``(role slug, permission slug or None)`` rows."""
    roles: set[str] = set()
    permissions: set[str] = set()
    for role_slug, permission_slug in rows:
        roles.add(role_slug)
        if permission_slug:
            permissions.add(permission_slug)
    return roles, permissions


@dataclass(frozen=True, slots=True)
class AdminAuthorization:
    roles: frozenset[str]
    permissions: frozenset[str]

    @property
    def is_super_admin(self) -> bool:
        return bool(self.roles & SUPER_ADMIN_ROLES)


def admin_authorization(
    user_id: uuid.UUID, *, stamp: str | None | object = _READ_STAMP
) -> AdminAuthorization:
    """The user's ``porta-*`` roles and the ``admin:*`` permissions their roles of the
    ``porta-admin`` application grant: the one :func:`resolve`, applied to Porta itself.

    Without a ``porta-*`` role nothing is granted (a custom role of the admin application may
    add permissions to an admin, never make one). A super-admin role grants every permission.
    """
    application_id = Application.objects.filter(slug=ADMIN_APP_SLUG).values_list("id", flat=True).first()
    if application_id is None:
        return AdminAuthorization(frozenset(), frozenset())
    resolution = resolve(user_id, application_id, stamp=stamp)
    roles = frozenset(r for r in resolution.roles if r.startswith("porta-"))
    if not roles:
        return AdminAuthorization(frozenset(), frozenset())
    if roles & SUPER_ADMIN_ROLES:
        return AdminAuthorization(roles, ALL_ADMIN_PERMISSIONS)
    return AdminAuthorization(roles, frozenset(p for p in resolution.permissions if p.startswith("admin:")))


@dataclass(frozen=True, slots=True)
class Resolution:
    """A user's role slugs and permission slugs for one application, each sorted."""

    roles: tuple[str, ...]
    permissions: tuple[str, ...]


_RESOLUTION_CACHE_SIZE = 10_000
#: Bounds how long a cached resolution survives should a stamp bump ever be lost (Redis
#: unreachable just when a role was removed): callers that cache on top of this one, such as
#: the admin authorization, would otherwise refetch the same stale answer forever.
RESOLUTION_MAX_AGE = 30.0
_resolutions: dict[tuple[uuid.UUID, uuid.UUID], tuple[str, float, Resolution]] = {}
_resolutions_lock = threading.Lock()


def forget_resolutions() -> None:
    """Empties this process's resolution cache (tests; the stamp does it for everyone else)."""
    with _resolutions_lock:
        _resolutions.clear()


def resolve_uncached(user_id: uuid.UUID, application_id: uuid.UUID) -> Resolution:
    """The user's roles of the application and the permissions they grant, in one query."""
    rows = UserRole.objects.filter(user_id=user_id, role__application_id=application_id).values_list(
        "role__slug", "role__permissions__slug"
    )
    roles, permissions = _collect(rows)
    return Resolution(tuple(sorted(roles)), tuple(sorted(permissions)))


def resolve_everywhere(user_id: uuid.UUID) -> Resolution:
    """The user's roles and permissions across every application (an admin's overview; tokens
    always ask per application through :func:`resolve`)."""
    rows = UserRole.objects.filter(user_id=user_id).values_list("role__slug", "role__permissions__slug")
    roles, permissions = _collect(rows)
    return Resolution(tuple(sorted(roles)), tuple(sorted(permissions)))


def resolve(
    user_id: uuid.UUID | str, application_id: uuid.UUID | str, *, stamp: str | None | object = _READ_STAMP
) -> Resolution:
    """The one resolution of a user's roles and permissions for an application.

    Cached per process behind the PRINCIPALS stamp, which every role, permission and assignment
    change bumps (porta.invalidation), so a change is seen on the very next call in any process.
    A caller that has just read the stamp (authentication reads every stamp in one MGET per
    request) passes it, and a cached answer then costs a dict lookup instead of a Redis round
    trip. Without a readable stamp (Redis down) it reads the database.
    """
    key = (uuid.UUID(str(user_id)), uuid.UUID(str(application_id)))
    if stamp is _READ_STAMP:
        (stamp,) = versions.read(versions.PRINCIPALS)
    if stamp is not None:
        cached = _resolutions.get(key)
        if cached is not None and cached[0] == stamp and time.monotonic() - cached[1] < RESOLUTION_MAX_AGE:
            return cached[2]
    resolution = resolve_uncached(*key)
    if stamp is not None:
        with _resolutions_lock:
            if len(_resolutions) >= _RESOLUTION_CACHE_SIZE:
                _resolutions.clear()
            _resolutions[key] = (stamp, time.monotonic(), resolution)
    return resolution


# Django admin permission codename verbs → the admin action they need.
_DJANGO_VERBS = {"view": "read", "add": "create", "change": "update", "delete": "archive"}
_MODEL_RESOURCES = {
    "organization": "org",
    "user": "user",
    "invitation": "user",
    "application": "app",
    "module": "app",
    "client": "client",
    "role": "role",
    "userrole": "role",
    "permission": "permission",
    "claimdefinition": "claim",
    "claimvalue": "claim",
    "signingkey": "key",
    "adminapikey": "key",
    "session": "session",
    "auditentry": "audit",
    "brandingasset": "org",
    "tally": "stats",
    "issuedapikey": "issued-key",
    "issuedapikeysettings": "issued-key",
    "configentry": "config",
}
#: Where the catalogue names the write differently: revoking a session, minting or revoking a key.
_ACTION_OVERRIDES = {("session", "update"): "revoke", ("key", "update"): "generate"}


def django_admin_allows(authorization: AdminAuthorization, perm: str) -> bool:
    """Maps a Django admin permission (``organizations.change_organization``) onto Porta's."""
    if authorization.is_super_admin:
        return True
    _, _, codename = perm.partition(".")
    verb, _, model = codename.partition("_")
    resource = _MODEL_RESOURCES.get(model)
    action = _DJANGO_VERBS.get(verb)
    if resource is None or action is None:
        return False
    action = _ACTION_OVERRIDES.get((resource, action), action)
    return f"admin:{resource}:{action}" in authorization.permissions


def token_claims(
    *, user_id: uuid.UUID | str, application_id: uuid.UUID | str, token_type: str
) -> dict[str, Any]:
    """What a token of ``token_type`` ("id_token", "access_token" or "userinfo") carries for a
    user of an application: role slugs, permission slugs and the custom claims flagged for it."""
    custom = token_custom_claims(user_id=user_id, application_id=application_id, token_type=token_type)
    resolution = resolve(user_id, application_id)
    return {"roles": list(resolution.roles), "permissions": list(resolution.permissions), **custom}
