"""Writes of branding assets: upsert and delete, each audited in its transaction."""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction

from audit.writes import Audited, wire_fields
from branding.images import validated_image
from branding.models import BrandingAsset
from organizations.models import Organization
from porta.core.context import Actor

#: Entries name the organization (so they are in its history) and the asset type.
AUDITED = Audited(
    target_type="organization",
    fields=wire_fields("content_type", "file_size", "sha256"),
    organization=lambda asset: asset.organization_id,
    target_id=lambda asset: asset.organization_id,
    metadata=lambda asset: {"assetType": asset.asset_type},
)


@transaction.atomic
def branding_asset_put(
    *, actor: Actor, organization: Organization, asset_type: str, data: bytes, content_type: str | None
) -> tuple[BrandingAsset, bool]:
    """Store ``data`` as the organization's ``asset_type``, replacing the one there. Returns the
    asset and whether it was created. Refused (nothing stored) unless ``validated_image`` passes."""
    stored_type = validated_image(asset_type=asset_type, data=data, declared=content_type)
    digest = hashlib.sha256(data).hexdigest()
    fields = {"content_type": stored_type, "data": data, "file_size": len(data), "sha256": digest}
    asset = (
        BrandingAsset.objects.select_for_update()
        .filter(organization=organization, asset_type=asset_type)
        .first()
    )
    if asset is None:
        try:
            with transaction.atomic():
                asset = BrandingAsset.objects.create(
                    organization=organization, asset_type=asset_type, **fields
                )
        except IntegrityError:  # a concurrent first upload won the insert: replace it instead
            asset = BrandingAsset.objects.select_for_update().get(
                organization=organization, asset_type=asset_type
            )
        else:
            AUDITED.record_created("org.branding_asset.uploaded", actor=actor, row=asset)
            return asset, True
    with AUDITED.change("org.branding_asset.uploaded", actor=actor, row=asset):
        for name, value in fields.items():
            setattr(asset, name, value)
        asset.save()
    return asset, False


@transaction.atomic
def branding_asset_delete(*, actor: Actor, asset: BrandingAsset) -> None:
    asset = BrandingAsset.objects.select_for_update().get(pk=asset.pk)
    AUDITED.record_deleted("org.branding_asset.deleted", actor=actor, row=asset)
    asset.delete()
