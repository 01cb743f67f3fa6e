from __future__ import annotations

from rest_framework import serializers

from porta.api.serializers import ReadSerializer, StrictSerializer, TimestampField


class SessionSerializer(ReadSerializer):
    id = serializers.UUIDField()
    userId = serializers.UUIDField(source="user_id")
    clientId = serializers.UUIDField(
        source="client_id", help_text="The client's id (a UUID), not its OAuth client_id"
    )
    organizationId = serializers.UUIDField(source="organization_id")
    ipAddress = serializers.CharField(source="ip_address", allow_null=True)
    userAgent = serializers.CharField(source="user_agent")
    active = serializers.BooleanField(help_text="Neither revoked nor expired")
    createdAt = TimestampField(source="created_at")
    lastActivityAt = TimestampField(source="last_activity_at")
    expiresAt = TimestampField(source="expires_at")
    revokedAt = TimestampField(source="revoked_at", allow_null=True)


class RevokedCountSerializer(serializers.Serializer):
    revoked = serializers.IntegerField(
        help_text="Sessions revoked by this call (those already inactive are not counted)"
    )


class EmptyBodySerializer(StrictSerializer):
    """No fields: an action that takes no body still refuses unknown fields."""


def user_sessions_export(user) -> list[dict]:
    """The ``sessions`` section of a user's export (organizations.api.user_export)."""
    from oidc.session_selectors import sessions_of_user

    return SessionSerializer.represent_many(sessions_of_user(user.id))
