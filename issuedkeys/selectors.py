"""Reads of issued API keys (the verification hot path is ``issuedkeys.verification``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from issuedkeys.models import IssuedApiKey

if TYPE_CHECKING:
    from organizations.models import Organization


def issued_api_keys() -> QuerySet[IssuedApiKey]:
    """Every field the API shows is on the row itself: no join needed."""
    return IssuedApiKey.objects.all()


def issued_api_key_count_of(organization: Organization) -> int:
    """Keys an organization delete removes (revoked ones included: the rows go)."""
    return IssuedApiKey.objects.filter(organization_id=organization.id).count()
