"""The permission suite (tests/permission_suite.py) applied to sessions.

Reading needs admin:session:read; revoking and extending need admin:session:revoke (the
catalogue has no session update permission)."""

from __future__ import annotations

import pytest
from django.test import Client

from oidc.api.views import SessionViewSet, UserSessionViewSet
from oidc.models import Session
from tests.conftest import TENANT_PASSWORD, post_form
from tests.permission_suite import Endpoint, PermissionSuite

SESSIONS = "/api/admin/sessions"


class TestSessionPermissions(PermissionSuite):
    viewsets = (SessionViewSet, UserSessionViewSet)
    endpoints = (
        Endpoint("GET", SESSIONS, "admin:session:read", expect=200),
        Endpoint(
            "GET",
            f"{SESSIONS}?activeOnly=true&userId={{userId}}",
            "admin:session:read",
            expect=200,
            not_found_exempt=("userId",),  # a filter value, not a path id
        ),
        Endpoint("GET", f"{SESSIONS}/{{id}}", "admin:session:read", expect=200),
        Endpoint("DELETE", f"{SESSIONS}/{{id}}", "admin:session:revoke", expect=204),
        Endpoint("PATCH", f"{SESSIONS}/{{id}}/extend", "admin:session:revoke", expect=200),
        Endpoint("DELETE", "/api/admin/users/{userId}/sessions", "admin:session:revoke", expect=200),
    )

    @pytest.fixture
    def path_params(self, tenant_user) -> dict[str, str]:
        response = post_form(
            Client(),
            "/tenant-org/auth/token",
            {
                "grant_type": "password",
                "client_id": "tenant-cli",
                "username": tenant_user.email,
                "password": TENANT_PASSWORD,
            },
        )
        assert response.status_code == 200, response.content
        session = Session.objects.get(user=tenant_user)
        return {"id": str(session.id), "userId": str(tenant_user.id)}
