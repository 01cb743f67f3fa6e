from django.contrib import admin

from applications.models import Application, Client, Module
from porta.admin import ReadOnlyModelAdmin


@admin.register(Application)
class ApplicationAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "slug", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "slug", "description")


@admin.register(Module)
class ModuleAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "slug", "application", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "slug", "application__slug")
    list_select_related = ("application",)


@admin.register(Client)
class ClientAdmin(ReadOnlyModelAdmin):
    list_display = ("client_name", "client_id", "organization", "application", "status")
    list_filter = ("status", "client_type")
    search_fields = ("client_name", "client_id")
    list_select_related = ("organization", "application")
