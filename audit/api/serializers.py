from __future__ import annotations

from rest_framework import serializers

from porta.api.serializers import ReadSerializer, TimestampField


class AuditEntrySerializer(ReadSerializer):
    id = serializers.UUIDField()
    eventType = serializers.CharField(source="event_type")
    actorType = serializers.CharField(source="actor_type")
    actorId = serializers.UUIDField(source="actor_id", allow_null=True)
    actorLabel = serializers.CharField(source="actor_label")
    organizationId = serializers.UUIDField(source="organization_id", allow_null=True)
    targetType = serializers.CharField(source="target_type")
    targetId = serializers.CharField(source="target_id")
    metadata = serializers.JSONField()
    ipAddress = serializers.CharField(source="ip_address", allow_null=True)
    userAgent = serializers.CharField(source="user_agent")
    requestId = serializers.CharField(source="request_id")
    createdAt = TimestampField(source="created_at")
