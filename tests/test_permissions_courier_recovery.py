"""The permission suite (tests/permission_suite.py) applied to courier messages and recovery.

There is no courier permission in the admin catalogue: reading messages requires admin:user:read.
Issuing recovery links and codes requires admin:user:update."""

from __future__ import annotations

import pytest

from courier.api.views import CourierMessageViewSet
from courier.models import Message
from organizations.models import Organization, User
from recovery.api.views import RecoveryViewSet
from tests.permission_suite import Endpoint, PermissionSuite

MESSAGES = "/api/admin/courier/messages"


def _user_body(params: dict[str, str]) -> dict[str, str]:
    return {"userId": params["userId"], "expiresIn": "30m"}


class TestCourierAndRecoveryPermissions(PermissionSuite):
    viewsets = (CourierMessageViewSet, RecoveryViewSet)
    endpoints = (
        Endpoint("GET", MESSAGES, "admin:user:read", expect=200),
        Endpoint("GET", f"{MESSAGES}?status=sent&recipient=a@example.com", "admin:user:read", expect=200),
        Endpoint("GET", f"{MESSAGES}/{{id}}", "admin:user:read", expect=200),
        Endpoint("POST", "/api/admin/recovery/link", "admin:user:update", body=_user_body, expect=201),
        Endpoint("POST", "/api/admin/recovery/code", "admin:user:update", body=_user_body, expect=201),
    )

    @pytest.fixture
    def path_params(self, initialized) -> dict[str, str]:
        organization = Organization.objects.create(name="Target", slug="target-org")
        user = User.objects.create(organization=organization, email="target@example.com")
        message = Message.objects.create(
            organization_id=organization.id,
            recipient="target@example.com",
            template="invitation",
            subject="s",
            body_text="t",
        )
        return {"id": str(message.id), "userId": str(user.id)}
