"""Reads of issued API keys (the verification hot path is ``issuedkeys.verification``)."""

from __future__ import annotations

from django.db.models import QuerySet

from issuedkeys.models import IssuedApiKey


def issued_api_keys() -> QuerySet[IssuedApiKey]:
    """Every field the API shows is on the row itself: no join needed."""
    return IssuedApiKey.objects.all()
