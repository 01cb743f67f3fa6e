"""Jobs: long work (bulk changes, exports, imports) run by a Celery worker. The row is the truth
about a job — what it is, how far it got, how it ended — whatever happens to the broker."""

from __future__ import annotations

from django.db import models

from porta.core.context import Actor
from porta.core.db import TimestampedModel
from porta.core.ids import uuid7


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


def _job_storage():
    # Resolved at use, not at import: STORAGES may name S3 (see jobs.storage).
    from jobs.storage import job_storage

    return job_storage()


def _file_path(job: Job, filename: str) -> str:
    return f"jobs/{job.id}/{filename}"


class Job(TimestampedModel):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    #: A kind from the registry (jobs.registry), e.g. ``bulk.users.status``.
    kind = models.CharField(max_length=100)
    #: What the job was asked to do (JSON, as the caller validated it); never a secret.
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress_done = models.BigIntegerField(default=0)
    #: None until the handler knows how much there is.
    progress_total = models.BigIntegerField(null=True, blank=True)
    #: The handler's checkpoint (e.g. the last id it finished), committed with each chunk, so a
    #: redelivered job resumes where the dead worker stopped. Not on the wire.
    state = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    #: Who started it: the runner acts as them, so audit entries the job writes name them.
    actor_type = models.CharField(max_length=20, default="system")
    actor_id = models.UUIDField(null=True, blank=True)
    actor_label = models.CharField(max_length=255, blank=True, default="")
    #: No foreign key (like audit and courier): a job's record outlives its organization.
    #: None: a job over every organization, started by a global credential.
    organization_id = models.UUIDField(null=True, blank=True)
    #: The X-Request-ID of the request that started it; the job's audit entries carry it too.
    request_id = models.CharField(max_length=200, blank=True, default="")
    #: How many times a worker has started it (more than one: redelivered after a worker died).
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to=_file_path, storage=_job_storage, max_length=500, blank=True)
    file_name = models.CharField(max_length=255, blank=True, default="")
    file_content_type = models.CharField(max_length=100, blank=True, default="")
    file_size = models.BigIntegerField(null=True, blank=True)
    #: When the retention task deletes the file (jobs.services.jobs_purge_expired).
    file_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at", "id"], name="job_created_idx"),
            models.Index(fields=["organization_id", "created_at", "id"], name="job_org_created_idx"),
            models.Index(fields=["status", "updated_at"], name="job_status_updated_idx"),
            models.Index(fields=["kind", "created_at"], name="job_kind_created_idx"),
            models.Index(fields=["file_expires_at"], name="job_file_expires_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.status})"

    @property
    def actor(self) -> Actor:
        return Actor(type=self.actor_type, id=self.actor_id, label=self.actor_label)

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED
