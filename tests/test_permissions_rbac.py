"""The permission suite (tests/permission_suite.py) applied to application permissions."""

from __future__ import annotations

import pytest

from applications.models import Application
from rbac.api.views import PermissionViewSet
from rbac.models import Permission
from tests.permission_suite import Endpoint, PermissionSuite

PERMISSIONS = "/api/admin/applications/{id}/permissions"


class TestRbacPermissions(PermissionSuite):
    viewsets = (PermissionViewSet,)
    endpoints = (
        Endpoint("GET", PERMISSIONS, "admin:permission:read", expect=200),
        Endpoint(
            "POST",
            PERMISSIONS,
            "admin:permission:create",
            body={"name": "Read orders", "slug": "shop:orders:read"},
            expect=201,
        ),
        Endpoint("GET", f"{PERMISSIONS}/{{permissionId}}", "admin:permission:read", expect=200),
        Endpoint(
            "PUT",
            f"{PERMISSIONS}/{{permissionId}}",
            "admin:permission:create",
            body={"name": "X"},
            expect=200,
        ),
        Endpoint("DELETE", f"{PERMISSIONS}/{{permissionId}}", "admin:permission:archive", expect=204),
    )

    @pytest.fixture
    def path_params(self, initialized) -> dict[str, str]:
        application = Application.objects.create(name="Target", slug="target-app")
        permission = Permission.objects.create(
            application=application, name="Write", slug="shop:orders:write"
        )
        return {"id": str(application.id), "permissionId": str(permission.id)}
