from django.contrib import admin

from porta.api.modeladmin import ReadOnlyModelAdmin
from stats.models import Tally


@admin.register(Tally)
class TallyAdmin(ReadOnlyModelAdmin):
    """The folded tallies behind /stats, for inspection; only the triggers and the fold write them."""

    list_display = ("metric", "label", "organization_id", "bucket", "n")
    list_filter = ("metric",)
    search_fields = ("organization_id", "metric", "label")
    ordering = ("metric", "organization_id", "label", "-bucket")
