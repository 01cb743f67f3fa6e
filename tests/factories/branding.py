"""Branding assets (``tests/test_branding.py`` uploads real ones through the API)."""

from __future__ import annotations

import hashlib

import factory

from branding.models import BrandingAsset
from tests.factories.organizations import OrganizationFactory

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


class BrandingAssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BrandingAsset

    organization = factory.SubFactory(OrganizationFactory)
    asset_type = "logo"
    content_type = "image/png"
    data = PNG_BYTES
    file_size = len(PNG_BYTES)
    sha256 = hashlib.sha256(PNG_BYTES).hexdigest()
