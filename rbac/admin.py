from django.contrib import admin

from porta.api.modeladmin import ReadOnlyModelAdmin
from rbac.models import Permission, Role, RolePermission, UserRole


class _GrantedPermissions(admin.TabularInline):
    model = RolePermission
    fields = ("permission", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "permissions granted"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Role)
class RoleAdmin(ReadOnlyModelAdmin):
    list_display = ("slug", "name", "application", "is_system")
    list_filter = ("is_system",)
    search_fields = ("slug", "name", "application__slug")
    list_select_related = ("application",)
    inlines = (_GrantedPermissions,)


@admin.register(Permission)
class PermissionAdmin(ReadOnlyModelAdmin):
    list_display = ("slug", "name", "application")
    search_fields = ("slug", "name", "application__slug")
    list_select_related = ("application",)


@admin.register(UserRole)
class UserRoleAdmin(ReadOnlyModelAdmin):
    """Who holds which role; assignments change through the API (audit, escalation guard)."""

    list_display = ("user", "role", "created_at")
    search_fields = ("user__email", "role__slug")
    list_select_related = ("user", "role")
    raw_id_fields = ("user", "role")
