"""Django admin login: admins are users of the super-admin organization, by e-mail and password,
checked by the same login service as the token endpoint (throttles, lockout, audit, metrics)."""

from __future__ import annotations

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import BaseBackend
from django.core.exceptions import PermissionDenied, ValidationError

from organizations import login_services
from organizations.models import Organization, User


class PortaAdminBackend(BaseBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password:
            return None
        organization = Organization.objects.filter(is_super_admin=True).first()
        if organization is None:
            return None
        try:
            user = login_services.password_login(
                organization=organization,
                email=username,
                password=password,
                channel=login_services.DJANGO_ADMIN,
                ip=getattr(request, "porta_client_ip", None),
            )
        except login_services.LoginRefused as refused:
            if request is not None:
                request.porta_login_refused = refused
            # PermissionDenied, not None: no other backend may let this attempt in.
            raise PermissionDenied(refused.message) from refused
        if not user.is_staff:
            return None
        login_services.login_recorded(user=user, channel=login_services.DJANGO_ADMIN)
        return user

    def get_user(self, user_id):
        return User.objects.select_related("organization").filter(pk=user_id).first()


class AdminLoginForm(AdminAuthenticationForm):
    """Says why a login was refused when it was throttled or the account is locked; a wrong
    password or an unknown e-mail keep Django's one answer for both."""

    def get_invalid_login_error(self):
        refused = getattr(self.request, "porta_login_refused", None)
        if isinstance(refused, login_services.LoginThrottled | login_services.AccountLocked):
            return ValidationError(refused.message, code="login_refused")
        return super().get_invalid_login_error()
