"""The Django admin grants what the admin roles grant in the API: reading sessions and API keys
needs their read permission, revoking them the permission the API's revoke needs."""

from __future__ import annotations

import pytest
from django.test import Client

from apikeys.models import AdminApiKey
from audit.models import AuditEntry
from oidc.models import Session
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, issue_token

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def session(initialized) -> Session:
    issue_token(Client(), ADMIN_EMAIL, ADMIN_PASSWORD)
    return Session.objects.get()


@pytest.fixture
def api_key(api, super_admin_org) -> AdminApiKey:
    body = {"name": "automation", "organizationId": None, "roles": ["porta-auditor"]}
    response = api.post("/api/admin/api-keys", body)
    assert response.status_code == 201, response.content
    return AdminApiKey.objects.get(pk=response.json()["apiKey"]["id"])


def revoke_sessions(client: Client, session: Session):
    return client.post(
        "/admin/oidc/session/", {"action": "revoke_selected", "_selected_action": [str(session.id)]}
    )


def test_an_auditor_browses_sessions_in_the_django_admin(make_admin, session):
    assert signed_in(make_admin("porta-auditor")).get("/admin/oidc/session/").status_code == 200


def test_an_auditor_cannot_revoke_a_session_from_the_django_admin(make_admin, session):
    revoke_sessions(signed_in(make_admin("porta-auditor")), session)

    session.refresh_from_db()
    assert session.revoked_at is None


def test_a_user_admin_revokes_a_session_from_the_django_admin_through_the_service(make_admin, session):
    revoke_sessions(signed_in(make_admin("porta-user-admin")), session)

    session.refresh_from_db()
    assert session.revoked_at is not None
    assert AuditEntry.objects.filter(event_type="session.revoked", target_id=session.id).exists()


def test_an_auditor_browses_api_keys_but_cannot_revoke_them(make_admin, api_key):
    auditor = signed_in(make_admin("porta-auditor"))
    assert auditor.get("/admin/apikeys/adminapikey/").status_code == 200

    auditor.post(
        "/admin/apikeys/adminapikey/", {"action": "revoke_selected", "_selected_action": [str(api_key.id)]}
    )

    api_key.refresh_from_db()
    assert api_key.revoked_at is None


def test_an_admin_without_session_permissions_does_not_see_sessions(make_admin, session):
    response = signed_in(make_admin("porta-app-admin")).get("/admin/oidc/session/")

    assert response.status_code == 403
