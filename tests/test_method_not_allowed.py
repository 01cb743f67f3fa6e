"""Contract §1 "Errors": a method a route does not serve is a 405 with an ``Allow`` header, before
any CSRF, authentication or permission check, on DRF viewsets and plain Django views alike.

The clients here enforce CSRF checks, as a real client (which sends no CSRF cookie) meets them.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ApiClient, issue_token
from tests.factories import OrganizationFactory
from tests.test_api_errors import assert_error

METADATA = "/api/admin/metadata"
TOKEN_PATH = "/porta-admin/auth/token"
JWKS_PATH = "/porta-admin/auth/jwks"


def allowed(response) -> set[str]:
    return {method.strip() for method in response["Allow"].split(",")}


@pytest.fixture
def strict_anonymous() -> ApiClient:
    return ApiClient(Client(enforce_csrf_checks=True))


@pytest.fixture
def strict_api(initialized) -> ApiClient:
    client = Client(enforce_csrf_checks=True)
    return ApiClient(client, issue_token(client, ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])


@pytest.fixture
def org_id(initialized) -> str:
    return str(OrganizationFactory().id)


# -- plain Django views under /api/ ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["delete", "put", "patch", "post"])
def test_a_write_method_on_the_metadata_is_method_not_allowed(initialized, strict_anonymous, method):
    response = getattr(strict_anonymous, method)(METADATA, {})
    assert_error(response, 405, "MethodNotAllowed")
    assert allowed(response) == {"GET"}


def test_delete_on_the_metadata_is_method_not_allowed_with_a_token_too(strict_api):
    response = strict_api.delete(METADATA)
    assert_error(response, 405, "MethodNotAllowed")
    assert allowed(response) == {"GET"}


# -- DRF viewsets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/admin/organizations/{org}/suspend",
        "/api/admin/organizations/{org}/activate",
        "/api/admin/keys/rotate",
        "/api/admin/recovery/link",
        "/api/admin/organizations/{org}/users/batch",
    ],
)
def test_head_on_a_post_only_route_is_method_not_allowed(strict_api, org_id, path):
    response = strict_api.client.head(path.format(org=org_id), **strict_api._headers(None))
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    assert allowed(response) == {"POST"}


def test_head_on_a_post_only_route_is_method_not_allowed_before_authentication(strict_anonymous, org_id):
    response = strict_anonymous.client.head(f"/api/admin/organizations/{org_id}/suspend")
    assert response.status_code == 405
    assert allowed(response) == {"POST"}


def test_head_on_a_readable_route_still_answers_like_get(strict_api, org_id):
    response = strict_api.client.head(f"/api/admin/organizations/{org_id}", **strict_api._headers(None))
    assert response.status_code == 200
    assert response["ETag"]


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("delete", "/api/admin/organizations", {"GET", "POST"}),
        ("put", "/api/admin/audit", {"GET"}),
        ("patch", "/api/admin/organizations/{org}", {"GET", "PUT", "DELETE"}),
        ("get", "/api/admin/organizations/{org}/suspend", {"POST"}),
        ("delete", "/api/admin/keys/rotate", {"POST"}),
    ],
)
def test_an_unserved_method_is_method_not_allowed_before_authentication(
    strict_anonymous, org_id, method, path, expected
):
    response = getattr(strict_anonymous, method)(path.format(org=org_id), {})
    assert_error(response, 405, "MethodNotAllowed")
    assert expected <= allowed(response)
    assert method.upper() not in allowed(response)


# -- protocol endpoints ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_an_unserved_method_on_the_token_endpoint_is_an_oauth_error_body(initialized, method):
    response = getattr(Client(enforce_csrf_checks=True), method)(TOKEN_PATH)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "POST"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == "invalid_request"
    assert "POST" in body["error_description"]


def test_post_on_the_jwks_is_method_not_allowed_with_a_json_body(initialized):
    response = Client(enforce_csrf_checks=True).post(JWKS_PATH)
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.json()["error"] == "invalid_request"
