"""The tenant boundary of issued API keys for an organization-scoped admin credential
(``porta_pat_``): its own organization's keys and settings only; another organization's are 404
(never 403), and nothing of theirs changes."""

from __future__ import annotations

import pytest
from django.test import Client

from issuedkeys.models import IssuedApiKey, IssuedApiKeySettings
from organizations.models import Organization
from tests.conftest import ApiClient
from tests.factories import OrganizationFactory

ORGS = "/api/admin/organizations"


@pytest.fixture
def home(initialized) -> Organization:
    return OrganizationFactory(slug="home-org")


@pytest.fixture
def foreign(initialized) -> Organization:
    return OrganizationFactory(slug="foreign-org")


@pytest.fixture
def scoped(api, home) -> ApiClient:
    body = {"name": "home admin", "organizationId": str(home.id), "roles": ["porta-org-admin"]}
    response = api.post("/api/admin/api-keys", body)
    assert response.status_code == 201, response.content
    return ApiClient(Client(), response.json()["secret"])


@pytest.fixture
def foreign_key(api, foreign) -> dict:
    response = api.post(f"{ORGS}/{foreign.id}/api-keys", {"name": "theirs"})
    assert response.status_code == 201, response.content
    return response.json()["issuedApiKey"]


def test_an_org_key_issues_lists_and_rotates_keys_of_its_own_organization(scoped, home):
    created = scoped.post(f"{ORGS}/{home.slug}/api-keys", {"name": "mine"})
    assert created.status_code == 201, created.content
    key_id = created.json()["issuedApiKey"]["keyId"]
    assert [row["keyId"] for row in scoped.get(f"{ORGS}/{home.id}/api-keys").json()["data"]] == [key_id]
    assert scoped.post(f"{ORGS}/{home.id}/api-keys/{key_id}/rotate", {}).status_code == 201
    assert (
        scoped.put(
            f"{ORGS}/{home.id}/api-key-settings",
            {"prefix": "home", "defaultTtl": "1h", "maxTtl": "2h", "quota": 3},
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "/api-keys", None),
        ("post", "/api-keys", {"name": "planted"}),
        ("get", "/api-key-settings", None),
        ("put", "/api-key-settings", {"prefix": "x", "defaultTtl": "1h", "maxTtl": "1h", "quota": 0}),
    ],
)
def test_another_organizations_collection_and_settings_are_404(
    scoped, foreign, foreign_key, method, suffix, body
):
    before = (IssuedApiKey.objects.count(), IssuedApiKeySettings.objects.filter(quota=0).count())
    call = getattr(scoped, method)
    response = (
        call(f"{ORGS}/{foreign.id}{suffix}", body)
        if body is not None
        else call(f"{ORGS}/{foreign.id}{suffix}")
    )
    assert response.status_code == 404, response.content
    assert response.json()["message"] == "Organization not found"
    assert (IssuedApiKey.objects.count(), IssuedApiKeySettings.objects.filter(quota=0).count()) == before


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch", "", {"name": "renamed"}),
        ("post", "/revoke", {}),
        ("post", "/rotate", {}),
    ],
)
@pytest.mark.parametrize("under", ["own", "foreign"])
def test_another_organizations_key_is_404_under_either_organization(
    scoped, home, foreign, foreign_key, method, suffix, body, under
):
    org = home if under == "own" else foreign
    url = f"{ORGS}/{org.id}/api-keys/{foreign_key['keyId']}{suffix}"
    call = getattr(scoped, method)
    response = call(url, body) if body is not None else call(url)
    assert response.status_code == 404, response.content
    row = IssuedApiKey.objects.get(pk=foreign_key["keyId"])
    assert (row.name, row.status, IssuedApiKey.objects.count()) == ("theirs", "active", 1)
