"""The permission suite (tests/permission_suite.py) applied to signing keys, plus the rule that
signing keys are global: organization-scoped credentials get 403 on every /keys endpoint."""

from __future__ import annotations

import pytest

from keys.api.views import SigningKeyViewSet
from keys.models import SigningKey, SigningKeyStatus
from keys.services import signing_key_generate
from organizations.models import Organization
from porta.core.context import Actor
from tests.conftest import ApiClient
from tests.permission_suite import Endpoint, PermissionSuite

KEYS = "/api/admin/keys"
ENDPOINTS = (
    Endpoint("GET", KEYS, "admin:key:read", expect=200),
    Endpoint("POST", KEYS, "admin:key:generate", expect=201),
    Endpoint("GET", f"{KEYS}/{{id}}", "admin:key:read", expect=200),
    Endpoint("POST", f"{KEYS}/rotate", "admin:key:rotate", expect=201),
    Endpoint("POST", f"{KEYS}/{{id}}/revoke", "admin:key:rotate", expect=200),
)


class TestSigningKeyPermissions(PermissionSuite):
    viewsets = (SigningKeyViewSet,)
    endpoints = ENDPOINTS

    @pytest.fixture
    def path_params(self, initialized) -> dict[str, str]:
        key = signing_key_generate(actor=Actor.system("test"), status=SigningKeyStatus.NEXT)
        return {"id": str(key.id)}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.id for e in ENDPOINTS])
def test_an_organization_scoped_api_key_gets_403_on_signing_keys(api, endpoint):
    home = Organization.objects.create(name="Home", slug="home-org")
    minted = api.post(
        "/api/admin/api-keys",
        {"name": "Scoped", "organizationId": str(home.id), "roles": ["porta-super-admin"]},
    )
    assert minted.status_code == 201, minted.content
    scoped = ApiClient(api.client.__class__(), minted.json()["secret"])
    key = signing_key_generate(actor=Actor.system("test"), status=SigningKeyStatus.NEXT)
    before = dict(SigningKey.objects.values_list("kid", "status"))
    response = endpoint.send(scoped, {"id": str(key.id)})
    assert response.status_code == 403, response.content
    assert response.json()["error"] == "Forbidden"
    assert dict(SigningKey.objects.values_list("kid", "status")) == before
