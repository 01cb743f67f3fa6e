from __future__ import annotations

from rest_framework import serializers

from applications.models import ClaimType
from porta.api.serializers import ReadSerializer, StrictSerializer, TimestampField


class ClaimDefinitionSerializer(ReadSerializer):
    """The wire representation of a custom claim definition."""

    id = serializers.UUIDField()
    applicationId = serializers.UUIDField(source="application_id")
    claimName = serializers.CharField(source="name")
    claimType = serializers.CharField(source="claim_type")
    description = serializers.CharField(allow_null=True)
    includeInIdToken = serializers.BooleanField(source="include_in_id_token")
    includeInAccessToken = serializers.BooleanField(source="include_in_access_token")
    includeInUserinfo = serializers.BooleanField(source="include_in_userinfo")
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")


class ClaimValueSerializer(ReadSerializer):
    """The value of one claim for one user."""

    id = serializers.UUIDField()
    claimId = serializers.UUIDField(source="claim_id")
    claimName = serializers.CharField(source="claim.name")
    claimType = serializers.CharField(source="claim.claim_type")
    userId = serializers.UUIDField(source="user_id")
    value = serializers.JSONField()
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")


class _Flags(StrictSerializer):
    ignored_fields = frozenset({"id", "createdAt", "updatedAt", "applicationId"})

    description = serializers.CharField(max_length=1000, allow_null=True, allow_blank=True, required=False)
    includeInIdToken = serializers.BooleanField(source="include_in_id_token", required=False)
    includeInAccessToken = serializers.BooleanField(source="include_in_access_token", required=False)
    includeInUserinfo = serializers.BooleanField(source="include_in_userinfo", required=False)


class ClaimCreateSerializer(_Flags):
    claimName = serializers.CharField(source="name", min_length=1, max_length=255)
    claimType = serializers.ChoiceField(source="claim_type", choices=ClaimType.choices)


class ClaimUpdateSerializer(_Flags):
    claimName = serializers.CharField(source="name", max_length=255, required=False)
    claimType = serializers.CharField(source="claim_type", max_length=20, required=False)


class ClaimValueSetSerializer(StrictSerializer):
    """Any JSON value; it is checked against the claim's type by the service."""

    ignored_fields = frozenset(
        {"id", "createdAt", "updatedAt", "claimId", "claimName", "claimType", "userId"}
    )

    value = serializers.JSONField(allow_null=True)


def user_claim_values_export(user) -> list[dict]:
    """The ``claimValues`` section of a user's export (organizations.api.user_export)."""
    from applications.selectors.claims import all_values_of_user

    return ClaimValueSerializer.represent_many(all_values_of_user(user.id))
