"""The permission suite (tests/permission_suite.py) applied to issued API keys and the
organization's API-key settings."""

from __future__ import annotations

import pytest

from issuedkeys import services
from issuedkeys.api.views import ApiKeySettingsViewSet, IssuedApiKeyViewSet
from porta.core.context import Actor
from tests.factories import OrganizationFactory
from tests.permission_suite import Endpoint, PermissionSuite

KEYS = "/api/admin/organizations/{orgId}/api-keys"
SETTINGS = "/api/admin/organizations/{orgId}/api-key-settings"
SETTINGS_BODY = {"prefix": "acme", "defaultTtl": "1h", "maxTtl": "24h", "quota": 5}


class TestIssuedApiKeyPermissions(PermissionSuite):
    viewsets = (IssuedApiKeyViewSet, ApiKeySettingsViewSet)
    endpoints = (
        Endpoint("GET", KEYS, "admin:issued-key:read", expect=200),
        Endpoint("POST", KEYS, "admin:issued-key:create", body={"name": "k"}, expect=201),
        Endpoint("GET", f"{KEYS}/{{keyId}}", "admin:issued-key:read", expect=200),
        Endpoint("PATCH", f"{KEYS}/{{keyId}}", "admin:issued-key:update", body={"name": "n"}, expect=200),
        Endpoint("POST", f"{KEYS}/{{keyId}}/revoke", "admin:issued-key:revoke", expect=204),
        Endpoint("POST", f"{KEYS}/{{keyId}}/rotate", "admin:issued-key:create", expect=201),
        Endpoint("GET", SETTINGS, "admin:issued-key:read", expect=200),
        Endpoint("PUT", SETTINGS, "admin:issued-key:update", body=SETTINGS_BODY, expect=200),
    )

    @pytest.fixture
    def path_params(self, initialized) -> dict[str, str]:
        org = OrganizationFactory()
        key, _ = services.issued_api_key_create(
            actor=Actor.system(), organization_id=org.id, name="Suite key"
        )
        return {"orgId": str(org.id), "keyId": str(key.id)}
