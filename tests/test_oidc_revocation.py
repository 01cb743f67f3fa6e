"""RFC 7009 revocation at ``/<orgSlug>/auth/revoke`` (and ``/token/revocation``): a client
revokes its own tokens; revoking a user's refresh or access token ends its family and its login
session, so every token of that login stops; unknown tokens answer 200 all the same."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEntry
from oidc.models import RefreshToken, Session
from organizations.models import OrganizationStatus
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, issue_token
from tests.oidc_flows import make_tenant
from tests.oidc_tokens import (
    client_token,
    introspect,
    post,
    refresh_as_cli,
    revoke,
    revoke_as_cli,
    user_tokens,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant(initialized):
    return make_tenant("acme")


@pytest.fixture
def tokens(tenant):
    return user_tokens(tenant, scope="openid offline_access")


def _active(tenant, token: str) -> bool:
    return introspect(tenant, token).json()["active"]


def test_revoking_a_refresh_token_answers_200(tenant, tokens):
    response = revoke_as_cli(tenant, tokens["refresh_token"], token_type_hint="refresh_token")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_a_revoked_refresh_token_can_no_longer_be_used(tenant, tokens):
    revoke_as_cli(tenant, tokens["refresh_token"])
    response = refresh_as_cli(tenant, tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_revoking_a_refresh_token_ends_its_whole_family(tenant, tokens):
    rotated = refresh_as_cli(tenant, tokens["refresh_token"]).json()
    revoke_as_cli(tenant, rotated["refresh_token"])
    family = RefreshToken.objects.filter(family_id=RefreshToken.objects.first().family_id)
    assert family.count() == 2
    assert not family.filter(revoked_at__isnull=True).exists()


def test_revoking_a_refresh_token_ends_the_access_tokens_of_its_login(tenant, tokens):
    revoke_as_cli(tenant, tokens["refresh_token"])
    assert _active(tenant, tokens["access_token"]) is False


def test_revoking_a_refresh_token_revokes_its_session(tenant, tokens):
    revoke_as_cli(tenant, tokens["refresh_token"])
    assert Session.objects.get().revoked_at is not None


def test_revoking_an_access_token_ends_its_login_and_refresh_token(tenant, tokens):
    assert revoke_as_cli(tenant, tokens["access_token"], token_type_hint="access_token").status_code == 200
    assert _active(tenant, tokens["access_token"]) is False
    assert refresh_as_cli(tenant, tokens["refresh_token"]).status_code == 400


def test_revoking_a_token_leaves_the_users_other_logins_alone(tenant, tokens):
    other = user_tokens(tenant, scope="openid offline_access")
    revoke_as_cli(tenant, tokens["refresh_token"])
    assert _active(tenant, other["access_token"]) is True


def test_revoking_is_audited(tenant, tokens):
    revoke_as_cli(tenant, tokens["refresh_token"])
    entry = AuditEntry.objects.get(event_type="token.revoked")
    assert entry.organization_id == tenant.organization.id
    assert entry.actor_type == "client"
    assert entry.metadata["tokenType"] == "refresh_token"
    assert entry.metadata["sessionRevoked"] is True
    assert AuditEntry.objects.filter(event_type="session.revoked").exists()


def test_revoking_twice_answers_200_both_times(tenant, tokens):
    assert revoke_as_cli(tenant, tokens["refresh_token"]).status_code == 200
    assert revoke_as_cli(tenant, tokens["refresh_token"]).status_code == 200
    assert AuditEntry.objects.filter(event_type="token.revoked").count() == 1


def test_revoking_an_unknown_token_answers_200(tenant):
    response = revoke(tenant, "never-issued")
    assert response.status_code == 200


def test_revoking_a_tampered_token_answers_200_and_changes_nothing(tenant, tokens):
    header, payload, signature = tokens["access_token"].split(".")
    response = revoke_as_cli(tenant, f"{header}.{payload}.{signature[:-4]}AAAA")
    assert response.status_code == 200
    assert Session.objects.get().revoked_at is None


def test_another_clients_token_is_refused_and_stays_active(tenant, tokens):
    response = revoke(tenant, tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert _active(tenant, tokens["refresh_token"]) is True


def test_another_organizations_token_is_unknown_here(tenant):
    globex = make_tenant("globex")
    globex_tokens = user_tokens(globex)
    assert revoke(tenant, globex_tokens["access_token"]).status_code == 200
    assert Session.objects.get(organization=globex.organization).revoked_at is None


def test_a_client_credentials_token_cannot_be_revoked(tenant):
    response = revoke(tenant, client_token(tenant))
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_token_type"


def test_revocation_without_client_authentication_is_401(tenant, tokens):
    response = post("/acme/auth/revoke", {"token": tokens["refresh_token"]})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert _active(tenant, tokens["refresh_token"]) is True


def test_a_request_without_a_token_is_invalid_request(tenant):
    response = post("/acme/auth/revoke", {"client_id": "acme-cli"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_get_is_not_allowed(tenant):
    assert Client().get("/acme/auth/revoke").status_code == 405


def test_the_upstream_alias_revokes_as_well(tenant, tokens):
    response = post("/acme/token/revocation", {"token": tokens["refresh_token"], "client_id": "acme-cli"})
    assert response.status_code == 200
    assert _active(tenant, tokens["refresh_token"]) is False


def test_a_suspended_organization_answers_403(tenant, tokens):
    tenant.organization.status = OrganizationStatus.SUSPENDED
    tenant.organization.save(update_fields=["status"])
    assert revoke_as_cli(tenant, tokens["refresh_token"]).status_code == 403


def test_a_revoked_admin_token_no_longer_works_at_the_admin_api(initialized):
    client = Client()
    token = issue_token(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token['access_token']}"}
    assert client.get("/api/admin/organizations", **bearer).status_code == 200
    response = post("/porta-admin/auth/revoke", {"token": token["access_token"], "client_id": "porta-cli"})
    assert response.status_code == 200
    assert client.get("/api/admin/organizations", **bearer).status_code == 401


def test_revocation_is_rate_limited_per_client(tenant, settings):
    settings.PORTA_OIDC_CLIENT_LIMIT = 2
    statuses = [revoke(tenant, "never-issued").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_revoking_a_refresh_token_from_before_sessions_ends_its_family(tenant):
    from porta.core.tokens import keyed_hash
    from tests.factories.oidc import RefreshTokenFactory

    legacy = RefreshTokenFactory(
        session=None, organization=tenant.organization, user=tenant.user, client=tenant.cli,
        token_hash=keyed_hash("legacy-refresh-token"),
    )  # fmt: skip
    sibling = RefreshTokenFactory(
        session=None, organization=tenant.organization, user=tenant.user, client=tenant.cli,
        family_id=legacy.family_id, used_at="2020-01-01T00:00:00Z",
    )  # fmt: skip
    assert revoke_as_cli(tenant, "legacy-refresh-token").status_code == 200
    legacy.refresh_from_db()
    sibling.refresh_from_db()
    assert legacy.revoked_at is not None
    assert sibling.revoked_at is not None
