"""Django admin login: admins are users of the super-admin organization, by e-mail and password,
checked by the same login service as the token endpoint (throttles, lockout, audit, metrics)."""

from __future__ import annotations

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.forms import AdminPasswordChangeForm as DjangoAdminPasswordChangeForm
from django.contrib.auth.backends import BaseBackend
from django.core.exceptions import PermissionDenied, ValidationError

from organizations import login_services, user_services
from organizations.models import Organization, User
from porta.core.context import Actor

#: The API's length rule for a password (PasswordSerializer), kept on the admin's page too.
PASSWORD_MIN, PASSWORD_MAX = 8, 128


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


class AdminPasswordChangeForm(DjangoAdminPasswordChangeForm):
    """The admin's "change password" page: the current password is checked by the login service
    (throttles, lockout, audit), and the new one is set by the audited user service with the
    API's length rule."""

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        try:
            login_services.password_login(
                organization=self.user.organization,
                email=self.user.email,
                password=old_password,
                channel=login_services.DJANGO_ADMIN,
            )
        except (login_services.LoginThrottled, login_services.AccountLocked) as refused:
            raise ValidationError(refused.message, code="login_refused") from refused
        except login_services.LoginRefused as refused:
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            ) from refused
        return old_password

    def clean_new_password1(self):
        password = self.cleaned_data["new_password1"]
        if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
            raise ValidationError(
                f"The password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long.",
                code="password_length",
            )
        return password

    def save(self, commit=True):
        changed = user_services.user_set_password(
            actor=Actor(type="user", id=self.user.id, label=self.user.email),
            user=self.user,
            password=self.cleaned_data["new_password1"],
        )
        self.user.password = changed.password  # keeps the session valid (update_session_auth_hash)
        return self.user
