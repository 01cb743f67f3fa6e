"""The token endpoint's client_credentials grant, client authentication at it, discovery, the
upstream aliases and the per-IP / per-client rate limits of the protocol endpoints."""

from __future__ import annotations

from urllib.parse import urlencode

import jwt
import pytest
from django.test import Client

from applications.models import ApplicationStatus, ClientSecret, ClientStatus
from applications.services.clients import client_secret_create, client_secret_revoke
from oidc.provider import PortaClient
from organizations.models import OrganizationStatus
from porta.core.context import Actor
from tests.oidc_flows import basic, make_tenant

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def tenant(initialized):
    return make_tenant("acme")


def _post(path: str, form: dict[str, str], **headers):
    return Client().post(path, urlencode(form), content_type=FORM, **headers)


def _cc(tenant, secret: str | None = None, path: str = "/acme/auth/token", **form: str):
    return _post(
        path,
        {"grant_type": "client_credentials", **form},
        HTTP_AUTHORIZATION=basic("acme-web", secret or tenant.web_secret),
    )


# -- client_credentials --------------------------------------------------------------------------


def test_a_confidential_client_gets_an_access_token_with_basic_credentials(tenant):
    response = _cc(tenant)
    assert response.status_code == 200, response.content
    body = response.json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "acme-web"
    assert claims["client_id"] == "acme-web"
    assert claims["org_id"] == str(tenant.organization.id)
    assert "refresh_token" not in body
    assert "id_token" not in body


def test_the_client_credentials_token_has_the_access_token_header(tenant):
    header = jwt.get_unverified_header(_cc(tenant).json()["access_token"])
    assert header["alg"] == "ES256"
    assert header["typ"] == "at+jwt"
    assert header["kid"]


def test_a_client_registered_for_post_authenticates_in_the_body(initialized):
    tenant = make_tenant("postco")
    tenant.web.token_endpoint_auth_method = "client_secret_post"
    tenant.web.save(update_fields=["token_endpoint_auth_method"])
    response = _post(
        "/postco/auth/token",
        {"grant_type": "client_credentials", "client_id": "postco-web", "client_secret": tenant.web_secret},
    )
    assert response.status_code == 200, response.content


