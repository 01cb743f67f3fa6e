from __future__ import annotations

from rest_framework import serializers

from porta.api.serializers import ReadSerializer, StrictSerializer, TimestampField


class PermissionSerializer(ReadSerializer):
    """The wire representation of a permission of an application."""

    id = serializers.UUIDField()
    applicationId = serializers.UUIDField(source="application_id")
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")


class PermissionCreateSerializer(StrictSerializer):
    ignored_fields = frozenset({"id", "createdAt", "updatedAt", "applicationId"})

    name = serializers.CharField(min_length=1, max_length=255)
    slug = serializers.CharField(min_length=1, max_length=150)
    description = serializers.CharField(max_length=1000, allow_null=True, allow_blank=True, required=False)


class PermissionUpdateSerializer(PermissionCreateSerializer):
    name = serializers.CharField(min_length=1, max_length=255, required=False)
    slug = serializers.CharField(max_length=150, required=False)
