"""The permission suite (tests/permission_suite.py) applied to clients and their secrets."""

from __future__ import annotations

import pytest

from applications.api.client_views import ClientViewSet
from applications.models import Client, ClientStatus
from tests.client_factories import make_application, make_client
from tests.factories import OrganizationFactory
from tests.permission_suite import Endpoint, PermissionSuite

CLIENTS = "/api/admin/clients"


def _deactivate(params: dict[str, str]) -> None:
    Client.objects.filter(pk=params["id"]).update(status=ClientStatus.INACTIVE)


def _create_body(params: dict[str, str]) -> dict:
    return {
        "organizationId": params["orgId"],
        "applicationId": params["appId"],
        "clientName": "Suite client",
        "clientType": "confidential",
        "applicationType": "web",
        "redirectUris": ["https://suite.example.com/callback"],
    }


class TestClientPermissions(PermissionSuite):
    viewsets = (ClientViewSet,)
    endpoints = (
        Endpoint("GET", CLIENTS, "admin:client:read", expect=200),
        Endpoint("POST", CLIENTS, "admin:client:create", body=_create_body, expect=201),
        Endpoint("GET", f"{CLIENTS}/{{id}}", "admin:client:read", expect=200),
        Endpoint(
            "PUT", f"{CLIENTS}/{{id}}", "admin:client:update", body={"clientName": "Renamed"}, expect=200
        ),
        Endpoint("POST", f"{CLIENTS}/{{id}}/deactivate", "admin:client:update", expect=200),
        Endpoint(
            "POST", f"{CLIENTS}/{{id}}/activate", "admin:client:update", expect=200, prepare=_deactivate
        ),
        Endpoint("POST", f"{CLIENTS}/{{id}}/revoke", "admin:client:revoke", expect=200),
        Endpoint("GET", f"{CLIENTS}/{{id}}/secrets", "admin:client:read", expect=200),
        Endpoint(
            "POST", f"{CLIENTS}/{{id}}/secrets", "admin:client:update", body={"label": "Next"}, expect=201
        ),
        Endpoint("POST", f"{CLIENTS}/{{id}}/secrets/{{secretId}}/revoke", "admin:client:revoke", expect=200),
        Endpoint("GET", f"{CLIENTS}/{{id}}/history", "admin:client:read", expect=200),
    )

    @pytest.fixture
    def path_params(self, initialized) -> dict[str, str]:
        organization, application = OrganizationFactory(), make_application()
        client, _ = make_client(organization, application)
        return {
            "id": str(client.id),
            "secretId": str(client.secrets.get().id),
            "orgId": str(organization.id),
            "appId": str(application.id),
        }
