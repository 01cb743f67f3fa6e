from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from apikeys import usage
from porta.api.serializers import ReadSerializer, StrictSerializer, TimestampField


class ApiKeySerializer(ReadSerializer):
    """A key's metadata: never the secret nor its hash. ``lastUsedAt`` includes uses noted in
    Redis and not yet flushed to the database (apikeys.usage)."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    organizationId = serializers.UUIDField(source="organization_id", allow_null=True)
    roles = serializers.ListField(child=serializers.CharField())
    prefix = serializers.CharField()
    lastFour = serializers.CharField(source="last_four")
    status = serializers.SerializerMethodField()
    createdAt = TimestampField(source="created_at")
    expiresAt = TimestampField(source="expires_at", allow_null=True)
    lastUsedAt = TimestampField(source="last_used_at", allow_null=True)
    revokedAt = TimestampField(source="revoked_at", allow_null=True)
    createdBy = serializers.UUIDField(source="created_by_id", allow_null=True)

    def get_status(self, obj) -> str:
        if obj.revoked_at is not None:
            return "revoked"
        if obj.expires_at is not None and obj.expires_at <= timezone.now():
            return "expired"
        return "active"

    @classmethod
    def represent_many(cls, instances) -> list[dict]:
        rows = list(instances)
        noted = usage.pending(row.id for row in rows)
        for row in rows:
            used_at = noted.get(row.id)
            if used_at is not None and (row.last_used_at is None or row.last_used_at < used_at):
                row.last_used_at = used_at
        return [super(ApiKeySerializer, cls).represent(row) for row in rows]

    @classmethod
    def represent(cls, instance) -> dict:
        return cls.represent_many([instance])[0]


class ApiKeyCreateSerializer(StrictSerializer):
    name = serializers.CharField(min_length=1, max_length=200)
    #: Required, so that forgetting it can never mint a global key: send null for one.
    organizationId = serializers.UUIDField(source="organization_id", allow_null=True)
    roles = serializers.ListField(child=serializers.CharField(max_length=100), max_length=50)
    expiresAt = serializers.DateTimeField(source="expires_at", required=False, allow_null=True)


class ApiKeyCreatedSerializer(serializers.Serializer):
    apiKey = ApiKeySerializer()
    secret = serializers.CharField()
    warning = serializers.CharField()
