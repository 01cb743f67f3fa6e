"""A suspended or archived organization takes no new users: creating, inviting or batch-creating
one is a 422 in the contract's error shape, as a client or an API key for it is, and nothing is
written (no user, no invitation, no message, no audit entry)."""

from __future__ import annotations

import pytest

from audit.models import AuditEntry
from courier.models import Message
from organizations.models import Invitation, Organization, User

STATUSES = {"suspended": "suspend", "archived": "archive"}


@pytest.fixture
def org(initialized) -> Organization:
    return Organization.objects.create(name="Acme", slug="acme")


@pytest.fixture(params=sorted(STATUSES))
def closed_org(request, api, org) -> Organization:
    """``org`` suspended or archived through the API."""
    response = api.post(f"/api/admin/organizations/{org.id}/{STATUSES[request.param]}", {})
    assert response.status_code == 200, response.content
    org.refresh_from_db()
    assert org.status == request.param
    return org


def users_url(organization: Organization, tail: str = "") -> str:
    return f"/api/admin/organizations/{organization.id}/users{tail}"


def assert_refused_as_inactive(response, organization: Organization) -> None:
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["error"] == "UnprocessableEntity"
    assert body["statusCode"] == 422
    assert body["message"] == f"Organization is {organization.status}"
    assert body["details"] == {"organizationId": [f"Organization is {organization.status}."]}
    assert body["requestId"]


def test_creating_a_user_in_an_inactive_organization_is_422(api, closed_org):
    response = api.post(users_url(closed_org), {"email": "new@acme.example", "password": "long-password-1"})

    assert_refused_as_inactive(response, closed_org)
    assert not User.objects.filter(organization=closed_org).exists()
    assert not AuditEntry.objects.filter(event_type="user.created", organization_id=closed_org.id).exists()


def test_inviting_a_new_email_into_an_inactive_organization_is_422(api, closed_org):
    response = api.post(users_url(closed_org, "/invite"), {"email": "new@acme.example"})

    assert_refused_as_inactive(response, closed_org)
    assert not User.objects.filter(organization=closed_org).exists()
    assert not Invitation.objects.exists()
    assert not Message.objects.filter(recipient="new@acme.example").exists()


def test_inviting_an_existing_user_of_an_inactive_organization_is_422(api, org):
    User.objects.create(organization=org, email="old@acme.example")
    api.post(f"/api/admin/organizations/{org.id}/suspend", {})

    response = api.post(users_url(org, "/invite"), {"email": "old@acme.example"})

    org.refresh_from_db()
    assert_refused_as_inactive(response, org)
    assert not Invitation.objects.exists()
    assert not Message.objects.filter(recipient="old@acme.example").exists()


def test_a_batch_into_an_inactive_organization_is_422_as_a_whole(api, closed_org):
    batch = {"users": [{"email": "b1@acme.example"}, {"email": "b2@acme.example", "password": "long-pass-1"}]}

    response = api.post(users_url(closed_org, "/batch"), batch)

    assert_refused_as_inactive(response, closed_org)
    assert not User.objects.filter(organization=closed_org).exists()
    assert not AuditEntry.objects.filter(event_type="user.batch.created").exists()


def test_a_suspended_organization_takes_users_again_once_activated(api, org):
    api.post(f"/api/admin/organizations/{org.id}/suspend", {})
    assert api.post(users_url(org), {"email": "early@acme.example"}).status_code == 422

    api.post(f"/api/admin/organizations/{org.id}/activate", {})

    assert api.post(users_url(org), {"email": "late@acme.example"}).status_code == 201


def test_an_api_key_for_an_inactive_organization_is_refused_by_the_same_rule(api, closed_org):
    body = {"name": "bot", "organizationId": str(closed_org.id), "roles": ["porta-user-admin"]}

    assert_refused_as_inactive(api.post("/api/admin/api-keys", body), closed_org)
