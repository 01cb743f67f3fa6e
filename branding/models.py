from __future__ import annotations

from django.db import models

from porta.core.db import TimestampedModel
from porta.core.ids import uuid7


class BrandingAssetType(models.TextChoices):
    LOGO = "logo"
    FAVICON = "favicon"


class BrandingAsset(TimestampedModel):
    """An organization's logo or favicon, stored in the database (a few hundred KiB at most) so
    every web node serves it without shared storage. The type was checked by its bytes
    (``branding.images``)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="branding_assets"
    )
    asset_type = models.CharField(max_length=20, choices=BrandingAssetType.choices)
    content_type = models.CharField(max_length=50)
    data = models.BinaryField()
    file_size = models.PositiveIntegerField()
    #: Hex SHA-256 of ``data``: the asset's ETag, and what audit entries name instead of the bytes.
    sha256 = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "asset_type"], name="branding_asset_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.asset_type} of {self.organization_id} ({self.content_type}, {self.file_size} B)"
