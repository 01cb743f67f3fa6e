"""Django admin actions gated by the API's permissions: one rule for the API and the Django admin."""

from rbac.selectors import admin_authorization


def holds_admin_permission(request, permission: str) -> bool:
    """Whether the operator signed in to the Django admin holds ``permission``
    (``admin:user:suspend``), resolved from the database as for an API request."""
    user = request.user
    if not user.is_active or not user.is_staff:
        return False
    return permission in admin_authorization(user.id).permissions


class ApiPermissionActions:
    """ModelAdmin mixin: an action carrying ``api_permission`` (the ``admin:<resource>:<action>``
    the API requires for the same operation) is offered, and accepted when posted, only to
    operators holding that permission. One rule for the API and the Django admin."""

    def get_actions(self, request):
        return {
            name: entry
            for name, entry in super().get_actions(request).items()
            if (permission := getattr(entry[0], "api_permission", None)) is None
            or holds_admin_permission(request, permission)
        }
