from django.contrib import admin

from audit.models import AuditEntry
from porta.api.modeladmin import ReadOnlyModelAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyModelAdmin):
    """Read-only: the trail is append-only, the admin can only browse it."""

    list_display = ("created_at", "event_type", "actor_label", "target_type", "target_id", "organization_id")
    list_filter = ("event_type", "actor_type", "target_type")
    search_fields = ("event_type", "target_id", "actor_label", "request_id")
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]
