from __future__ import annotations

import base64
import binascii

from rest_framework import serializers

from branding.images import ALLOWED_CONTENT_TYPES
from porta.api.serializers import ReadSerializer, StrictSerializer, TimestampField


class BrandingAssetSerializer(ReadSerializer):
    """An asset's description (its bytes are served by ``GET …/branding/{type}``)."""

    id = serializers.UUIDField()
    organizationId = serializers.UUIDField(source="organization_id")
    assetType = serializers.CharField(source="asset_type")
    contentType = serializers.CharField(source="content_type")
    fileSize = serializers.IntegerField(source="file_size")
    sha256 = serializers.CharField()
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")


class BrandingAssetListSerializer(serializers.Serializer):
    data = BrandingAssetSerializer(many=True)


class BrandingAssetUploadSerializer(StrictSerializer):
    data = serializers.CharField(help_text="The image, base64-encoded (standard alphabet, padded)")
    contentType = serializers.CharField(
        required=False,
        help_text=f"Optional; must match the bytes. One of: {', '.join(ALLOWED_CONTENT_TYPES)}",
    )

    def validate_data(self, value: str) -> bytes:
        try:
            decoded = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise serializers.ValidationError("Must be base64 (standard alphabet, padded).") from exc
        if not decoded:
            raise serializers.ValidationError("Must not be empty.")
        return decoded
