"""Issuer URLs: every organization is its own OIDC issuer at ``<PUBLIC_URL>/<orgSlug>``."""

from __future__ import annotations

from django.conf import settings

ADMIN_API_AUDIENCE_PATH = "/api/admin"


def issuer_for(org_slug: str) -> str:
    return f"{settings.PORTA_PUBLIC_URL}/{org_slug}"
