"""The permission suite (tests/permission_suite.py) applied to users, nested and standalone."""

from __future__ import annotations

import pytest

from applications.models import Application
from organizations.api.user_views import OrganizationUserViewSet, UserViewSet
from organizations.models import Organization, User, UserStatus
from rbac.models import Role
from tests.permission_suite import Endpoint, PermissionSuite

USERS = "/api/admin/organizations/{orgId}/users"
ONE = f"{USERS}/{{id}}"
STANDALONE = "/api/admin/users/{id}"


def _set_status(status: str):
    def prepare(params: dict[str, str]) -> None:
        User.objects.filter(pk=params["id"]).update(status=status)

    return prepare


def _single_user_endpoints(base: str) -> tuple[Endpoint, ...]:
    return (
        Endpoint("GET", base, "admin:user:read", expect=200),
        Endpoint("PUT", base, "admin:user:update", body={"givenName": "Renamed"}, expect=200),
        Endpoint("POST", f"{base}/deactivate", "admin:user:suspend", expect=200),
        Endpoint(
            "POST", f"{base}/reactivate", "admin:user:suspend", expect=200,
            prepare=_set_status(UserStatus.INACTIVE),
        ),
        Endpoint("POST", f"{base}/suspend", "admin:user:suspend", body={"reason": "abuse"}, expect=200),
        Endpoint(
            "POST", f"{base}/unsuspend", "admin:user:suspend", expect=200,
            prepare=_set_status(UserStatus.SUSPENDED),
        ),
        Endpoint("POST", f"{base}/lock", "admin:user:suspend", body={"reason": "fraud"}, expect=200),
        Endpoint(
            "POST", f"{base}/unlock", "admin:user:suspend", expect=200, prepare=_set_status(UserStatus.LOCKED)
        ),
        Endpoint(
            "POST", f"{base}/password", "admin:user:update", body={"password": "new-password-1"}, expect=204
        ),
        Endpoint("DELETE", f"{base}/password", "admin:user:update", expect=204),
        Endpoint("POST", f"{base}/verify-email", "admin:user:update", expect=200),
        Endpoint("GET", f"{base}/export", "admin:user:read", expect=200),
        Endpoint("POST", f"{base}/purge", "admin:user:archive", body={"confirmPurge": True}, expect=200),
        Endpoint("GET", f"{base}/history", "admin:user:read", expect=200),
        Endpoint("GET", f"{base}/roles", "admin:role:read", expect=200),
        Endpoint(
            "PUT", f"{base}/roles", "admin:role:assign", body=lambda ids: {"roleIds": [ids["roleId"]]},
            expect=204, not_found_exempt=("roleId",),
        ),
        Endpoint(
            "DELETE", f"{base}/roles", "admin:role:assign", body=lambda ids: {"roleIds": [ids["roleId"]]},
            expect=204, not_found_exempt=("roleId",),
        ),
        Endpoint("GET", f"{base}/roles/permissions", "admin:role:read", expect=200),
    )  # fmt: skip


class TestUserPermissions(PermissionSuite):
    viewsets = (OrganizationUserViewSet, UserViewSet)
    endpoints = (
        Endpoint("GET", USERS, "admin:user:read", expect=200),
        Endpoint("POST", USERS, "admin:user:create", body={"email": "new@tenant.example"}, expect=201),
        Endpoint(
            "POST", f"{USERS}/batch", "admin:user:create",
            body={"users": [{"email": "b1@tenant.example"}]}, expect=200,
        ),
        Endpoint(
            "POST", f"{USERS}/invite", "admin:user:invite", body={"email": "inv@tenant.example"}, expect=201
        ),
        Endpoint(
            "POST", f"{USERS}/invite/preview", "admin:user:invite", body={"email": "inv@tenant.example"},
            expect=200,
        ),
        *_single_user_endpoints(ONE),
        *_single_user_endpoints(STANDALONE),
    )  # fmt: skip

    @pytest.fixture
    def path_params(self, initialized) -> dict[str, str]:
        organization = Organization.objects.create(name="Tenant", slug="tenant-users")
        user = User.objects.create(organization=organization, email="target@tenant.example")
        application = Application.objects.create(name="Shop", slug="shop-users")
        role = Role.objects.create(application=application, name="Viewer", slug="viewer")
        return {"orgId": str(organization.id), "id": str(user.id), "roleId": str(role.id)}
