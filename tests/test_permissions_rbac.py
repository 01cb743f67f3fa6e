"""The permission suite (tests/permission_suite.py) applied to application roles and permissions."""

from __future__ import annotations

import pytest

from applications.models import Application
from rbac.api.role_views import RoleViewSet
from rbac.api.views import PermissionViewSet
from rbac.models import Permission, Role
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
        Endpoint("GET", f"{PERMISSIONS}/{{permissionId}}/roles", "admin:permission:read", expect=200),
    )

    @pytest.fixture
    def path_params(self, initialized) -> dict[str, str]:
        application = Application.objects.create(name="Target", slug="target-app")
        permission = Permission.objects.create(
            application=application, name="Write", slug="shop:orders:write"
        )
        return {"id": str(application.id), "permissionId": str(permission.id)}


ROLES = "/api/admin/applications/{id}/roles"
ROLE = f"{ROLES}/{{roleId}}"


def _permission_ids(ids: dict[str, str]) -> dict[str, list[str]]:
    return {"permissionIds": [ids["permissionId"]]}


class TestRbacRoles(PermissionSuite):
    viewsets = (RoleViewSet,)
    endpoints = (
        Endpoint("GET", ROLES, "admin:role:read", expect=200),
        Endpoint("POST", ROLES, "admin:role:create", body={"name": "Editor"}, expect=201),
        Endpoint("GET", ROLE, "admin:role:read", expect=200),
        Endpoint("PUT", ROLE, "admin:role:update", body={"name": "Renamed"}, expect=200),
        Endpoint("DELETE", ROLE, "admin:role:archive", expect=204),
        Endpoint("GET", f"{ROLE}/permissions", "admin:role:read", expect=200),
        Endpoint(
            "PUT", f"{ROLE}/permissions", "admin:role:update", body=_permission_ids, expect=204,
            not_found_exempt=("permissionId",),
        ),
        Endpoint(
            "DELETE", f"{ROLE}/permissions", "admin:role:update", body=_permission_ids, expect=204,
            not_found_exempt=("permissionId",),
        ),
        Endpoint("GET", f"{ROLE}/users", "admin:role:read", expect=200),
    )  # fmt: skip

    @pytest.fixture
    def path_params(self, initialized) -> dict[str, str]:
        application = Application.objects.create(name="Target", slug="target-app")
        role = Role.objects.create(application=application, name="Viewer", slug="viewer")
        permission = Permission.objects.create(
            application=application, name="Write", slug="shop:orders:write"
        )
        return {"id": str(application.id), "roleId": str(role.id), "permissionId": str(permission.id)}
