"""A user's GDPR export (Art. 15/20): everything Porta holds about the user. Never a hash.

The shape is organizations' (``UserExportSerializer``); the sections holding other apps' data
(roles, claim values, sessions) are rendered by those apps, registered in
``organizations.extensions`` — an app that holds nothing about users yet exports an empty list.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from audit.api.serializers import AuditEntrySerializer
from audit.selectors import history_of
from organizations import extensions
from organizations.api.user_serializers import UserSerializer
from organizations.models import User
from porta.api.serializers import iso_ms


def _section(name: str, user: User) -> list[dict[str, Any]]:
    render = extensions.user_export_sections.get(name)
    return render(user) if render is not None else []


def user_export(user: User) -> dict[str, Any]:
    organization = user.organization
    return {
        "profile": UserSerializer.represent(user),
        "organization": {"id": str(organization.id), "name": organization.name, "slug": organization.slug},
        "roles": _section("roles", user),
        "claimValues": _section("claimValues", user),
        "auditEntries": AuditEntrySerializer.represent_many(
            history_of("user", user.id).order_by("created_at", "id")
        ),
        "sessions": _section("sessions", user),
        "exportedAt": iso_ms(timezone.now()),
    }
