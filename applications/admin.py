from django.contrib import admin

from applications.models import Application, ClaimDefinition, ClaimValue, Client, ClientSecret, Module
from porta.api.modeladmin import ReadOnlyModelAdmin


@admin.register(Application)
class ApplicationAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "slug", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "slug", "description")


@admin.register(Module)
class ModuleAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "slug", "application", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "slug", "application__slug")
    list_select_related = ("application",)


@admin.register(Client)
class ClientAdmin(ReadOnlyModelAdmin):
    class SecretInline(admin.TabularInline):
        """Secrets by their metadata only: the hash never appears in the admin."""

        model = ClientSecret
        fields = ("label", "status", "expires_at", "last_used_at", "created_at")
        readonly_fields = fields
        extra = 0
        can_delete = False
        show_change_link = False

        def has_add_permission(self, request, obj=None):
            return False

        def has_change_permission(self, request, obj=None):
            return False

    list_display = ("client_name", "client_id", "organization", "application", "client_type", "status")
    list_filter = ("status", "client_type", "application_type")
    search_fields = ("client_name", "client_id", "organization__slug", "application__slug")
    list_select_related = ("organization", "application")
    inlines = (SecretInline,)


@admin.register(ClaimDefinition)
class ClaimDefinitionAdmin(ReadOnlyModelAdmin):
    list_display = (
        "name",
        "claim_type",
        "application",
        "include_in_id_token",
        "include_in_access_token",
        "include_in_userinfo",
    )
    list_filter = ("claim_type",)
    search_fields = ("name", "description", "application__slug")
    list_select_related = ("application",)


@admin.register(ClaimValue)
class ClaimValueAdmin(ReadOnlyModelAdmin):
    list_display = ("claim", "user", "updated_at")
    search_fields = ("claim__name", "user__email")
    list_select_related = ("claim", "user")
