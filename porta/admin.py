"""Shared Django admin building blocks."""

from django.contrib import admin


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Browse and search only. Rows change through the API's services (rules, audit), not here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
