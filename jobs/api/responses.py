"""What a view answers when it hands work to a job: 202 ``{"jobId": …}`` with the job's URL."""

from __future__ import annotations

from rest_framework import status as http
from rest_framework.response import Response

from jobs.models import Job


def job_accepted(job: Job) -> Response:
    return Response(
        {"jobId": str(job.id)},
        status=http.HTTP_202_ACCEPTED,
        headers={"Location": f"/api/admin/jobs/{job.id}"},
    )
