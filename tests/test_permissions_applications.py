"""The permission suite (tests/permission_suite.py) applied to applications and their modules."""

from __future__ import annotations

import pytest

from applications.api.views import ApplicationViewSet, ModuleViewSet
from applications.models import Application, ApplicationStatus, Module, ModuleStatus
from tests.permission_suite import Endpoint, PermissionSuite

APPS = "/api/admin/applications"
MODULES = f"{APPS}/{{id}}/modules"


def _set_status(status: str):
    def prepare(params: dict[str, str]) -> None:
        Application.objects.filter(pk=params["id"]).update(status=status)

    return prepare


class TestApplicationPermissions(PermissionSuite):
    viewsets = (ApplicationViewSet, ModuleViewSet)
    endpoints = (
        Endpoint("GET", APPS, "admin:app:read", expect=200),
        Endpoint(
            "POST", APPS, "admin:app:create", body={"name": "Brand New", "slug": "brand-new"}, expect=201
        ),
        Endpoint("GET", f"{APPS}/{{id}}", "admin:app:read", expect=200),
        Endpoint("PUT", f"{APPS}/{{id}}", "admin:app:update", body={"name": "Renamed"}, expect=200),
        Endpoint("POST", f"{APPS}/{{id}}/archive", "admin:app:archive", expect=200),
        Endpoint(
            "POST",
            f"{APPS}/{{id}}/activate",
            "admin:app:update",
            expect=200,
            prepare=_set_status(ApplicationStatus.INACTIVE),
        ),
        Endpoint("POST", f"{APPS}/{{id}}/deactivate", "admin:app:update", expect=200),
        Endpoint("GET", f"{APPS}/{{id}}/history", "admin:app:read", expect=200),
        Endpoint("GET", MODULES, "admin:app:read", expect=200),
        Endpoint("POST", MODULES, "admin:app:update", body={"name": "Reporting"}, expect=201),
        Endpoint("GET", f"{MODULES}/{{moduleId}}", "admin:app:read", expect=200),
        Endpoint("PUT", f"{MODULES}/{{moduleId}}", "admin:app:update", body={"name": "Renamed"}, expect=200),
        Endpoint("POST", f"{MODULES}/{{moduleId}}/deactivate", "admin:app:update", expect=200),
    )

    @pytest.fixture
    def path_params(self, initialized) -> dict[str, str]:
        application = Application.objects.create(name="Target", slug="target-app")
        module = Module.objects.create(
            application=application, name="Billing", slug="billing", status=ModuleStatus.ACTIVE
        )
        return {"id": str(application.id), "moduleId": str(module.id)}
