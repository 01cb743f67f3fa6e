"""Reads of organizations."""

from __future__ import annotations

from django.db.models import QuerySet

from organizations.models import Organization


def organizations() -> QuerySet[Organization]:
    return Organization.objects.all()


def super_admin_organization() -> Organization | None:
    return Organization.objects.filter(is_super_admin=True).first()


def organization_by_slug(slug: str) -> Organization | None:
    return Organization.objects.filter(slug=slug).first()
