from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jobs.models import JobStatus
from porta.api.serializers import ReadSerializer, TimestampField


class JobProgressSerializer(ReadSerializer):
    """How many items are done, of ``total`` (null until the job has counted them)."""

    done = serializers.IntegerField(source="progress_done")
    total = serializers.IntegerField(source="progress_total", allow_null=True)


class JobActorSerializer(ReadSerializer):
    """Who started the job; the job's audit entries name them too."""

    type = serializers.CharField(source="actor_type")
    id = serializers.UUIDField(source="actor_id", allow_null=True)
    label = serializers.CharField(source="actor_label")


class JobFileSerializer(ReadSerializer):
    """The job's file, kept until ``expiresAt``."""

    name = serializers.CharField(source="file_name")
    contentType = serializers.CharField(source="file_content_type")
    size = serializers.IntegerField(source="file_size", allow_null=True)
    expiresAt = TimestampField(source="file_expires_at", allow_null=True)
    downloadUrl = serializers.SerializerMethodField()

    def get_downloadUrl(self, job) -> str:  # noqa: N802 - the wire name
        return f"/api/admin/jobs/{job.id}/download"


class _Nested(serializers.Field):
    """Fields of the job itself, grouped under one key by ``serializer``; None when ``present``
    says the group is absent."""

    serializer: type[ReadSerializer]

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def present(self, job) -> bool:
        return True

    def get_attribute(self, instance):
        return instance if self.present(instance) else None

    def to_representation(self, value):
        return self.serializer.represent(value)


@extend_schema_field(JobProgressSerializer)
class _ProgressField(_Nested):
    serializer = JobProgressSerializer


@extend_schema_field(JobActorSerializer)
class _ActorField(_Nested):
    serializer = JobActorSerializer


@extend_schema_field(JobFileSerializer(allow_null=True))
class _FileField(_Nested):
    """The job's file while it is kept, else null."""

    serializer = JobFileSerializer

    def present(self, job) -> bool:
        return bool(job.file)


class JobSerializer(ReadSerializer):
    """A job: what it was asked (``kind``, ``parameters``), how far it got (``status``,
    ``progress``), how it ended (``result`` or ``error``), who started it and its file."""

    id = serializers.UUIDField()
    kind = serializers.CharField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    progress = _ProgressField()
    parameters = serializers.JSONField()
    result = serializers.JSONField(allow_null=True)
    error = serializers.SerializerMethodField()
    organizationId = serializers.UUIDField(source="organization_id", allow_null=True)
    createdBy = _ActorField()
    requestId = serializers.CharField(source="request_id")
    attempts = serializers.IntegerField()
    file = _FileField(allow_null=True)
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")
    startedAt = TimestampField(source="started_at", allow_null=True)
    finishedAt = TimestampField(source="finished_at", allow_null=True)

    def get_error(self, job) -> str | None:
        return job.error or None


class JobAcceptedSerializer(serializers.Serializer):
    """202 answer of a request handed to a job: follow it at ``/api/admin/jobs/{jobId}``."""

    jobId = serializers.UUIDField()
