"""Contract §1 "Errors": every error under /api/ has one JSON shape, whatever produced it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEntry
from organizations.models import Organization, OrganizationStatus
from tests.factories import OrganizationFactory

ORGS = "/api/admin/organizations"
SHAPE = {"error", "message", "statusCode", "requestId"}


def assert_error(response, status: int, error: str) -> dict[str, Any]:
    """The response is the contract's error body for ``status``; returns the body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= SHAPE, body
    assert body["error"] == error
    assert body["statusCode"] == status
    assert isinstance(body["message"], str)
    assert body["message"]
    assert body["requestId"] == response["X-Request-ID"]
    return body


# -- 400 -------------------------------------------------------------------------------------------


def test_an_invalid_field_is_a_validation_error_naming_the_field(api):
    body = assert_error(api.post(ORGS, {"name": ""}), 400, "ValidationError")
    assert set(body["details"]) == {"name"}
    assert all(isinstance(message, str) for message in body["details"]["name"])


def test_an_invalid_nested_field_is_named_by_its_path(api):
    body = assert_error(
        api.post(ORGS, {"name": "Acme", "branding": {"primaryColor": "red"}}), 400, "ValidationError"
    )
    assert body["details"] == {"branding.primaryColor": ["Must be a colour like #1A2B3C."]}


def test_a_missing_required_field_is_a_validation_error_naming_it(api):
    body = assert_error(api.post(ORGS, {}), 400, "ValidationError")
    assert "name" in body["details"]


def test_malformed_json_is_a_bad_request(api):
    response = api.client.post(
        ORGS, b'{"name": "Acme"', content_type="application/json", **api._headers(None)
    )
    body = assert_error(response, 400, "BadRequest")
    assert "details" not in body
    assert not Organization.objects.filter(name="Acme").exists()


def test_a_json_body_that_is_not_an_object_is_a_validation_error(api):
    assert_error(api.post(ORGS, ["Acme"]), 400, "ValidationError")


def test_an_unknown_body_field_is_a_bad_request_naming_it(api):
    body = assert_error(api.post(ORGS, {"name": "Acme", "colour": "blue"}), 400, "ValidationError")
    assert body["details"] == {"colour": ["Unknown field."]}
    assert "colour" in body["message"]
    assert not Organization.objects.filter(name="Acme").exists()


def test_a_snake_case_body_field_is_an_unknown_field(api):
    body = assert_error(api.post(ORGS, {"name": "Acme", "default_locale": "de"}), 400, "ValidationError")
    assert body["details"] == {"default_locale": ["Unknown field."]}


# -- 401 / 403 -------------------------------------------------------------------------------------


