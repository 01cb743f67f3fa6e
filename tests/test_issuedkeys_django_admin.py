"""Issued API keys in the Django admin: browsable and searchable under the API's read permission,
revocable through the API's service under its revoke permission, and never a secret or hash."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEntry
from issuedkeys.models import IssuedApiKey
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def issued(api) -> tuple[IssuedApiKey, str]:
    org = OrganizationFactory(slug="acme")
    response = api.post(
        f"/api/admin/organizations/{org.id}/api-keys", {"name": "billing", "actorId": "svc-b"}
    )
    assert response.status_code == 201, response.content
    return IssuedApiKey.objects.get(pk=response.json()["issuedApiKey"]["keyId"]), response.json()["secret"]


def revoke(client: Client, key: IssuedApiKey):
    return client.post(
        "/admin/issuedkeys/issuedapikey/", {"action": "revoke_selected", "_selected_action": [str(key.id)]}
    )


def test_an_auditor_browses_and_searches_issued_keys_without_secrets(make_admin, issued):
    key, secret = issued
    client = signed_in(make_admin("porta-auditor"))
    listing = client.get("/admin/issuedkeys/issuedapikey/", {"q": "svc-b"})
    assert listing.status_code == 200
    assert "billing" in listing.content.decode()
    detail = client.get(f"/admin/issuedkeys/issuedapikey/{key.id}/change/")
    assert detail.status_code == 200
    for page in (listing, detail):
        text = page.content.decode()
        assert secret not in text
        assert key.secret_hash not in text


def test_an_auditor_browses_api_key_settings(make_admin, api, issued):
    assert (
        signed_in(make_admin("porta-auditor")).get("/admin/issuedkeys/issuedapikeysettings/").status_code
        == 200
    )


def test_an_admin_without_the_read_permission_does_not_see_issued_keys(make_admin, issued):
    assert signed_in(make_admin("porta-app-admin")).get("/admin/issuedkeys/issuedapikey/").status_code == 403


def test_an_org_admin_revokes_an_issued_key_from_the_django_admin_through_the_service(make_admin, issued):
    key, _ = issued
    revoke(signed_in(make_admin("porta-org-admin")), key)
    key.refresh_from_db()
    assert key.status == "revoked"
    entry = AuditEntry.objects.get(event_type="issued_api_key.revoked", target_id=str(key.id))
    assert entry.actor_type == "user"


def test_an_auditor_cannot_revoke_an_issued_key_from_the_django_admin(make_admin, issued):
    key, _ = issued
    revoke(signed_in(make_admin("porta-auditor")), key)
    key.refresh_from_db()
    assert key.status == "active"
