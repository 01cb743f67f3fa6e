"""The permission suite (tests/permission_suite.py) applied to organizations and audit."""

from __future__ import annotations

import pytest

from audit.api.views import AuditViewSet
from audit.models import AuditEntry
from organizations.api.views import OrganizationViewSet
from organizations.models import Organization, OrganizationStatus
from tests.permission_suite import Endpoint, PermissionSuite

ORGS = "/api/admin/organizations"


def _set_status(status: str):
    def prepare(params: dict[str, str]) -> None:
        Organization.objects.filter(pk=params["id"]).update(status=status)

    return prepare


class TestOrganizationPermissions(PermissionSuite):
    viewsets = (OrganizationViewSet,)
    endpoints = (
        Endpoint("GET", ORGS, "admin:org:read", expect=200),
        Endpoint(
            "POST", ORGS, "admin:org:create", body={"name": "Brand New", "slug": "brand-new"}, expect=201
        ),
        Endpoint("GET", f"{ORGS}/validate-slug?slug=free-slug", "admin:org:read", expect=200),
        Endpoint("GET", f"{ORGS}/{{id}}", "admin:org:read", expect=200),
        Endpoint("PUT", f"{ORGS}/{{id}}", "admin:org:update", body={"name": "Renamed"}, expect=200),
        Endpoint("DELETE", f"{ORGS}/{{id}}", "admin:org:archive", expect=200),
        Endpoint(
            "PUT", f"{ORGS}/{{id}}/branding", "admin:org:update", body={"primaryColor": "#112233"}, expect=200
        ),
        Endpoint("POST", f"{ORGS}/{{id}}/suspend", "admin:org:suspend", expect=200),
        Endpoint(
            "POST",
            f"{ORGS}/{{id}}/activate",
            "admin:org:suspend",
            expect=200,
            prepare=_set_status(OrganizationStatus.SUSPENDED),
        ),
        Endpoint("POST", f"{ORGS}/{{id}}/archive", "admin:org:archive", expect=200),
        Endpoint(
            "POST",
            f"{ORGS}/{{id}}/restore",
            "admin:org:archive",
            expect=200,
            prepare=_set_status(OrganizationStatus.ARCHIVED),
        ),
        Endpoint("GET", f"{ORGS}/{{id}}/history", "admin:org:read", expect=200),
    )

    @pytest.fixture
    def path_params(self, initialized) -> dict[str, str]:
        return {"id": str(Organization.objects.create(name="Target", slug="target-org").id)}


class TestAuditPermissions(PermissionSuite):
    viewsets = (AuditViewSet,)
    endpoints = (
        Endpoint("GET", "/api/admin/audit", "admin:audit:read", expect=200),
        Endpoint("GET", "/api/admin/audit/{id}", "admin:audit:read", expect=200),
    )

    @pytest.fixture
    def path_params(self, initialized) -> dict[str, str]:
        # porta_init audits everything it creates.
        return {"id": str(AuditEntry.objects.first().id)}
