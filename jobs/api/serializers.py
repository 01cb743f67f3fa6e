from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from porta.api.serializers import ReadSerializer, TimestampField


class JobProgressSerializer(ReadSerializer):
    done = serializers.IntegerField(source="progress_done")
    total = serializers.IntegerField(source="progress_total", allow_null=True)


class JobActorSerializer(ReadSerializer):
    type = serializers.CharField(source="actor_type")
    id = serializers.UUIDField(source="actor_id", allow_null=True)
    label = serializers.CharField(source="actor_label")


class JobFileSerializer(ReadSerializer):
    name = serializers.CharField(source="file_name")
    contentType = serializers.CharField(source="file_content_type")
    size = serializers.IntegerField(source="file_size", allow_null=True)
    expiresAt = TimestampField(source="file_expires_at", allow_null=True)
    downloadUrl = serializers.SerializerMethodField()

    def get_downloadUrl(self, job) -> str:  # noqa: N802 - the wire name
        return f"/api/admin/jobs/{job.id}/download"


class _Nested(serializers.Field):
    """Fields of the job itself, grouped under one key by ``serializer``."""

    def __init__(self, serializer: type[ReadSerializer], *, when=None, **kwargs):
        self.serializer = serializer
        self.when = when
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance):
        return instance if self.when is None or self.when(instance) else None

    def to_representation(self, value):
        return self.serializer.represent(value)


class JobSerializer(ReadSerializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    status = serializers.CharField()
    progress = extend_schema_field(JobProgressSerializer)(_Nested)(JobProgressSerializer)
    parameters = serializers.JSONField()
    result = serializers.JSONField(allow_null=True)
    error = serializers.SerializerMethodField()
    organizationId = serializers.UUIDField(source="organization_id", allow_null=True)
    createdBy = extend_schema_field(JobActorSerializer)(_Nested)(JobActorSerializer)
    requestId = serializers.CharField(source="request_id")
    attempts = serializers.IntegerField()
    file = extend_schema_field(JobFileSerializer(allow_null=True))(_Nested)(
        JobFileSerializer, when=lambda job: bool(job.file), allow_null=True
    )
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")
    startedAt = TimestampField(source="started_at", allow_null=True)
    finishedAt = TimestampField(source="finished_at", allow_null=True)

    def get_error(self, job) -> str | None:
        return job.error or None


class JobAcceptedSerializer(serializers.Serializer):
    jobId = serializers.UUIDField()
