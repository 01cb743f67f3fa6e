"""Contract §1 "OpenAPI" and §2: the schema is served, valid, complete and names permissions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command

from audit.api.views import AuditViewSet
from branding.api.views import BrandingViewSet
from invitations.api.views import OrganizationInvitationViewSet
from issuedkeys.api.views import ApiKeySettingsViewSet, IssuedApiKeyViewSet
from organizations.api.user_views import OrganizationUserViewSet, UserViewSet
from organizations.api.views import OrganizationViewSet
from rbac.api.user_role_views import OrganizationUserRoleViewSet, UserRoleViewSet
from systemconfig.api.views import AuditCleanupViewSet, ConfigViewSet

SCHEMA = "/api/admin/schema"
METHODS = {"get", "put", "post", "delete", "patch"}

#: Every operation of the two resources that exist, with the permission each one requires.
EXPECTED_OPERATIONS = {
    ("get", "/api/admin/organizations"): "admin:org:read",
    ("post", "/api/admin/organizations"): "admin:org:create",
    ("get", "/api/admin/organizations/validate-slug"): "admin:org:read",
    ("get", "/api/admin/organizations/{id}"): "admin:org:read",
    ("put", "/api/admin/organizations/{id}"): "admin:org:update",
    ("delete", "/api/admin/organizations/{id}"): "admin:org:archive",
    ("put", "/api/admin/organizations/{id}/branding"): "admin:org:update",
    ("post", "/api/admin/organizations/{id}/suspend"): "admin:org:suspend",
    ("post", "/api/admin/organizations/{id}/activate"): "admin:org:suspend",
    ("post", "/api/admin/organizations/{id}/archive"): "admin:org:archive",
    ("post", "/api/admin/organizations/{id}/restore"): "admin:org:archive",
    ("get", "/api/admin/organizations/{id}/history"): "admin:org:read",
    ("get", "/api/admin/audit"): "admin:audit:read",
    ("get", "/api/admin/audit/{id}"): "admin:audit:read",
}


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict[str, Any]:
    """The schema as CI checks it: generated, validated, and failing on any warning."""
    path = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(Path(path).read_text())


def operations(schema: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def admin_operations(schema: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """The operations that need an admin credential (all but the public metadata)."""
    return {key: op for key, op in operations(schema).items() if op.get("security") != []}


# -- served ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [SCHEMA, f"{SCHEMA}/"])
def test_the_schema_is_served_without_authentication(db, anonymous, path):
    response = anonymous.get(path)
    assert response.status_code == 200
    served = yaml.safe_load(response.content)
    assert served["openapi"].startswith("3.")
    assert "/api/admin/organizations" in served["paths"]


def test_the_schema_is_served_as_json_when_asked(db, anonymous):
    response = anonymous.get(SCHEMA, {"format": "json"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    assert response.json()["info"]["title"] == "Porta Admin API"


@pytest.mark.parametrize("path", ["/api/admin/docs", "/api/admin/docs/"])
def test_the_interactive_docs_are_served_without_authentication(db, anonymous, path):
    response = anonymous.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"swagger" in response.content.lower()
    assert b"/api/admin/schema" in response.content


def test_the_docs_assets_are_served(db, anonymous):
    html = anonymous.get("/api/admin/docs").content.decode()
    scripts = re.findall(r'src="([^"]+\.js)"', html)
    assert scripts
    for script in scripts:
        assert anonymous.get(script).status_code == 200, script


# -- valid and complete ----------------------------------------------------------------------------


def test_the_schema_validates_without_warnings(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Porta Admin API"


def test_the_schema_lists_every_organizations_and_audit_operation(schema):
    documented = set(operations(schema))
    assert set(EXPECTED_OPERATIONS) <= documented, set(EXPECTED_OPERATIONS) - documented


_ORG_USERS = "/api/admin/organizations/{organization_id}/users"


@pytest.mark.parametrize(
    ("viewsets", "prefix"),
    [
        # An organization's branding (settings and assets) is a route of the branding app; issued
        # API keys and their settings are routes of issuedkeys under the organizations.
        (
            (OrganizationViewSet, BrandingViewSet, IssuedApiKeyViewSet, ApiKeySettingsViewSet),
            "/api/admin/organizations",
        ),
        # POST /audit/cleanup is systemconfig's: it reads the live retention, which audit may not.
        ((AuditViewSet, AuditCleanupViewSet), "/api/admin/audit"),
        ((ConfigViewSet,), "/api/admin/config"),
        # A user's roles and the invitations are routes of rbac and invitations under the users.
        ((OrganizationUserViewSet, OrganizationInvitationViewSet, OrganizationUserRoleViewSet), _ORG_USERS),
        ((UserViewSet, UserRoleViewSet), "/api/admin/users"),
    ],
    ids=["organizations", "audit", "config", "organization-users", "users"],
)
def test_the_schema_has_one_operation_per_action_of_the_viewset(schema, viewsets, prefix):
    permission_map = {
        (viewset, action): permission
        for viewset in viewsets
        for action, permission in viewset.permission_map.items()
    }
    nested = () if prefix == _ORG_USERS else (_ORG_USERS,)  # users nested under an organization
    nested += ("/api/admin/users/{user_id}/sessions",)  # served by oidc's UserSessionViewSet
    documented = [
        key
        for key in operations(schema)
        if (key[1] == prefix or key[1].startswith(prefix + "/"))
        and not any(key[1] == n or key[1].startswith(n + "/") for n in nested)
    ]
    assert len(documented) == len(permission_map)
    described = {
        permission
        for key in documented
        for permission in re.findall(r"`(admin:[^`]+)`", operations(schema)[key]["description"])
    }
    assert described == set(permission_map.values())


def test_no_documented_path_has_a_trailing_slash(schema):
    assert schema["paths"]
    assert [path for path in schema["paths"] if path.endswith("/")] == []


def test_every_documented_path_is_under_the_admin_or_the_public_api(schema):
    assert all(path.startswith(("/api/admin/", "/api/public/")) for path in schema["paths"])


def test_every_public_route_is_documented_without_authentication(schema):
    public = {key: op for key, op in operations(schema).items() if key[1].startswith("/api/public/")}
    assert public
    assert all(operation["security"] == [] for operation in public.values())


def test_the_schema_documents_the_bearer_authentication(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    for (method, path), operation in admin_operations(schema).items():
        assert {"bearerAuth": []} in operation.get("security", []), (method, path)


# -- permissions and errors ------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), list(EXPECTED_OPERATIONS), ids=lambda v: str(v))
def test_each_operation_description_names_its_admin_permission(schema, method, path):
    description = operations(schema)[(method, path)].get("description", "")
    assert f"`{EXPECTED_OPERATIONS[(method, path)]}`" in description


def test_every_operation_names_some_admin_permission(schema):
    for key, operation in admin_operations(schema).items():
        assert re.search(r"`admin:[a-z_-]+:[a-z_-]+`", operation.get("description", "")), key


def test_the_error_shape_is_a_schema_component(schema):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"error", "message", "statusCode", "requestId", "details"}
    assert set(error["required"]) == {"error", "message", "statusCode", "requestId"}


@pytest.mark.parametrize("status", ["400", "401", "403", "404", "406", "503"])
def test_every_operation_documents_the_common_errors(schema, status):
    for key, operation in admin_operations(schema).items():
        response = operation["responses"].get(status)
        assert response is not None, key
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.mark.parametrize("status", ["409", "412", "413", "415", "422", "429"])
def test_every_write_operation_documents_the_write_errors(schema, status):
    for (method, path), operation in admin_operations(schema).items():
        if method != "get":
            response = operation["responses"].get(status)
            assert response is not None, (method, path)
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_creating_a_client_documents_the_unprocessable_entity_answer(schema):
    response = operations(schema)[("post", "/api/admin/clients")]["responses"]["422"]
    assert response["description"] == "UnprocessableEntity"


def test_reads_do_not_document_write_errors(schema):
    listing = operations(schema)[("get", "/api/admin/organizations")]["responses"]
    assert not {"409", "412", "413", "415", "422", "429"} & set(listing)


def test_single_reads_document_the_not_modified_answer(schema):
    for path in ("/api/admin/organizations/{id}", "/api/admin/audit/{id}", "/api/admin/clients/{id}"):
        assert "304" in schema["paths"][path]["get"]["responses"], path


def test_list_operations_document_the_pagination_parameters(schema):
    listing = operations(schema)[("get", "/api/admin/organizations")]
    names = {parameter["name"] for parameter in listing["parameters"]}
    assert {"page", "pageSize", "sort", "order", "cursor", "limit", "search", "status"} <= names


def test_the_organization_delete_documents_its_200_body(schema):
    responses = operations(schema)[("delete", "/api/admin/organizations/{id}")]["responses"]
    assert "200" in responses
    assert "204" not in responses


def test_list_operations_document_the_collection_envelope(schema):
    for path in ("/api/admin/organizations", "/api/admin/audit", "/api/admin/organizations/{id}/history"):
        body = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        component = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
        assert set(component["properties"]) == {"data", "pagination"}


def test_request_bodies_are_documented_as_refusing_unknown_fields(schema):
    assert schema["components"]["schemas"]["OrganizationCreateRequest"]["additionalProperties"] is False


def test_the_public_metadata_is_documented_with_its_answers(schema):
    operation = operations(schema)[("get", "/api/admin/metadata")]
    assert operation["security"] == []
    assert set(operation["responses"]) == {"200", "503"}
    metadata = schema["components"]["schemas"]["AdminMetadata"]
    assert {"issuer", "token_endpoint", "jwks_uri", "orgSlug", "clientId"} <= set(metadata["required"])
