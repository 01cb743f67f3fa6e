"""Reads of users."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from organizations.models import User


def users() -> QuerySet[User]:
    return User.objects.all()


def user_export(user: User) -> dict[str, Any]:
    """Everything Porta holds about a user (GDPR Art. 15/20): profile, organization, roles,
    custom claim values, login sessions and the audit entries about them. Never a hash."""
    from applications.api.claim_serializers import ClaimValueSerializer
    from applications.models import ClaimValue
    from audit.api.serializers import AuditEntrySerializer
    from audit.models import AuditEntry
    from oidc.api.serializers import SessionSerializer
    from oidc.models import Session
    from organizations.api.user_serializers import UserSerializer
    from porta.api.serializers import iso_ms
    from rbac.models import UserRole

    roles = [
        {
            "roleId": str(assignment.role_id),
            "slug": assignment.role.slug,
            "name": assignment.role.name,
            "applicationId": str(assignment.role.application_id),
        }
        for assignment in UserRole.objects.filter(user=user).select_related("role")
    ]
    entries = AuditEntry.objects.filter(target_type="user", target_id=str(user.id)).order_by(
        "created_at", "id"
    )
    organization = user.organization
    return {
        "profile": UserSerializer.represent(user),
        "organization": {"id": str(organization.id), "name": organization.name, "slug": organization.slug},
        "roles": roles,
        "claimValues": ClaimValueSerializer.represent_many(
            ClaimValue.objects.filter(user=user).select_related("claim").order_by("created_at", "id")
        ),
        "auditEntries": AuditEntrySerializer.represent_many(entries),
        "sessions": SessionSerializer.represent_many(
            Session.objects.filter(user=user).order_by("created_at")
        ),
        "exportedAt": iso_ms(timezone.now()),
    }
