"""No self-escalation: nobody may hand out an admin permission they do not hold themselves.

One rule serves every way of granting admin power — assigning a ``porta-*`` role to a user,
adding a permission to a role of the ``porta-admin`` application, minting an admin API key with
roles — so each of those services calls :func:`ensure_can_grant` with what would be granted.
"""

from __future__ import annotations

from collections.abc import Iterable

from porta.core.errors import Forbidden
from rbac.admin_roles import ADMIN_APP_SLUG, ALL_ADMIN_PERMISSIONS, SUPER_ADMIN_ROLES
from rbac.models import RolePermission
from rbac.selectors import AdminAuthorization


def admin_permissions_of_roles(role_slugs: Iterable[str]) -> frozenset[str]:
    """The ``admin:*`` permissions the given ``porta-admin`` roles grant, as stored now."""
    slugs = set(role_slugs)
    if slugs & SUPER_ADMIN_ROLES:
        return ALL_ADMIN_PERMISSIONS
    return frozenset(
        RolePermission.objects.filter(
            role__application__slug=ADMIN_APP_SLUG, role__slug__in=slugs
        ).values_list("permission__slug", flat=True)
    )


def ensure_can_grant(authorization: AdminAuthorization, permissions: Iterable[str], *, what: str) -> None:
    """403 unless the granting caller holds every permission in ``permissions`` (``what`` names
    the thing being granted, for the message). A super-admin holds them all."""
    if authorization.is_super_admin:
        return
    missing = sorted(set(permissions) - authorization.permissions)
    if missing:
        raise Forbidden(
            f"You cannot grant {what}: it carries permissions you do not hold: {', '.join(missing)}",
            details={"missingPermissions": missing},
        )


def ensure_can_grant_roles(authorization: AdminAuthorization, role_slugs: Iterable[str]) -> None:
    """403 unless the caller holds every admin permission the named ``porta-admin`` roles carry
    (and, for a super-admin role, is a super-admin)."""
    slugs = sorted(set(role_slugs))
    if set(slugs) & SUPER_ADMIN_ROLES and not authorization.is_super_admin:
        raise Forbidden(
            "Only a super-admin can grant a super-admin role",
            details={"missingPermissions": sorted(ALL_ADMIN_PERMISSIONS - authorization.permissions)},
        )
    ensure_can_grant(authorization, admin_permissions_of_roles(slugs), what=f"role(s) {', '.join(slugs)}")
