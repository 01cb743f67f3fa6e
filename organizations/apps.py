from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "organizations"

    def ready(self) -> None:
        from django.contrib import admin

        from organizations.auth_backends import AdminLoginForm

        admin.site.login_form = AdminLoginForm
