from django.contrib import admin

from courier.models import Message
from porta.api.modeladmin import ReadOnlyModelAdmin


@admin.register(Message)
class MessageAdmin(ReadOnlyModelAdmin):
    """Read-only: messages are written by the courier only."""

    list_display = ("created_at", "recipient", "template", "status", "send_count", "sent_at")
    list_filter = ("status", "template")
    search_fields = ("recipient",)
    show_full_result_count = False

    #: The bodies are encrypted (they can carry invitation links): never shown here.
    exclude = ("body_ciphertext", "kek_id")

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields if field.name not in self.exclude]
