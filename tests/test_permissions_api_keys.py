"""The permission suite (tests/permission_suite.py) applied to admin API keys. The catalogue has
no ``admin:apikey:*`` permissions: minting and revoking need ``admin:key:generate``, reading
``admin:key:read``."""

from __future__ import annotations

import pytest

from apikeys import services
from apikeys.api.views import ApiKeyViewSet
from applications.models import Application
from organizations.models import User
from porta.core.context import Actor
from rbac.admin_roles import ADMIN_APP_SLUG
from rbac.models import Permission, Role
from rbac.selectors import admin_authorization
from tests.conftest import ADMIN_EMAIL
from tests.permission_suite import Endpoint, PermissionSuite

KEYS = "/api/admin/api-keys"


class TestApiKeyPermissions(PermissionSuite):
    viewsets = (ApiKeyViewSet,)
    endpoints = (
        Endpoint("GET", KEYS, "admin:key:read", expect=200),
        # A role carrying nothing but admin:key:generate: the only one such a minter may delegate.
        Endpoint(
            "POST",
            KEYS,
            "admin:key:generate",
            body={"name": "k", "organizationId": None, "roles": ["porta-key-minter"]},
            expect=201,
        ),  # fmt: skip
        Endpoint("GET", f"{KEYS}/{{id}}", "admin:key:read", expect=200),
        Endpoint("POST", f"{KEYS}/{{id}}/revoke", "admin:key:generate", expect=200),
    )

    @pytest.fixture
    def path_params(self, initialized) -> dict[str, str]:
        admin = User.objects.get(email=ADMIN_EMAIL)
        application = Application.objects.get(slug=ADMIN_APP_SLUG)
        role = Role.objects.create(application=application, slug="porta-key-minter", name="Key minter")
        role.permissions.add(Permission.objects.get(application=application, slug="admin:key:generate"))
        key, _ = services.api_key_create(
            actor=Actor.system(),
            authorization=admin_authorization(admin.id),
            created_by_id=admin.id,
            name="Suite key",
            organization_id=None,
            roles=["porta-auditor"],
        )
        return {"id": str(key.id)}
