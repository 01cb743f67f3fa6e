from __future__ import annotations

from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer

from jobs import selectors, services
from jobs.api.serializers import JobSerializer
from jobs.filtersets import JobFilterSet
from porta.api.renderers import JSONRenderer
from porta.api.schema import collection, list_parameters
from porta.api.viewsets import PortaViewSet
from porta.core.errors import NotFound


class AnyMediaRenderer(BaseRenderer):
    """Lets a download be asked for with any ``Accept`` (``text/csv``, ``application/octet-stream``):
    the file answers as it is; errors are JSON whatever was asked."""

    media_type = "*/*"
    format = "file"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class JobViewSet(PortaViewSet):
    """Jobs (bulk changes, exports, imports run by a worker), newest first. A credential scoped to
    one organization sees and cancels that organization's jobs only."""

    queryset = selectors.jobs()
    organization_field = "organization_id"
    permission_map = {
        "list": "admin:job:read",
        "retrieve": "admin:job:read",
        "download": "admin:job:read",
        "cancel": "admin:job:cancel",
    }
    sort_fields = {"createdAt": "created_at", "updatedAt": "updated_at", "kind": "kind", "status": "status"}
    filterset_class = JobFilterSet
    output_serializer_class = JobSerializer
    serializer_class = JobSerializer
    not_found_message = "Job not found"

    def scoped_queryset(self) -> QuerySet:
        return selectors.jobs()

    @extend_schema(parameters=list_parameters(JobFilterSet), responses=collection(JobSerializer))
    def list(self, request):
        """Jobs, newest first; filters `status`, `kind`, `organizationId`, `actorId`, `since`,
        `until`; page or cursor mode."""
        return self.list_response()

    @extend_schema(responses=JobSerializer)
    def retrieve(self, request, pk=None):
        """One job: status, progress `{done, total}`, result or error, and its file if any."""
        return self.detail_response(self.get_object())

    @extend_schema(request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a queued or running job (409 once finished). A running job stops before its
        next chunk; what earlier chunks did stays done."""
        job = services.job_cancel(actor=self.principal.actor, job=self.get_object())
        return self.detail_response(job)

    @extend_schema(
        responses={
            (200, "*/*"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The job's file, as an attachment, with its own content type"
            )
        }
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, AnyMediaRenderer])
    def download(self, request, pk=None):
        """The job's file (an export's CSV or JSON): 404 when the job has none, or no longer
        (deleted after PORTA_JOB_FILE_RETENTION)."""
        job = self.get_object()
        # exists() first: a bucket's file opens lazily, and a failure mid-stream is no answer.
        if not job.file or not job.file.storage.exists(job.file.name):
            raise NotFound("Job file not found")
        handle = job.file.open("rb")
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=job.file_name or job.file.name.rsplit("/", 1)[-1],
            content_type=job.file_content_type or "application/octet-stream",
        )
        response["Cache-Control"] = "private, no-store"
        return response
