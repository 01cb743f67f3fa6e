"""What a view answers when it hands work to a job: 202 ``{"jobId": …}`` with the job's URL."""

from __future__ import annotations

import uuid
from typing import Any

from rest_framework import status as http
from rest_framework.response import Response

from jobs.models import Job
from jobs.services import job_enqueue
from porta.api.viewsets import PortaViewSet
from porta.core.errors import NotFound
from porta.core.ids import parse_uuid


def job_accepted(job: Job) -> Response:
    return Response(
        {"jobId": str(job.id)},
        status=http.HTTP_202_ACCEPTED,
        headers={"Location": f"/api/admin/jobs/{job.id}"},
    )


def enqueue_job(
    view: PortaViewSet, *, kind: str, parameters: dict[str, Any], organization_id: uuid.UUID | str | None
) -> Response:
    """Enqueue a job as the view's caller and answer 202. The job's organization keeps to the
    caller's scope: a credential scoped to one organization gets a job of that organization when
    it names none, and a 404 when it names another (as for any row named in a body)."""
    if organization_id is not None:
        organization_id = parse_uuid(str(organization_id))
        if organization_id is None:
            raise NotFound("Organization not found")
    scope = view.principal.scope_organization_id
    if scope is not None:
        if organization_id is None:
            organization_id = scope
        else:
            view.check_body_organization(organization_id)
    job = job_enqueue(
        kind=kind, actor=view.principal.actor, organization_id=organization_id, parameters=parameters
    )
    return job_accepted(job)
