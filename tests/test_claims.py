"""Custom claim definitions through the admin API: upstream Porta §10."""

from __future__ import annotations

import pytest
from django.test import Client as DjangoClient

from applications.models import Application, ClaimDefinition, ClaimValue
from audit.models import AuditEntry
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.factories import UserFactory


@pytest.fixture
def app(initialized) -> Application:
    return Application.objects.create(name="Shop", slug="shop-app")


def claims_url(app: Application) -> str:
    return f"/api/admin/applications/{app.id}/claims"


def define(api, app, **body):
    response = api.post(claims_url(app), {"claimName": "department", "claimType": "string", **body})
    assert response.status_code == 201, response.content
    return response.json()


def test_creating_a_claim_returns_it_with_a_location(api, app):
    response = api.post(claims_url(app), {"claimName": "department", "claimType": "string"})
    body = response.json()
    assert response.status_code == 201
    assert response["Location"] == f"{claims_url(app)}/{body['id']}"
    assert body["claimName"] == "department"
    assert body["claimType"] == "string"
    assert body["includeInIdToken"] is False


def test_a_reserved_claim_name_is_refused(api, app):
    response = api.post(claims_url(app), {"claimName": "email", "claimType": "string"})
    assert response.status_code == 400
    assert "claimName" in response.json()["details"]


@pytest.mark.parametrize("name", ["Department", "1team", "team-name", "_team", "a" * 101])
def test_a_name_outside_the_pattern_is_refused(api, app, name):
    response = api.post(claims_url(app), {"claimName": name, "claimType": "string"})
    assert response.status_code == 400


def test_an_unknown_claim_type_is_refused(api, app):
    response = api.post(claims_url(app), {"claimName": "team", "claimType": "date"})
    assert response.status_code == 400


def test_a_duplicate_name_in_the_same_application_is_a_conflict(api, app):
    define(api, app)
    response = api.post(claims_url(app), {"claimName": "department", "claimType": "number"})
    assert response.status_code == 409


def test_the_same_name_in_another_application_is_allowed(api, app):
    other = Application.objects.create(name="Other", slug="other-app")
    define(api, app)
    define(api, other)


def test_creating_a_claim_is_audited_as_claim_defined(api, app):
    body = define(api, app)
    assert AuditEntry.objects.get(target_id=body["id"]).event_type == "claim.defined"


def test_listing_claims_shows_only_that_applications_claims(api, app):
    other = Application.objects.create(name="Other", slug="other-app")
    define(api, app)
    define(api, other, claimName="elsewhere")
    body = api.get(claims_url(app)).json()
    assert [c["claimName"] for c in body["data"]] == ["department"]
    assert body["pagination"]["total"] == 1


def test_listing_claims_of_an_unknown_application_is_not_found(api, initialized):
    response = api.get("/api/admin/applications/0190f0a8-0000-7000-8000-000000000000/claims")
    assert response.status_code == 404


def test_a_claim_of_another_application_is_not_found(api, app):
    other = Application.objects.create(name="Other", slug="other-app")
    body = define(api, other)
    assert api.get(f"{claims_url(app)}/{body['id']}").status_code == 404


def test_updating_changes_description_and_flags(api, app):
    body = define(api, app)
    response = api.put(
        f"{claims_url(app)}/{body['id']}",
        {"description": "Team", "includeInIdToken": True, "includeInAccessToken": True},
    )
    assert response.status_code == 200
    assert response.json()["description"] == "Team"
    assert response.json()["includeInAccessToken"] is True


def test_updating_is_audited_as_claim_updated(api, app):
    body = define(api, app)
    api.put(f"{claims_url(app)}/{body['id']}", {"includeInUserinfo": True})
    entry = AuditEntry.objects.filter(target_id=body["id"]).latest("created_at")
    assert entry.event_type == "claim.updated"


def test_changing_the_name_is_refused(api, app):
    body = define(api, app)
    response = api.put(f"{claims_url(app)}/{body['id']}", {"claimName": "division"})
    assert response.status_code == 400


def test_changing_the_type_is_refused(api, app):
    body = define(api, app)
    response = api.put(f"{claims_url(app)}/{body['id']}", {"claimType": "number"})
    assert response.status_code == 400


def test_sending_the_unchanged_name_and_type_back_is_accepted(api, app):
    body = define(api, app)
    response = api.put(f"{claims_url(app)}/{body['id']}", {**body, "description": "Team"})
    assert response.status_code == 200


def test_deleting_a_claim_removes_its_values(api, app):
    body = define(api, app)
    ClaimValue.objects.create(claim_id=body["id"], user=UserFactory(), value="sales")
    assert api.delete(f"{claims_url(app)}/{body['id']}").status_code == 204
    assert not ClaimValue.objects.exists()


def test_deleting_a_claim_is_audited_as_claim_deleted(api, app):
    body = define(api, app)
    api.delete(f"{claims_url(app)}/{body['id']}")
    entry = AuditEntry.objects.filter(target_id=body["id"]).latest("created_at")
    assert entry.event_type == "claim.deleted"


def test_deleting_an_application_deletes_its_claims(api, app):
    define(api, app)
    app.delete()
    assert not ClaimDefinition.objects.exists()


def _django_admin() -> DjangoClient:
    client = DjangoClient()
    assert client.login(username=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    return client


def test_the_django_admin_finds_a_claim_by_its_name(api, app):
    define(api, app, claimName="cost_center")
    response = _django_admin().get("/admin/applications/claimdefinition/", {"q": "cost_center"})
    assert response.status_code == 200
    assert b"cost_center" in response.content


def test_the_django_admin_lists_claim_values(api, app):
    body = define(api, app)
    user = UserFactory(email="holder@example.com")
    ClaimValue.objects.create(claim_id=body["id"], user=user, value="sales")
    response = _django_admin().get("/admin/applications/claimvalue/", {"q": "holder@example.com"})
    assert response.status_code == 200
    assert b"holder@example.com" in response.content
