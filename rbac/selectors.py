"""Reads of roles and permissions, including the admin authorization of a user."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

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
