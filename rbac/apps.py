from django.apps import AppConfig


class RbacConfig(AppConfig):
    name = "rbac"

    def ready(self) -> None:
        from organizations import extensions
        from rbac.api.serializers import user_roles_export
        from rbac.selectors import is_super_admin_user

        extensions.user_export_sections["roles"] = user_roles_export
        extensions.protected_user_checks.append(is_super_admin_user)
