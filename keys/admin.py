from django.contrib import admin

from keys import services
from keys.models import SigningKey
from porta.api.modeladmin import ReadOnlyModelAdmin, admin_actor, apply_to_each
from rbac.selectors import admin_authorization


@admin.action(description="Rotate now (new active key, retire the current one)", permissions=["rotate"])
def rotate_now(modeladmin, request, queryset):
    """Rotation acts on the whole keyring; the selection only has to be non-empty."""
    result = services.signing_key_rotate(actor=admin_actor(request))
    modeladmin.message_user(
        request, f"Active key is now {result.active.kid}; {result.retired_count} key(s) retired"
    )


@admin.action(description="Revoke selected keys (their tokens fail at once)", permissions=["rotate"])
def revoke_selected(modeladmin, request, queryset):
    apply_to_each(
        modeladmin,
        request,
        queryset,
        lambda actor, key: services.signing_key_revoke(actor=actor, key=key),
        name=lambda key: key.kid,
        done="{} key(s) revoked",
    )


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyModelAdmin):
    list_display = (
        "kid",
        "status",
        "algorithm",
        "kek_id",
        "created_at",
        "activated_at",
        "retired_at",
        "revoked_at",
    )
    list_filter = ("status",)
    search_fields = ("kid",)
    exclude = ("private_key_ciphertext",)  # no private material, even encrypted
    actions = [rotate_now, revoke_selected]

    def has_rotate_permission(self, request) -> bool:
        """Rotating and revoking need ``admin:key:rotate``, as in the API."""
        if not request.user.is_active or not request.user.is_staff:
            return False
        authorization = admin_authorization(request.user.id)
        return authorization.is_super_admin or "admin:key:rotate" in authorization.permissions
