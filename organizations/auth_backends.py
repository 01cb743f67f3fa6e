"""Django admin login: admins are users of the super-admin organization, by e-mail and password."""

from __future__ import annotations

from django.contrib.auth.backends import BaseBackend

from organizations.models import User


class PortaAdminBackend(BaseBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password:
            return None
        user = (
            User.objects.select_related("organization")
            .filter(organization__is_super_admin=True, email__iexact=username)
            .first()
        )
        if user is None:
            User().set_password(password)  # same cost as a real check: no account enumeration by timing
            return None
        if user.check_password(password) and user.is_active and user.is_staff:
            return user
        return None

    def get_user(self, user_id):
        return User.objects.select_related("organization").filter(pk=user_id).first()
