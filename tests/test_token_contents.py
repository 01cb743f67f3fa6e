"""What tokens carry (issue 14, Tokens): ES256 with a published ``kid`` and a ``typ``; the
organization (``org_id``, ``org_slug``); the user's roles and permissions of the client's
application; the custom claims flagged for that kind of token — whatever the grant.

Tokens come from the real token endpoint and are verified with PyJWT through the issuer's JWKS."""

from __future__ import annotations

from urllib.parse import urlencode

import jwt
import pytest
from django.test import Client

from applications.models import Application, ClaimDefinition, ClaimValue
from rbac.models import Permission, Role, RolePermission, UserRole
from tests.client_factories import make_client
from tests.oidc_flows import PASSWORD, Tenant, basic, browser, code_for_cli, exchange_cli, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant(initialized) -> Tenant:
    tenant = make_tenant("acme")
    make_client(
        tenant.organization,
        tenant.application,
        client_id="acme-pw",
        client_type="public",
        application_type="native",
        grant_types=["password", "refresh_token"],
        token_endpoint_auth_method="none",
        scope="openid profile email",
    )
    return tenant


def give_role(user, application: Application, role_slug: str, *permission_slugs: str) -> Role:
    role, _ = Role.objects.get_or_create(
        application=application, slug=role_slug, defaults={"name": role_slug}
    )
    for slug in permission_slugs:
        permission, _ = Permission.objects.get_or_create(
            application=application, slug=slug, defaults={"name": slug}
        )
        RolePermission.objects.get_or_create(role=role, permission=permission)
    UserRole.objects.create(user=user, role=role)
    return role


def give_claim(user, application: Application, name: str, value, claim_type: str = "string", **flags) -> None:
    claim = ClaimDefinition.objects.create(application=application, name=name, claim_type=claim_type, **flags)
    ClaimValue.objects.create(claim=claim, user=user, value=value)


def token_request(form: dict[str, str], slug: str = "acme", **headers: str):
    return Client().post(
        f"/{slug}/auth/token", urlencode(form), content_type="application/x-www-form-urlencoded", **headers
    )


def password_tokens(tenant: Tenant, client_id: str = "acme-pw") -> dict:
    response = token_request(
        {
            "grant_type": "password",
            "client_id": client_id,
            "username": tenant.user.email,
            "password": PASSWORD,
        }
    )
    assert response.status_code == 200, response.content
    return response.json()


def code_tokens(tenant: Tenant) -> dict:
    client = browser()
    code, verifier = code_for_cli(client, tenant, scope="openid profile")
    response = exchange_cli(client, tenant, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()


def refreshed_tokens(tenant: Tenant, refresh_token: str, client_id: str = "acme-pw") -> dict:
    response = token_request(
        {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": refresh_token}
    )
    assert response.status_code == 200, response.content
    return response.json()


def client_tokens(tenant: Tenant) -> dict:
    response = token_request(
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(tenant.web.client_id, tenant.web_secret),
    )
    assert response.status_code == 200, response.content
    return response.json()


def verified(token: str, *, typ: str, audience: str, slug: str = "acme") -> dict:
    """The token's claims, verified as a relying party would: the key by ``kid`` from the
    issuer's JWKS, ES256 only, the issuer and audience checked; the header's ``typ`` asserted."""
    jwks = jwt.PyJWKSet.from_json(Client().get(f"/{slug}/auth/jwks").content.decode())
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    assert header["typ"] == typ
    key = next(k for k in jwks.keys if k.key_id == header["kid"])
    return jwt.decode(
        token, key.key, algorithms=["ES256"], audience=audience, issuer=f"http://testserver/{slug}"
    )


def access_claims(body: dict, audience: str = "acme-pw") -> dict:
    return verified(body["access_token"], typ="at+jwt", audience=audience)


def id_claims(body: dict, tenant: Tenant) -> dict:
    return verified(body["id_token"], typ="JWT", audience=tenant.cli.client_id)


# -- signing and the organization -------------------------------------------------------------------


def test_an_access_token_is_es256_signed_by_a_published_key_with_typ_at_jwt(tenant):
    assert access_claims(password_tokens(tenant))["sub"] == str(tenant.user.id)


def test_an_id_token_is_es256_signed_by_a_published_key_with_typ_jwt(tenant):
    assert id_claims(code_tokens(tenant), tenant)["sub"] == str(tenant.user.id)


def test_an_access_token_names_its_organization(tenant):
    claims = access_claims(password_tokens(tenant))
    assert (claims["org_id"], claims["org_slug"]) == (str(tenant.organization.id), "acme")


def test_an_id_token_names_its_organization(tenant):
    claims = id_claims(code_tokens(tenant), tenant)
    assert (claims["org_id"], claims["org_slug"]) == (str(tenant.organization.id), "acme")


# -- roles and permissions of the client's application --------------------------------------------


def test_an_access_token_carries_the_roles_and_permissions_of_the_clients_application(tenant):
    give_role(tenant.user, tenant.application, "editor", "posts:write", "posts:read")
    claims = access_claims(password_tokens(tenant))
    assert claims["roles"] == ["editor"]
    assert claims["permissions"] == ["posts:read", "posts:write"]


def test_an_id_token_carries_the_roles_and_permissions_of_the_clients_application(tenant):
    give_role(tenant.user, tenant.application, "editor", "posts:write")
    claims = id_claims(code_tokens(tenant), tenant)
    assert (claims["roles"], claims["permissions"]) == (["editor"], ["posts:write"])


def test_roles_of_another_application_are_left_out(tenant):
    billing = Application.objects.create(name="Billing", slug="billing")
    give_role(tenant.user, billing, "accountant", "invoices:write")
    claims = access_claims(password_tokens(tenant))
    assert (claims["roles"], claims["permissions"]) == ([], [])


def test_each_client_gets_the_roles_of_its_own_application(tenant):
    billing = Application.objects.create(name="Billing", slug="billing")
    make_client(
        tenant.organization, billing, client_id="billing-pw", client_type="public",
        application_type="native", grant_types=["password"], token_endpoint_auth_method="none",
    )  # fmt: skip
    give_role(tenant.user, tenant.application, "editor")
    give_role(tenant.user, billing, "accountant")
    assert access_claims(password_tokens(tenant, "billing-pw"), audience="billing-pw")["roles"] == [
        "accountant"
    ]
    assert access_claims(password_tokens(tenant))["roles"] == ["editor"]


def test_a_role_granted_after_the_login_is_in_the_next_refreshed_token(tenant):
    first = password_tokens(tenant)
    give_role(tenant.user, tenant.application, "editor", "posts:write")
    claims = access_claims(refreshed_tokens(tenant, first["refresh_token"]))
    assert (claims["roles"], claims["permissions"]) == (["editor"], ["posts:write"])


def test_a_role_taken_away_is_gone_from_the_next_refreshed_token(tenant):
    role = give_role(tenant.user, tenant.application, "editor", "posts:write")
    first = password_tokens(tenant)
    assert access_claims(first)["roles"] == ["editor"]
    UserRole.objects.filter(user=tenant.user, role=role).delete()
    claims = access_claims(refreshed_tokens(tenant, first["refresh_token"]))
    assert (claims["roles"], claims["permissions"]) == ([], [])


# -- custom claims per token type -------------------------------------------------------------------


def test_a_claim_flagged_for_access_tokens_is_in_the_access_token_and_not_the_id_token(tenant):
    give_claim(tenant.user, tenant.application, "plan", "gold", include_in_access_token=True)
    body = code_tokens(tenant)
    assert access_claims(body, audience=tenant.cli.client_id)["plan"] == "gold"
    assert "plan" not in id_claims(body, tenant)


def test_a_claim_flagged_for_id_tokens_is_in_the_id_token_and_not_the_access_token(tenant):
    give_claim(tenant.user, tenant.application, "team", "red", include_in_id_token=True)
    body = code_tokens(tenant)
    assert id_claims(body, tenant)["team"] == "red"
    assert "team" not in access_claims(body, audience=tenant.cli.client_id)


def test_a_claim_flagged_for_userinfo_only_is_in_neither_token(tenant):
    give_claim(tenant.user, tenant.application, "tier", "3", include_in_userinfo=True)
    body = code_tokens(tenant)
    assert "tier" not in id_claims(body, tenant)
    assert "tier" not in access_claims(body, audience=tenant.cli.client_id)


def test_typed_claim_values_keep_their_json_types(tenant):
    give_claim(tenant.user, tenant.application, "level", 7, "number", include_in_access_token=True)
    give_claim(tenant.user, tenant.application, "beta", True, "boolean", include_in_access_token=True)
    give_claim(
        tenant.user, tenant.application, "prefs", {"theme": ["dark"]}, "json", include_in_access_token=True
    )
    claims = access_claims(password_tokens(tenant))
    assert (claims["level"], claims["beta"], claims["prefs"]) == (7, True, {"theme": ["dark"]})


def test_a_claim_of_another_application_is_left_out(tenant):
    billing = Application.objects.create(name="Billing", slug="billing")
    give_claim(tenant.user, billing, "plan", "gold", include_in_access_token=True)
    assert "plan" not in access_claims(password_tokens(tenant))


@pytest.mark.parametrize("name", ["scope", "client_id", "sid", "org_slug", "roles"])
def test_a_custom_claim_named_like_a_protocol_claim_never_displaces_it(tenant, name):
    """A definition written before the name was reserved (the API refuses it now)."""
    give_claim(tenant.user, tenant.application, name, "planted", include_in_access_token=True)
    claims = access_claims(password_tokens(tenant))
    assert claims[name] != "planted"


@pytest.mark.parametrize("name", ["scope", "client_id", "sid", "azp", "auth_time"])
def test_the_claims_api_refuses_a_name_tokens_carry(api, tenant, name):
    response = api.post(
        f"/api/admin/applications/{tenant.application.id}/claims",
        {"claimName": name, "claimType": "string", "includeInAccessToken": True},
    )
    assert response.status_code == 400, response.content
    assert "claimName" in response.json()["details"]


# -- one resolver for every grant -------------------------------------------------------------------


@pytest.mark.parametrize("grant", ["password", "authorization_code", "refresh_token"])
def test_every_user_grant_carries_organization_roles_permissions_and_claims(tenant, grant):
    give_role(tenant.user, tenant.application, "editor", "posts:write")
    give_claim(tenant.user, tenant.application, "plan", "gold", include_in_access_token=True)
    if grant == "password":
        claims = access_claims(password_tokens(tenant))
    elif grant == "authorization_code":
        claims = access_claims(code_tokens(tenant), audience=tenant.cli.client_id)
    else:
        claims = access_claims(refreshed_tokens(tenant, password_tokens(tenant)["refresh_token"]))
    carried = {key: claims[key] for key in ("org_id", "org_slug", "roles", "permissions", "plan")}
    assert carried == {
        "org_id": str(tenant.organization.id),
        "org_slug": "acme",
        "roles": ["editor"],
        "permissions": ["posts:write"],
        "plan": "gold",
    }


def test_a_client_credentials_token_names_its_organization_and_holds_no_user_roles(tenant):
    give_role(tenant.user, tenant.application, "editor", "posts:write")
    claims = access_claims(client_tokens(tenant), audience=tenant.web.client_id)
    assert claims["sub"] == tenant.web.client_id
    carried = {key: claims[key] for key in ("org_id", "org_slug", "roles", "permissions")}
    assert carried == {
        "org_id": str(tenant.organization.id),
        "org_slug": "acme",
        "roles": [],
        "permissions": [],
    }


def test_a_user_without_roles_gets_empty_role_and_permission_lists(tenant):
    claims = access_claims(password_tokens(tenant))
    assert (claims["roles"], claims["permissions"]) == ([], [])
