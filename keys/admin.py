from django.contrib import admin

from keys.models import SigningKey


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    list_display = ("kid", "status", "algorithm", "created_at", "activated_at", "retired_at", "revoked_at")
    list_filter = ("status",)
    exclude = ("private_key_ciphertext", "kek_id")  # no private material, even encrypted

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