def test_a_request_without_a_token_is_unauthorized_with_a_bearer_challenge(initialized, anonymous):
    response = anonymous.get(ORGS)
    assert_error(response, 401, "Unauthorized")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_request_with_a_garbage_token_is_unauthorized_with_a_bearer_challenge(initialized):
    response = Client().get(ORGS, HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert_error(response, 401, "Unauthorized")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_write_without_a_token_is_unauthorized(initialized, anonymous):
    response = anonymous.post(ORGS, {"name": "Acme"})
    assert_error(response, 401, "Unauthorized")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Organization.objects.filter(name="Acme").exists()


def test_an_admin_without_the_permission_is_forbidden_naming_it(api_as):
    auditor = api_as("porta-auditor")
    body = assert_error(auditor.post(ORGS, {"name": "Acme"}), 403, "Forbidden")
    assert body["message"] == "Insufficient permissions. Required: admin:org:create"
    assert not Organization.objects.filter(name="Acme").exists()


def test_an_admin_without_any_admin_role_is_forbidden(api_as):
    assert_error(api_as().get(ORGS), 403, "Forbidden")


# -- 404 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
@pytest.mark.parametrize(
    "path", ["/api/admin/no-such-thing", "/api/admin/organizations/x/y/z", "/api/nothing-here", "/api/"]
)
def test_an_unknown_route_under_api_is_a_json_not_found(initialized, anonymous, settings, path, debug):
    settings.DEBUG = debug
    response = anonymous.get(path)
    body = assert_error(response, 404, "NotFound")
    assert b"<html" not in response.content.lower()
    assert body["message"] == "Route not found"


def test_a_write_to_an_unknown_route_is_a_json_not_found(initialized, anonymous):
    response = anonymous.post("/api/admin/no-such-thing", {"a": 1})
    assert_error(response, 404, "NotFound")


def test_an_organization_that_does_not_exist_is_not_found(api):
    body = assert_error(api.get(f"{ORGS}/0190a000-0000-7000-8000-000000000000"), 404, "NotFound")
    assert body["message"] == "Organization not found"


@pytest.mark.parametrize(
    "path",
    [
        f"{ORGS}/{'x' * 300}",
        f"{ORGS}/not%20a%20uuid",
        f"{ORGS}/{'x' * 300}/suspend",
        "/api/admin/audit/not-a-uuid",
        "/api/admin/audit/0190a000-0000-7000-8000-00000000000",
        "/api/admin/audit/12345",
    ],
)
def test_a_malformed_id_in_a_path_is_not_found(api, path):
    response = api.post(path, {}) if path.endswith("/suspend") else api.get(path)
    assert_error(response, 404, "NotFound")


# -- 405 -------------------------------------------------------------------------------------------


def test_an_unsupported_method_on_a_resource_is_method_not_allowed(api):
    org = OrganizationFactory()
    response = api.patch(f"{ORGS}/{org.id}", {"name": "Renamed"})
    assert_error(response, 405, "MethodNotAllowed")
    assert "PATCH" not in response["Allow"]
    assert {"GET", "PUT", "DELETE"} <= {m.strip() for m in response["Allow"].split(",")}
    org.refresh_from_db()
    assert org.name != "Renamed"


def test_an_unsupported_method_on_a_collection_is_method_not_allowed(api):
    assert_error(api.delete(ORGS), 405, "MethodNotAllowed")


def test_an_unsupported_method_on_a_plain_django_view_is_method_not_allowed(initialized, anonymous):
    response = anonymous.post("/api/admin/metadata", {})
    assert_error(response, 405, "MethodNotAllowed")
    assert response["Allow"] == "GET"


# -- 409 / 412 -------------------------------------------------------------------------------------


def test_a_duplicate_slug_is_a_conflict(api):
    OrganizationFactory(slug="acme")
    body = assert_error(api.post(ORGS, {"name": "Acme", "slug": "acme"}), 409, "Conflict")
    assert body["message"] == "Slug 'acme' is already in use"
    assert Organization.objects.filter(slug="acme").count() == 1


def test_an_illegal_state_transition_is_a_conflict(api):
    org = OrganizationFactory(status=OrganizationStatus.ARCHIVED)
    body = assert_error(api.post(f"{ORGS}/{org.id}/suspend"), 409, "Conflict")
    assert body["message"] == "Cannot suspend organization from status 'archived'"


def test_a_stale_if_match_is_a_precondition_failure(api):
    org = OrganizationFactory()
    response = api.put(f"{ORGS}/{org.id}", {"name": "Renamed"}, headers={"If-Match": '"stale"'})
    assert_error(response, 412, "PreconditionFailed")


# -- 413 / 415 -------------------------------------------------------------------------------------


def test_a_body_above_two_mebibytes_is_payload_too_large(api):
    before = AuditEntry.objects.count()
    response = api.post(ORGS, {"name": "Acme", "branding": {"customCss": "x" * (2 * 1024 * 1024)}})
    assert_error(response, 413, "PayloadTooLarge")
    assert not Organization.objects.filter(name="Acme").exists()
    assert AuditEntry.objects.count() == before


def test_a_body_of_exactly_the_limit_is_not_refused_for_its_size(api):
    padding = 2 * 1024 * 1024 - len(b'{"name":"Acme","colour":""}')
    body = b'{"name":"Acme","colour":"' + b"x" * padding + b'"}'
    assert len(body) == 2 * 1024 * 1024
    response = api.client.post(ORGS, body, content_type="application/json", **api._headers(None))
    # Refused for the unknown field, not for the size.
    assert_error(response, 400, "ValidationError")


def test_a_text_plain_body_is_an_unsupported_media_type(api):
    response = api.client.post(ORGS, "name=Acme", content_type="text/plain", **api._headers(None))
    assert_error(response, 415, "UnsupportedMediaType")
    assert not Organization.objects.filter(name="Acme").exists()


def test_a_form_encoded_body_is_an_unsupported_media_type(api):
    response = api.client.post(
        ORGS, "name=Acme", content_type="application/x-www-form-urlencoded", **api._headers(None)
    )
    assert_error(response, 415, "UnsupportedMediaType")


def test_a_body_without_a_content_type_is_an_unsupported_media_type(api):
    response = api.client.generic("POST", ORGS, b'{"name": "Acme"}', content_type="", **api._headers(None))
    assert_error(response, 415, "UnsupportedMediaType")
    assert not Organization.objects.filter(name="Acme").exists()


# -- 500 -------------------------------------------------------------------------------------------


@pytest.mark.urls("tests.urls_boom")
@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
@pytest.mark.parametrize("path", ["/api/admin/boom-drf", "/api/admin/boom-plain"], ids=["drf", "plain"])
def test_an_unexpected_error_is_a_json_internal_server_error_without_a_stack_trace(
    db, settings, anonymous, path, debug
):
    settings.DEBUG = debug
    response = anonymous.get(path)
    body = assert_error(response, 500, "InternalServerError")
    assert body["message"] == "Internal server error"
    assert set(body) == SHAPE
    assert b"Traceback" not in response.content
    assert b"secret internal detail" not in response.content
    assert b"RuntimeError" not in response.content


# -- 503 -------------------------------------------------------------------------------------------


def test_metadata_before_porta_init_is_service_unavailable(db, anonymous):
    body = assert_error(anonymous.get("/api/admin/metadata"), 503, "ServiceUnavailable")
    assert "porta_init" in body["message"]


def test_metadata_after_porta_init_is_served(initialized, anonymous):
    response = anonymous.get("/api/admin/metadata")
    assert response.status_code == 200
    assert response.json()["clientId"] == "porta-cli"


# -- shape everywhere ------------------------------------------------------------------------------


def test_an_error_carries_the_request_id_the_client_sent(initialized, anonymous):
    response = anonymous.get(ORGS, headers={"X-Request-ID": "trace-abc-123"})
    body = assert_error(response, 401, "Unauthorized")
    assert body["requestId"] == "trace-abc-123"


# -- trailing slashes ------------------------------------------------------------------------------


def test_a_collection_path_with_a_trailing_slash_is_served_identically(api):
    OrganizationFactory.create_batch(3)
    without = api.get(ORGS)
    with_slash = api.get(f"{ORGS}/")
    assert without.status_code == with_slash.status_code == 200
    assert with_slash.json() == without.json()


def test_a_detail_path_with_a_trailing_slash_is_served_identically(api):
    org = OrganizationFactory()
    without = api.get(f"{ORGS}/{org.id}")
    with_slash = api.get(f"{ORGS}/{org.id}/")
    assert without.status_code == with_slash.status_code == 200
    assert with_slash.json() == without.json()
    assert with_slash["ETag"] == without["ETag"]


def test_a_write_to_a_path_with_a_trailing_slash_is_not_redirected(api):
    response = api.post(f"{ORGS}/", {"name": "Slashed"})
    assert response.status_code == 201
    assert "Location" in response
    assert not response["Location"].endswith("/")
    assert Organization.objects.filter(name="Slashed").exists()


def test_an_action_path_with_a_trailing_slash_is_served(api):
    org = OrganizationFactory()
    response = api.post(f"{ORGS}/{org.id}/suspend/")
    assert response.status_code == 200
    assert response.json()["status"] == "suspended"


@pytest.mark.parametrize("path", ["/api/admin/metadata/", "/api/admin/schema/"])
def test_a_plain_view_with_a_trailing_slash_is_served_without_redirect(initialized, anonymous, path):
    assert anonymous.get(path).status_code == 200


# -- 406 -------------------------------------------------------------------------------------------


def test_an_accept_header_nothing_satisfies_is_not_acceptable(api):
    assert_error(api.get(ORGS, headers={"Accept": "text/html"}), 406, "NotAcceptable")
