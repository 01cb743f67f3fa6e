"""Reads of roles and permissions, including the admin authorization of a user."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

from porta import versions
from rbac.admin_roles import ADMIN_APP_SLUG, ALL_ADMIN_PERMISSIONS, SUPER_ADMIN_ROLES
from rbac.models import UserRole


@dataclass(frozen=True, slots=True)
class AdminAuthorization:
    roles: frozenset[str]
    permissions: frozenset[str]

    @property
    def is_super_admin(self) -> bool:
        return bool(self.roles & SUPER_ADMIN_ROLES)


def admin_authorization(user_id: uuid.UUID) -> AdminAuthorization:
    """The user's ``porta-*`` roles and the ``admin:*`` permissions they grant, in one query.

    Read from the database on every request, so a role removed is a permission gone at once.
    """
    rows = UserRole.objects.filter(
        user_id=user_id, role__application__slug=ADMIN_APP_SLUG, role__slug__startswith="porta-"
    ).values_list("role__slug", "role__permissions__slug")
    roles: set[str] = set()
    permissions: set[str] = set()
    for role_slug, permission_slug in rows:
        roles.add(role_slug)
        if permission_slug:
            permissions.add(permission_slug)
    if roles & SUPER_ADMIN_ROLES:
        permissions |= ALL_ADMIN_PERMISSIONS
    return AdminAuthorization(frozenset(roles), frozenset(permissions))


@dataclass(frozen=True, slots=True)
class Resolution:
    """A user's role slugs and permission slugs for one application, each sorted."""

    roles: tuple[str, ...]
    permissions: tuple[str, ...]


_RESOLUTION_CACHE_SIZE = 10_000
_resolutions: dict[tuple[uuid.UUID, uuid.UUID], tuple[str, Resolution]] = {}
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
    roles: set[str] = set()
    permissions: set[str] = set()
    for role_slug, permission_slug in rows:
        roles.add(role_slug)
        if permission_slug:
            permissions.add(permission_slug)
    return Resolution(tuple(sorted(roles)), tuple(sorted(permissions)))


def resolve(user_id: uuid.UUID | str, application_id: uuid.UUID | str) -> Resolution:
    """The one resolution of a user's roles and permissions for an application.

    Cached per process behind the PRINCIPALS stamp, which every role, permission and assignment
    change bumps (porta.invalidation), so a change is seen on the very next call in any process.
    Without a readable stamp (Redis down) it reads the database.
    """
    key = (uuid.UUID(str(user_id)), uuid.UUID(str(application_id)))
    (stamp,) = versions.read(versions.PRINCIPALS)
    if stamp is not None:
        cached = _resolutions.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    resolution = resolve_uncached(*key)
    if stamp is not None:
        with _resolutions_lock:
            if len(_resolutions) >= _RESOLUTION_CACHE_SIZE:
                _resolutions.clear()
            _resolutions[key] = (stamp, resolution)
    return resolution


# Django admin permission codename verbs → the admin action they need.
_DJANGO_VERBS = {"view": "read", "add": "create", "change": "update", "delete": "archive"}
_MODEL_RESOURCES = {
    "organization": "org",
    "user": "user",
    "application": "app",
    "client": "client",
    "role": "role",
    "permission": "permission",
    "signingkey": "key",
    "auditentry": "audit",
}


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
    return f"admin:{resource}:{action}" in authorization.permissions
