"""The one permission class: maps each view action to an ``admin:<resource>:<action>`` permission."""

from __future__ import annotations

from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.permissions import BasePermission

from porta.api.principal import Principal


def required_permission(view) -> str | None:
    action = getattr(view, "action", None)
    return getattr(view, "permission_map", {}).get(action)


def check_admin_permission(principal: object, required: str | None) -> None:
    """Raise the 401/403 a caller gets without ``required``; also for views outside DRF's
    dispatch (the lean issued-key verification)."""
    if not isinstance(principal, Principal):
        raise NotAuthenticated("Authentication required")
    if not principal.is_admin_org_member and principal.scope_organization_id is None:
        # Outside the admin organization only a credential scoped to one organization (a
        # tenant administrator's token) may act, and only there.
        raise PermissionDenied("Admin access requires membership in the admin organization")
    if not principal.authorization.roles:
        raise PermissionDenied("Admin role required")
    if required is None:
        # Fail closed: an action nobody mapped to a permission is not reachable.
        raise PermissionDenied("This operation is not available")
    if required not in principal.authorization.permissions:
        raise PermissionDenied(f"Insufficient permissions. Required: {required}")


class AdminPermission(BasePermission):
    def has_permission(self, request, view) -> bool:
        check_admin_permission(request.auth, required_permission(view))
        return True
