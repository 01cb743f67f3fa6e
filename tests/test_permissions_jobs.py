"""The permission suite (tests/permission_suite.py) applied to jobs: reading (list, one, download)
requires admin:job:read, cancelling admin:job:cancel."""

from __future__ import annotations

import pytest

from jobs.api.views import JobViewSet
from tests.factories import JobFactory
from tests.permission_suite import Endpoint, PermissionSuite

JOBS = "/api/admin/jobs"


class TestJobPermissions(PermissionSuite):
    viewsets = (JobViewSet,)
    endpoints = (
        Endpoint("GET", JOBS, "admin:job:read", expect=200),
        Endpoint("GET", f"{JOBS}?status=queued&kind=testing.count", "admin:job:read", expect=200),
        Endpoint("GET", f"{JOBS}/{{id}}", "admin:job:read", expect=200),
        # No file yet: the permission lets the caller through to the 404 of the missing file.
        Endpoint("GET", f"{JOBS}/{{id}}/download", "admin:job:read", expect=404),
        Endpoint("POST", f"{JOBS}/{{id}}/cancel", "admin:job:cancel", expect=200),
    )

    @pytest.fixture
    def path_params(self, initialized) -> dict[str, str]:
        return {"id": str(JobFactory().id)}
