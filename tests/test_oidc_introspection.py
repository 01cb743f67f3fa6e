"""RFC 7662 introspection at ``/<orgSlug>/auth/introspect`` (and ``/token/introspection``):
client-authenticated, active with the token's claims for a live token of this issuer, and
``{"active": false}`` for crafted, tampered, expired, revoked and foreign-issuer tokens."""

from __future__ import annotations

import time
import uuid

import pytest
from django.test import Client

from applications.models import ClientStatus
from oidc.models import Session
from oidc.session_services import session_revoke
from organizations.models import OrganizationStatus, UserStatus
from porta.core.context import Actor
from tests.oidc_flows import basic, make_tenant
from tests.oidc_tokens import (
    claims_of,
    client_token,
    forged,
    introspect,
    issuer,
    post,
    refresh_as_cli,
    signed_by_keyring,
    tampered,
    user_tokens,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant(initialized):
    return make_tenant("acme")


def _active(response) -> bool:
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    return response.json()["active"]


def _genuine_claims(tenant, **overrides) -> dict:
    now = int(time.time())
    return {
        "iss": issuer(tenant),
        "sub": "acme-web",
        "aud": "acme-web",
        "client_id": "acme-web",
        "org_id": str(tenant.organization.id),
        "scope": "openid",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        **overrides,
    }


# -- active tokens --------------------------------------------------------------------------------


def test_a_users_access_token_is_active_with_its_claims(tenant):
    tokens = user_tokens(tenant)
    body = introspect(tenant, tokens["access_token"]).json()
    assert body["active"] is True
    assert body["token_type"] == "Bearer"
    assert body["sub"] == str(tenant.user.id)
    assert body["client_id"] == "acme-cli"
    assert body["iss"] == issuer(tenant)
    assert body["scope"] == "openid profile"
    assert body["username"] == tenant.user.email
    assert body["sid"] == claims_of(tokens["access_token"])["sid"]
    assert body["org_slug"] == "acme"


def test_a_client_credentials_token_is_active_with_the_client_as_subject(tenant):
    body = introspect(tenant, client_token(tenant)).json()
    assert body["active"] is True
    assert body["sub"] == "acme-web"
    assert "username" not in body


def test_a_live_refresh_token_is_active(tenant):
    tokens = user_tokens(tenant, scope="openid offline_access")
    body = introspect(tenant, tokens["refresh_token"], token_type_hint="refresh_token").json()
    assert body["active"] is True
    assert body["client_id"] == "acme-cli"
    assert body["sub"] == str(tenant.user.id)
    assert body["scope"] == "openid offline_access"
    assert body["exp"] > time.time()


def test_a_refresh_token_is_found_even_when_hinted_as_an_access_token(tenant):
    tokens = user_tokens(tenant, scope="openid offline_access")
    assert _active(introspect(tenant, tokens["refresh_token"], token_type_hint="access_token"))


def test_an_unknown_token_type_hint_is_ignored(tenant):
    assert _active(introspect(tenant, client_token(tenant), token_type_hint="id_token"))


def test_the_upstream_alias_introspects_as_well(tenant):
    assert _active(introspect(tenant, client_token(tenant), path="token/introspection"))


# -- inactive tokens ------------------------------------------------------------------------------


def test_a_crafted_string_is_inactive(tenant):
    assert _active(introspect(tenant, "not-a-token-at-all")) is False


def test_a_crafted_jwt_signed_with_another_key_is_inactive(tenant):
    assert _active(introspect(tenant, forged(_genuine_claims(tenant)))) is False


def test_an_unsigned_token_is_inactive(tenant):
    import jwt

    unsigned = jwt.encode(_genuine_claims(tenant), None, algorithm="none", headers={"typ": "at+jwt"})
    assert _active(introspect(tenant, unsigned)) is False


def test_a_tampered_token_is_inactive(tenant):
    token = client_token(tenant)
    assert _active(introspect(tenant, tampered(token, scope="openid admin"))) is False


def test_an_expired_token_is_inactive(tenant):
    now = int(time.time())
    expired = signed_by_keyring(_genuine_claims(tenant, iat=now - 600, nbf=now - 600, exp=now - 60))
    assert _active(introspect(tenant, expired)) is False


def test_an_expired_refresh_token_is_inactive(tenant):
    from oidc.models import RefreshToken

    tokens = user_tokens(tenant, scope="openid offline_access")
    RefreshToken.objects.update(expires_at="2000-01-01T00:00:00Z")
    assert _active(introspect(tenant, tokens["refresh_token"])) is False


def test_an_access_token_of_a_revoked_session_is_inactive(tenant):
    tokens = user_tokens(tenant)
    session_revoke(actor=Actor.system("tests"), session=Session.objects.get())
    assert _active(introspect(tenant, tokens["access_token"])) is False


def test_a_refresh_token_of_a_revoked_session_is_inactive(tenant):
    tokens = user_tokens(tenant, scope="openid offline_access")
    session_revoke(actor=Actor.system("tests"), session=Session.objects.get())
    assert _active(introspect(tenant, tokens["refresh_token"])) is False


def test_a_rotated_refresh_token_is_inactive(tenant):
    tokens = user_tokens(tenant, scope="openid offline_access")
    assert refresh_as_cli(tenant, tokens["refresh_token"]).status_code == 200
    assert _active(introspect(tenant, tokens["refresh_token"])) is False


def test_a_token_of_another_organizations_issuer_is_inactive(tenant):
    globex = make_tenant("globex")
    assert _active(introspect(tenant, client_token(globex))) is False


def test_a_token_naming_this_issuer_but_another_organizations_client_is_inactive(tenant):
    make_tenant("globex")
    token = signed_by_keyring(_genuine_claims(tenant, sub="globex-web", client_id="globex-web"))
    assert _active(introspect(tenant, token)) is False


def test_an_id_token_is_not_an_active_access_token(tenant):
    tokens = user_tokens(tenant)
    assert _active(introspect(tenant, tokens["id_token"])) is False


def test_a_token_of_a_suspended_user_is_inactive(tenant):
    tokens = user_tokens(tenant)
    tenant.user.status = UserStatus.SUSPENDED
    tenant.user.save(update_fields=["status"])
    assert _active(introspect(tenant, tokens["access_token"])) is False


def test_a_token_of_a_deactivated_client_is_inactive(tenant):
    tokens = user_tokens(tenant)
    tenant.cli.status = ClientStatus.INACTIVE
    tenant.cli.save(update_fields=["status"])
    assert _active(introspect(tenant, tokens["access_token"])) is False


def test_an_oversized_token_is_inactive_not_an_error(tenant):
    assert _active(introspect(tenant, "a." + "b" * 20_000 + ".c")) is False


# -- who may ask ----------------------------------------------------------------------------------


def test_introspection_without_client_authentication_is_401(tenant):
    response = post("/acme/auth/introspect", {"token": client_token(tenant)})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic")


def test_introspection_with_a_wrong_secret_is_401(tenant):
    response = post(
        "/acme/auth/introspect", {"token": client_token(tenant)}, HTTP_AUTHORIZATION=basic("acme-web", "nope")
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_client_of_another_organization_cannot_introspect_here(tenant):
    globex = make_tenant("globex")
    response = post(
        "/acme/auth/introspect",
        {"token": client_token(tenant)},
        HTTP_AUTHORIZATION=basic("globex-web", globex.web_secret),
    )
    assert response.status_code == 401


def test_a_public_client_sees_its_own_tokens_as_active(tenant):
    tokens = user_tokens(tenant)
    response = post("/acme/auth/introspect", {"token": tokens["access_token"], "client_id": "acme-cli"})
    assert _active(response)


def test_a_public_client_cannot_introspect_another_clients_token(tenant):
    response = post("/acme/auth/introspect", {"token": client_token(tenant), "client_id": "acme-cli"})
    assert _active(response) is False


# -- malformed requests and the organization ------------------------------------------------------


def test_a_request_without_a_token_is_invalid_request(tenant):
    response = post("/acme/auth/introspect", {}, HTTP_AUTHORIZATION=basic("acme-web", tenant.web_secret))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_json_body_is_refused(tenant):
    response = Client().post(
        "/acme/auth/introspect",
        {"token": "x"},
        content_type="application/json",
        HTTP_AUTHORIZATION=basic("acme-web", tenant.web_secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_get_is_not_allowed(tenant):
    response = Client().get("/acme/auth/introspect")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_a_suspended_organization_answers_403(tenant):
    token = client_token(tenant)
    tenant.organization.status = OrganizationStatus.SUSPENDED
    tenant.organization.save(update_fields=["status"])
    assert introspect(tenant, token).status_code == 403


def test_an_archived_organization_answers_404(tenant):
    token = client_token(tenant)
    tenant.organization.status = OrganizationStatus.ARCHIVED
    tenant.organization.save(update_fields=["status"])
    assert introspect(tenant, token).status_code == 404


def test_an_unknown_organization_answers_404(tenant):
    response = post("/nowhere/auth/introspect", {"token": "x"})
    assert response.status_code == 404


def test_introspection_is_rate_limited_per_client(tenant, settings):
    settings.PORTA_OIDC_CLIENT_LIMIT = 2
    token = client_token(tenant)
    assert [introspect(tenant, token).status_code for _ in range(3)] == [200, 200, 429]
