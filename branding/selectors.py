from __future__ import annotations

from django.db.models import QuerySet

from branding.models import BrandingAsset


def branding_assets() -> QuerySet[BrandingAsset]:
    """Assets without their bytes (``data`` is read only when an asset is served)."""
    return BrandingAsset.objects.defer("data").order_by("asset_type")


def branding_asset_with_data() -> QuerySet[BrandingAsset]:
    return BrandingAsset.objects.all()
