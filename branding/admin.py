from django.contrib import admin

from branding.models import BrandingAsset
from porta.api.modeladmin import ReadOnlyModelAdmin


@admin.register(BrandingAsset)
class BrandingAssetAdmin(ReadOnlyModelAdmin):
    """Uploaded logos and favicons (uploaded and deleted through the API, which checks and audits
    them); the bytes are not shown here."""

    list_display = ("organization", "asset_type", "content_type", "file_size", "updated_at")
    list_filter = ("asset_type", "content_type")
    search_fields = ("organization__name", "organization__slug", "sha256")
    list_select_related = ("organization",)
    exclude = ("data",)
