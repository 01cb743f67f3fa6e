"""The Django admin's questions about a user, answered from the user's admin roles.

Listed in ``AUTHENTICATION_BACKENDS`` so that ``organizations.User`` asks the configured backends
instead of importing rbac (rbac builds on organizations, not the other way round). Besides
``has_perm`` (Django's permissions, mapped onto Porta's, and Porta's ``admin:*`` ones as the API
resolves them), it answers the two questions the user model asks of its backends:
``holds_admin_role`` (any ``porta-*`` role: may use the Django admin) and
``holds_super_admin_role``.
"""

from __future__ import annotations

from django.contrib.auth.backends import BaseBackend

from rbac.selectors import admin_authorization, django_admin_allows


class AdminRoleBackend(BaseBackend):
    """Authenticates nobody (``authenticate`` is BaseBackend's None); only authorizes."""

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        """A Porta permission (``admin:user:suspend``) as the API resolves it, or a Django one
        (``organizations.change_user``) mapped onto Porta's."""
        if not user_obj.is_active:
            return False
        authorization = admin_authorization(user_obj.id)
        if perm.startswith("admin:"):
            return perm in authorization.permissions
        return django_admin_allows(authorization, perm)

    def holds_admin_role(self, user_obj) -> bool:
        return bool(admin_authorization(user_obj.id).roles)

    def holds_super_admin_role(self, user_obj) -> bool:
        return admin_authorization(user_obj.id).is_super_admin
