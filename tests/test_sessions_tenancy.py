"""Sessions under a principal scoped to one organization: another organization's sessions and users
are a 404 for every method, and nothing changes."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEntry
from oidc.api.views import SessionViewSet, UserSessionViewSet
from oidc.models import Session
from tests.conftest import TENANT_PASSWORD, post_form
from tests.factories import OrganizationFactory
from tests.test_tenancy import call, scoped_to


@pytest.fixture
def tenant_session(tenant_user) -> Session:
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
    return Session.objects.get(user=tenant_user)


@pytest.fixture
def stranger(initialized):
    """A principal scoped to an organization that is not the tenant's."""
    return scoped_to(OrganizationFactory())


def _unchanged(session: Session) -> None:
    fresh = Session.objects.get(pk=session.pk)
    assert (fresh.revoked_at, fresh.expires_at) == (None, session.expires_at)
    assert not AuditEntry.objects.filter(event_type__startswith="session.").exists()
    assert not AuditEntry.objects.filter(event_type="user.sessions.revoked").exists()


def test_a_scoped_caller_does_not_list_another_organizations_sessions(tenant_session, stranger):
    response = call(SessionViewSet, {"get": "list"}, stranger)
    assert response.status_code == 200
    assert response.data["data"] == []


def test_a_scoped_caller_gets_404_reading_another_organizations_session(tenant_session, stranger):
    response = call(SessionViewSet, {"get": "retrieve"}, stranger, pk=str(tenant_session.id))
    assert response.status_code == 404


def test_a_scoped_caller_cannot_revoke_another_organizations_session(tenant_session, stranger):
    response = call(
        SessionViewSet, {"delete": "destroy"}, stranger, method="delete", pk=str(tenant_session.id)
    )
    assert response.status_code == 404
    _unchanged(tenant_session)


def test_a_scoped_caller_cannot_extend_another_organizations_session(tenant_session, stranger):
    response = call(SessionViewSet, {"patch": "extend"}, stranger, method="patch", pk=str(tenant_session.id))
    assert response.status_code == 404
    _unchanged(tenant_session)


def test_a_scoped_caller_cannot_revoke_another_organizations_user_sessions(tenant_session, stranger):
    response = call(
        UserSessionViewSet,
        {"delete": "revoke_all"},
        stranger,
        method="delete",
        user_id=str(tenant_session.user_id),
    )
    assert response.status_code == 404
    _unchanged(tenant_session)


def test_a_scoped_caller_sees_and_revokes_its_own_organizations_sessions(tenant_session):
    own = scoped_to(tenant_session.organization)
    listed = call(SessionViewSet, {"get": "list"}, own)
    assert [row["id"] for row in listed.data["data"]] == [str(tenant_session.id)]
    response = call(SessionViewSet, {"delete": "destroy"}, own, method="delete", pk=str(tenant_session.id))
    assert response.status_code == 204
    entry = AuditEntry.objects.get(event_type="session.revoked")
    assert entry.organization_id == tenant_session.organization_id
