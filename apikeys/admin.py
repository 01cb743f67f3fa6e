from django.contrib import admin

from apikeys import services
from apikeys.models import AdminApiKey
from porta.api.modeladmin import ReadOnlyModelAdmin, apply_to_each


@admin.action(description="Revoke selected API keys", permissions=["revoke"])
def revoke_selected(modeladmin, request, queryset):
    apply_to_each(
        modeladmin,
        request,
        queryset,
        lambda actor, key: services.api_key_revoke(actor=actor, key=key),
        name=lambda key: key.name,
        done="revoke: {} API key(s) revoked",
    )


@admin.register(AdminApiKey)
class AdminApiKeyAdmin(ReadOnlyModelAdmin):
    """Keys by their metadata only: the secret hash never appears here."""

    list_display = ("name", "display_secret", "organization", "roles", "created_at", "expires_at",
                    "last_used_at", "revoked_at", "created_by")  # fmt: skip
    list_filter = ("prefix",)
    search_fields = ("name", "organization__slug", "last_four")
    list_select_related = ("organization", "created_by")
    fields = ("id", "name", "display_secret", "organization", "roles", "created_at", "expires_at",
              "last_used_at", "revoked_at", "created_by")  # fmt: skip
    readonly_fields = fields
    actions = [revoke_selected]

    def has_revoke_permission(self, request) -> bool:
        """Revoking needs ``admin:key:generate``, as in the API (mapped from the change permission)."""
        return request.user.has_perm("apikeys.change_adminapikey")

    @admin.display(description="key")
    def display_secret(self, obj: AdminApiKey) -> str:
        return f"{obj.prefix}_…{obj.last_four}"