def test_a_client_must_use_the_method_it_registered(tenant):
    response = _post(
        "/acme/auth/token",
        {"grant_type": "client_credentials", "client_id": "acme-web", "client_secret": tenant.web_secret},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_wrong_secret_is_invalid_client_with_a_basic_challenge(tenant):
    response = _cc(tenant, "not-the-secret")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic")


def test_a_public_client_cannot_use_client_credentials(tenant):
    response = _post("/acme/auth/token", {"grant_type": "client_credentials", "client_id": "acme-cli"})
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_a_client_without_the_grant_is_unauthorized(tenant):
    tenant.web.grant_types = ["authorization_code"]
    tenant.web.save(update_fields=["grant_types"])
    response = _cc(tenant)
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_both_secrets_work_while_a_rotation_overlaps_and_the_revoked_one_stops(tenant):
    actor = Actor.system("tests")
    _row, new_secret = client_secret_create(actor=actor, client=tenant.web)
    assert _cc(tenant, new_secret).status_code == 200
    assert _cc(tenant, tenant.web_secret).status_code == 200
    old = ClientSecret.objects.filter(client=tenant.web).order_by("created_at").first()
    client_secret_revoke(actor=actor, secret=old)
    assert _cc(tenant, tenant.web_secret).status_code == 401
    assert _cc(tenant, new_secret).status_code == 200


@pytest.mark.parametrize("status", [ClientStatus.INACTIVE, ClientStatus.REVOKED])
def test_a_client_that_is_not_active_is_invalid(tenant, status):
    tenant.web.status = status
    tenant.web.save(update_fields=["status"])
    assert _cc(tenant).status_code == 401


def test_a_client_of_an_inactive_application_is_invalid(tenant):
    tenant.application.status = ApplicationStatus.INACTIVE
    tenant.application.save(update_fields=["status"])
    assert _cc(tenant).status_code == 401


def test_a_client_of_another_organization_is_invalid_here(tenant):
    other = make_tenant("other")
    response = _post(
        "/acme/auth/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic("other-web", other.web_secret),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_suspended_organization_answers_403(tenant):
    tenant.organization.status = OrganizationStatus.SUSPENDED
    tenant.organization.save(update_fields=["status"])
    assert _cc(tenant).status_code == 403


def test_an_archived_organization_answers_404(tenant):
    tenant.organization.status = OrganizationStatus.ARCHIVED
    tenant.organization.save(update_fields=["status"])
    assert _cc(tenant).status_code == 404


def test_a_narrower_scope_is_granted_as_asked(tenant):
    assert _cc(tenant, scope="openid").json()["scope"] == "openid"


def test_a_scope_beyond_the_clients_is_invalid_scope(tenant):
    response = _cc(tenant, scope="openid admin")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_an_unknown_grant_type_is_unsupported(tenant):
    response = _post(
        "/acme/auth/token", {"grant_type": "implicit"}, HTTP_AUTHORIZATION=basic("acme-web", "x")
    )
    assert response.json()["error"] == "unsupported_grant_type"


def test_the_upstream_token_alias_issues_tokens(tenant):
    assert _cc(tenant, path="/acme/token").status_code == 200


# -- discovery -----------------------------------------------------------------------------------


def test_every_organization_publishes_its_provider_metadata(tenant, settings):
    response = Client().get("/acme/.well-known/openid-configuration")
    assert response.status_code == 200
    meta = response.json()
    issuer = f"{settings.PORTA_PUBLIC_URL}/acme"
    assert meta["issuer"] == issuer
    assert meta["authorization_endpoint"] == f"{issuer}/auth/authorize"
    assert meta["token_endpoint"] == f"{issuer}/auth/token"
    assert meta["jwks_uri"] == f"{issuer}/auth/jwks"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert "client_credentials" in meta["grant_types_supported"]
    assert meta["id_token_signing_alg_values_supported"] == ["ES256"]


def test_the_metadata_of_a_suspended_organization_is_403(tenant):
    tenant.organization.status = OrganizationStatus.SUSPENDED
    tenant.organization.save(update_fields=["status"])
    assert Client().get("/acme/.well-known/openid-configuration").status_code == 403


def test_the_metadata_of_an_unknown_organization_is_404(initialized):
    assert Client().get("/nobody/.well-known/openid-configuration").status_code == 404


def test_the_admin_issuers_metadata_points_at_endpoints_that_answer(initialized, settings):
    meta = Client().get("/api/admin/metadata").json()
    client = Client()
    prefix = settings.PORTA_PUBLIC_URL
    authorize = client.get(meta["authorization_endpoint"].removeprefix(prefix) + "?client_id=porta-cli")
    assert authorize.status_code != 404
    assert client.get(meta["jwks_uri"].removeprefix(prefix)).status_code == 200
    discovery = client.get("/porta-admin/.well-known/openid-configuration").json()
    assert discovery["authorization_endpoint"] == meta["authorization_endpoint"]
    assert discovery["token_endpoint"] == meta["token_endpoint"]


def test_the_upstream_jwks_alias_serves_the_keys(initialized):
    response = Client().get("/porta-admin/jwks")
    assert response.status_code == 200
    assert response.json()["keys"]


# -- rate limits ---------------------------------------------------------------------------------


def test_the_token_endpoint_is_rate_limited_per_client(tenant, settings):
    settings.PORTA_OIDC_CLIENT_LIMIT = 3
    for _ in range(3):
        assert _cc(tenant).status_code == 200
    limited = _cc(tenant)
    assert limited.status_code == 429
    assert limited.json()["error"] == "slow_down"
    assert int(limited["Retry-After"]) > 0


def test_the_per_client_limit_leaves_other_clients_alone(tenant, settings):
    settings.PORTA_OIDC_CLIENT_LIMIT = 2
    for _ in range(3):
        _cc(tenant)
    response = _post("/acme/auth/token", {"grant_type": "refresh_token", "client_id": "acme-cli"})
    assert response.status_code == 400  # refused for its missing token, not throttled


def test_the_token_endpoint_is_rate_limited_per_ip(tenant, settings):
    settings.PORTA_OIDC_IP_LIMIT = 2
    for _ in range(2):
        _cc(tenant)
    response = _post("/acme/auth/token", {"grant_type": "refresh_token", "client_id": "acme-cli"})
    assert response.status_code == 429


def test_the_login_page_is_rate_limited_per_ip(tenant, settings):
    settings.PORTA_OIDC_IP_LIMIT = 2
    client = Client()
    for _ in range(2):
        client.get("/acme/auth/authorize?client_id=acme-cli")
    response = client.get("/acme/auth/authorize?client_id=acme-cli")
    assert response.status_code == 429
    assert response.has_header("Retry-After")


# -- authlib's own secret check -------------------------------------------------------------------


def test_authlibs_secret_check_accepts_an_active_secret_of_the_client(tenant):
    assert PortaClient(tenant.web).check_client_secret(tenant.web_secret) is True


def test_authlibs_secret_check_refuses_a_wrong_secret(tenant):
    assert PortaClient(tenant.web).check_client_secret("not-the-secret") is False


def test_authlibs_secret_check_refuses_another_clients_secret(tenant):
    other = make_tenant("other")
    assert PortaClient(tenant.web).check_client_secret(other.web_secret) is False
