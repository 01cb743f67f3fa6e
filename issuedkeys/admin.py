from django.contrib import admin

from issuedkeys import services
from issuedkeys.models import IssuedApiKey, IssuedApiKeySettings
from porta.api.modeladmin import ApiPermissionActions, ReadOnlyModelAdmin, apply_to_each


@admin.action(description="Revoke selected API keys")
def revoke_selected(modeladmin, request, queryset):
    apply_to_each(
        modeladmin,
        request,
        queryset,
        lambda actor, key: services.issued_api_key_revoke(
            actor=actor, key=key, reason="revoked by an operator"
        ),
        name=lambda key: key.name,
        done="revoke: {} API key(s) revoked",
    )


revoke_selected.api_permission = "admin:issued-key:revoke"


@admin.register(IssuedApiKey)
class IssuedApiKeyAdmin(ApiPermissionActions, ReadOnlyModelAdmin):
    """Keys by their metadata only: neither the secret (never stored) nor its hash appears here."""

    list_display = ("name", "display_key", "organization", "actor_id", "status", "created_at", "expires_at",
                    "last_used_at", "revoked_at")  # fmt: skip
    list_filter = ("status", "prefix")
    search_fields = ("=id", "name", "actor_id", "organization__slug", "last_four")
    list_select_related = ("organization",)
    fields = ("id", "name", "display_key", "organization", "actor_id", "scopes", "metadata", "status",
              "created_at", "updated_at", "expires_at", "last_used_at", "revoked_at", "revocation_reason",
              "rotated_from")  # fmt: skip
    readonly_fields = fields
    actions = [revoke_selected]

    @admin.display(description="key")
    def display_key(self, obj: IssuedApiKey) -> str:
        return f"{obj.prefix}_v1_{obj.id.hex}_…{obj.last_four}"


@admin.register(IssuedApiKeySettings)
class IssuedApiKeySettingsAdmin(ReadOnlyModelAdmin):
    """Changed through the API (``PUT /organizations/{id}/api-key-settings``: validated, audited)."""

    list_display = ("organization", "prefix", "default_ttl_wire", "max_ttl_wire", "quota", "updated_at")
    search_fields = ("organization__slug", "organization__name", "prefix")
    list_select_related = ("organization",)
    fields = (
        "organization",
        "prefix",
        "default_ttl_wire",
        "max_ttl_wire",
        "quota",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
