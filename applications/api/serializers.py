from __future__ import annotations

from rest_framework import serializers

from porta.api.serializers import ReadSerializer, StrictSerializer, TimestampField


class ApplicationSerializer(ReadSerializer):
    """The wire representation of an application."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")


class ModuleSerializer(ReadSerializer):
    """The wire representation of a module of an application."""

    id = serializers.UUIDField()
    applicationId = serializers.UUIDField(source="application_id")
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")


class _NameAndDescription(StrictSerializer):
    ignored_fields = frozenset({"id", "createdAt", "updatedAt", "status", "applicationId"})

    name = serializers.CharField(min_length=1, max_length=255)
    description = serializers.CharField(max_length=2000, allow_null=True, allow_blank=True, required=False)


class ApplicationCreateSerializer(_NameAndDescription):
    slug = serializers.CharField(min_length=3, max_length=100, required=False)


class ApplicationUpdateSerializer(_NameAndDescription):
    name = serializers.CharField(min_length=1, max_length=255, required=False)
    slug = serializers.CharField(max_length=100, required=False)


class ModuleCreateSerializer(ApplicationCreateSerializer):
    pass


class ModuleUpdateSerializer(ApplicationUpdateSerializer):
    pass
