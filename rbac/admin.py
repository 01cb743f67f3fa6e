from django.contrib import admin

from porta.admin import ReadOnlyModelAdmin
from rbac.models import Permission, Role


@admin.register(Role)
class RoleAdmin(ReadOnlyModelAdmin):
    list_display = ("slug", "name", "application", "is_system")
    search_fields = ("slug", "name")
    list_select_related = ("application",)


@admin.register(Permission)
class PermissionAdmin(ReadOnlyModelAdmin):
    list_display = ("slug", "name", "application")
    search_fields = ("slug", "name")
    list_select_related = ("application",)
