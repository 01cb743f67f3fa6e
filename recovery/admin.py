from django.contrib import admin

from porta.api.modeladmin import ReadOnlyModelAdmin
from recovery.models import RecoveryToken


@admin.register(RecoveryToken)
class RecoveryTokenAdmin(ReadOnlyModelAdmin):
    """Read-only, and never the hashes: links and codes are issued through the admin API."""

    list_display = ("created_at", "user", "kind", "expires_at", "used_at")
    list_filter = ("kind",)
    search_fields = ("user__email",)
    fields = ("user", "kind", "expires_at", "used_at", "failed_attempts", "created_at")
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields
