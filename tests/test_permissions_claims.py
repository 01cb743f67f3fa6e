"""The permission suite (tests/permission_suite.py) applied to custom claims and their values."""

from __future__ import annotations

import pytest

from applications.api.claim_views import ClaimViewSet
from applications.models import Application, ClaimDefinition, ClaimValue
from tests.factories import UserFactory
from tests.permission_suite import Endpoint, PermissionSuite

CLAIMS = "/api/admin/applications/{id}/claims"
CLAIM = f"{CLAIMS}/{{claimId}}"
VALUE = f"{CLAIM}/users/{{userId}}"


class TestClaimPermissions(PermissionSuite):
    viewsets = (ClaimViewSet,)
    endpoints = (
        Endpoint("GET", CLAIMS, "admin:claim:read", expect=200),
        Endpoint(
            "POST",
            CLAIMS,
            "admin:claim:create",
            body={"claimName": "department", "claimType": "string"},
            expect=201,
        ),
        Endpoint("GET", CLAIM, "admin:claim:read", expect=200),
        Endpoint("PUT", CLAIM, "admin:claim:update", body={"description": "Team"}, expect=200),
        Endpoint("DELETE", CLAIM, "admin:claim:archive", expect=204),
        Endpoint("GET", f"{CLAIMS}/users/{{userId}}", "admin:claim:read", expect=200),
        Endpoint("GET", VALUE, "admin:claim:read", expect=200),
        Endpoint("PUT", VALUE, "admin:claim:update", body={"value": "sales"}, expect=200),
        Endpoint("DELETE", VALUE, "admin:claim:update", expect=204),
    )

    @pytest.fixture
    def path_params(self, initialized) -> dict[str, str]:
        application = Application.objects.create(name="Target", slug="target-app")
        claim = ClaimDefinition.objects.create(application=application, name="team", claim_type="string")
        user = UserFactory()
        ClaimValue.objects.create(claim=claim, user=user, value="blue")
        return {"id": str(application.id), "claimId": str(claim.id), "userId": str(user.id)}
