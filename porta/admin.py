"""Porta's Django admin site: the one place its login and password pages are wired to the
login service (it knows the organizations app)."""

from django.contrib import admin
from django.contrib.auth.views import PasswordChangeView
from django.urls import reverse

from organizations.auth_backends import AdminLoginForm, AdminPasswordChangeForm


class PortaAdminSite(admin.AdminSite):
    """The Django admin, whose login and "change password" pages check passwords through the
    login service like every other entrance (throttles, lockout, audit, metrics)."""

    login_form = AdminLoginForm

    def password_change(self, request, extra_context=None):
        request.current_app = self.name
        return PasswordChangeView.as_view(
            form_class=AdminPasswordChangeForm,
            success_url=reverse("admin:password_change_done", current_app=self.name),
            extra_context={**self.each_context(request), **(extra_context or {})},
        )(request)
