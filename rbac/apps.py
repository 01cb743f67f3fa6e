from django.apps import AppConfig


class RbacConfig(AppConfig):
    name = "rbac"

    def ready(self) -> None:
        from organizations import extensions
        from rbac.api.serializers import user_roles_export
        from rbac.selectors import super_admin_user_ids

        extensions.user_export_sections["roles"] = user_roles_export
        extensions.protected_user_ids.append(super_admin_user_ids)
