"""Userinfo at ``/<orgSlug>/auth/userinfo`` (and ``/me``): the signed-in user's claims for the
scopes the access token was granted; RFC 6750 errors for missing, invalid and under-scoped
tokens."""

from __future__ import annotations

import pytest
from django.test import Client

from oidc.models import Session
from oidc.session_services import session_revoke
from organizations.models import OrganizationStatus
from porta.core.context import Actor
from tests.oidc_flows import make_tenant
from tests.oidc_tokens import client_token, user_tokens

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant(initialized):
    tenant = make_tenant("acme")
    tenant.user.family_name = "Lovelace"
    tenant.user.email_verified = True
    tenant.user.save(update_fields=["family_name", "email_verified"])
    return tenant


def _userinfo(token: str | None, path: str = "/acme/auth/userinfo", method: str = "get"):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return getattr(Client(), method)(path, **headers)


def test_userinfo_returns_the_subject_and_profile_claims(tenant):
    response = _userinfo(user_tokens(tenant)["access_token"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["sub"] == str(tenant.user.id)
    assert body["name"] == "Ada Lovelace"
    assert body["given_name"] == "Ada"
    assert body["family_name"] == "Lovelace"
    assert response["Cache-Control"] == "no-store"


def test_userinfo_leaves_out_the_email_without_the_email_scope(tenant):
    body = _userinfo(user_tokens(tenant)["access_token"]).json()
    assert "email" not in body


def test_userinfo_includes_the_email_with_the_email_scope(tenant):
    body = _userinfo(user_tokens(tenant, scope="openid email")["access_token"]).json()
    assert body["email"] == tenant.user.email
    assert body["email_verified"] is True
    assert "given_name" not in body


def test_userinfo_names_the_organization(tenant):
    body = _userinfo(user_tokens(tenant)["access_token"]).json()
    assert body["org_slug"] == "acme"
    assert body["org_id"] == str(tenant.organization.id)


def test_userinfo_answers_a_post_too(tenant):
    assert _userinfo(user_tokens(tenant)["access_token"], method="post").status_code == 200


def test_userinfo_accepts_the_token_in_a_form_body(tenant):
    token = user_tokens(tenant)["access_token"]
    response = Client().post("/acme/auth/userinfo", {"access_token": token})
    assert response.status_code == 200


def test_the_upstream_alias_me_returns_the_same_claims(tenant):
    token = user_tokens(tenant)["access_token"]
    assert _userinfo(token, path="/acme/me").json() == _userinfo(token).json()


def test_userinfo_without_a_token_is_401_with_a_bearer_challenge(tenant):
    response = _userinfo(None)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_userinfo_with_a_crafted_token_is_401_invalid_token(tenant):
    response = _userinfo("crafted.token.value")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_userinfo_with_a_token_of_a_revoked_session_is_401(tenant):
    token = user_tokens(tenant)["access_token"]
    session_revoke(actor=Actor.system("tests"), session=Session.objects.get())
    assert _userinfo(token).status_code == 401


def test_userinfo_with_another_organizations_token_is_401(tenant):
    globex = make_tenant("globex")
    assert _userinfo(user_tokens(globex)["access_token"]).status_code == 401


def test_userinfo_with_a_client_credentials_token_is_401(tenant):
    assert _userinfo(client_token(tenant)).status_code == 401


def test_userinfo_with_a_refresh_token_is_401(tenant):
    tokens = user_tokens(tenant, scope="openid offline_access")
    assert _userinfo(tokens["refresh_token"]).status_code == 401


def test_userinfo_without_the_openid_scope_is_403_insufficient_scope(tenant):
    response = _userinfo(user_tokens(tenant, scope="profile")["access_token"])
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def test_userinfo_refuses_a_token_sent_twice(tenant):
    token = user_tokens(tenant)["access_token"]
    response = Client().post(
        "/acme/auth/userinfo", {"access_token": token}, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_userinfo_does_not_answer_delete(tenant):
    assert Client().delete("/acme/auth/userinfo").status_code == 405


def test_userinfo_of_a_suspended_organization_is_403(tenant):
    token = user_tokens(tenant)["access_token"]
    tenant.organization.status = OrganizationStatus.SUSPENDED
    tenant.organization.save(update_fields=["status"])
    assert _userinfo(token).status_code == 403


def test_userinfo_is_rate_limited_per_ip(tenant, settings):
    token = user_tokens(tenant)["access_token"]
    settings.PORTA_OIDC_IP_LIMIT = 2
    assert [_userinfo(token).status_code for _ in range(3)] == [200, 200, 429]
