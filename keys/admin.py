from django.contrib import admin

from keys.models import SigningKey
from porta.admin import ReadOnlyModelAdmin


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyModelAdmin):
    list_display = ("kid", "status", "algorithm", "created_at", "activated_at", "retired_at", "revoked_at")
    list_filter = ("status",)
    exclude = ("private_key_ciphertext", "kek_id")  # no private material, even encrypted
