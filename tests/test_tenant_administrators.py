"""Tenant administrators (issue 14; contract §2 "Tenant administrators"): a user of organization X
holding an admin role signs in at X's issuer, through a client of the ``porta-admin`` application
registered in X, and uses ``/api/admin`` scoped to X exactly like an organization-scoped admin API
key: X's rows are theirs to the extent of their roles, another organization's rows are 404, global
resources are 403. (Every admin route for this principal: tests/test_bola_matrix.py.)"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import jwt
import pytest
from django.test import Client

from applications.models import Application
from audit.models import AuditEntry
from oidc.models import Session
from organizations.models import Organization, OrganizationStatus, User
from rbac.admin_roles import ADMIN_APP_SLUG
from rbac.models import Role, UserRole
from tests.client_factories import make_client
from tests.conftest import ApiClient
from tests.oidc_flows import CLI_REDIRECT, basic, browser, pkce_pair, redirect_params, submit_login

pytestmark = pytest.mark.django_db

PASSWORD = "tenant-admin-password-1"
ADMIN_CLIENT = "acme-admin-cli"
API = "/api/admin"


def admin_role(slug: str) -> Role:
    return Role.objects.get(application__slug=ADMIN_APP_SLUG, slug=slug)


def make_user(organization: Organization, email: str, *roles: str) -> User:
    user = User(organization=organization, email=email)
    user.set_password(PASSWORD)
    user.save()
    for slug in roles:
        UserRole.objects.create(user=user, role=admin_role(slug))
    return user


@pytest.fixture
def acme(initialized) -> Organization:
    """A tenant with the porta-admin application's CLI client registered in it."""
    organization = Organization.objects.create(name="Acme", slug="acme")
    make_client(
        organization,
        Application.objects.get(slug=ADMIN_APP_SLUG),
        client_id=ADMIN_CLIENT,
        client_type="public",
        application_type="native",
        redirect_uris=[CLI_REDIRECT],
        grant_types=["authorization_code", "refresh_token", "password"],
        response_types=["code"],
        token_endpoint_auth_method="none",
        scope="openid profile email offline_access",
    )
    return organization


@pytest.fixture
def globex(initialized) -> Organization:
    organization = Organization.objects.create(name="Globex", slug="globex")
    make_client(
        organization, client_id="globex-cli", client_type="public", application_type="native",
        grant_types=["password"], token_endpoint_auth_method="none",
    )  # fmt: skip
    make_user(organization, "someone@globex.example")
    return organization


def token_request(slug: str, form: dict[str, str], **headers: str):
    return Client().post(
        f"/{slug}/auth/token", urlencode(form), content_type="application/x-www-form-urlencoded", **headers
    )


def sign_in(user: User, client_id: str = ADMIN_CLIENT) -> dict:
    response = token_request(
        user.organization.slug,
        {"grant_type": "password", "client_id": client_id, "username": user.email, "password": PASSWORD},
    )
    assert response.status_code == 200, response.content
    return response.json()


def admin_api(user: User) -> ApiClient:
    return ApiClient(Client(), sign_in(user)["access_token"])


def assert_status(response, status: int, error: str) -> None:
    assert response.status_code == status, response.content
    assert response.json()["error"] == error


@pytest.fixture
def user_admin(acme) -> User:
    return make_user(acme, "admin@acme.example", "porta-user-admin")


# -- the token ---------------------------------------------------------------------------------------


def test_a_tenant_administrators_token_comes_from_their_own_issuer_for_the_admin_api(user_admin):
    claims = jwt.decode(sign_in(user_admin)["access_token"], options={"verify_signature": False})
    assert claims["iss"] == "http://testserver/acme"
    assert claims["aud"] == "http://testserver/api/admin"
    assert claims["org_slug"] == "acme"
    assert claims["roles"] == ["porta-user-admin"]
    assert "admin:user:create" in claims["permissions"]


def test_a_tenant_administrator_signs_in_through_the_login_page_with_pkce_and_calls_the_admin_api(
    acme, user_admin
):
    client = browser()
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": ADMIN_CLIENT,
        "redirect_uri": CLI_REDIRECT,
        "scope": "openid profile",
        "state": "st-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    _, query = redirect_params(submit_login(client, "acme", params, user_admin.email, PASSWORD))
    response = token_request(
        "acme",
        {
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": CLI_REDIRECT,
            "client_id": ADMIN_CLIENT,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.content
    api = ApiClient(Client(), response.json()["access_token"])
    listed = api.get(f"{API}/organizations/{acme.id}/users")
    assert listed.status_code == 200, listed.content
    assert [u["email"] for u in listed.json()["data"]] == [user_admin.email]


def test_a_refreshed_token_keeps_working(user_admin, acme):
    first = sign_in(user_admin)
    response = token_request(
        "acme",
        {"grant_type": "refresh_token", "client_id": ADMIN_CLIENT, "refresh_token": first["refresh_token"]},
    )
    assert response.status_code == 200, response.content
    api = ApiClient(Client(), response.json()["access_token"])
    assert api.get(f"{API}/organizations/{acme.id}/users").status_code == 200


# -- scoped to their organization -------------------------------------------------------------------


def test_a_tenant_administrator_reads_their_own_organization(acme):
    api = admin_api(make_user(acme, "org@acme.example", "porta-org-admin"))
    response = api.get(f"{API}/organizations/{acme.id}")
    assert response.status_code == 200, response.content
    assert response.json()["slug"] == "acme"


def test_another_organization_is_404(acme, globex):
    api = admin_api(make_user(acme, "org@acme.example", "porta-org-admin"))
    assert_status(api.get(f"{API}/organizations/{globex.id}"), 404, "NotFound")


def test_a_list_shows_only_their_organizations_rows(user_admin, globex):
    sign_in(User.objects.get(email="someone@globex.example"), "globex-cli")
    api = admin_api(user_admin)  # a session in acme
    response = api.get(f"{API}/sessions", {"pageSize": 100})
    assert response.status_code == 200, response.content
    assert {s["userId"] for s in response.json()["data"]} == {str(user_admin.id)}


def test_a_user_of_another_organization_is_404(user_admin, globex):
    foreign = User.objects.get(email="someone@globex.example")
    api = admin_api(user_admin)
    assert_status(api.get(f"{API}/users/{foreign.id}"), 404, "NotFound")
    assert_status(api.get(f"{API}/organizations/{globex.id}/users/{foreign.id}"), 404, "NotFound")


def test_a_tenant_administrator_creates_a_user_in_their_organization_as_themselves(user_admin, acme):
    response = admin_api(user_admin).post(
        f"{API}/organizations/{acme.id}/users", {"email": "new@acme.example", "password": "new-password-1"}
    )
    assert response.status_code == 201, response.content
    assert User.objects.get(email="new@acme.example").organization_id == acme.id
    entry = AuditEntry.objects.get(event_type="user.created", target_id=response.json()["id"])
    assert (entry.actor_type, entry.actor_id) == ("user", user_admin.id)


def test_creating_a_user_in_another_organization_is_404_and_creates_nothing(user_admin, globex):
    response = admin_api(user_admin).post(
        f"{API}/organizations/{globex.id}/users",
        {"email": "planted@globex.example", "password": "pw-123456789"},
    )
    assert_status(response, 404, "NotFound")
    assert not User.objects.filter(email="planted@globex.example").exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/organizations"),
        ("post", "/organizations"),
        ("get", "/applications"),
        ("get", "/keys"),
        ("get", "/api-keys"),
    ],
)
def test_a_global_resource_is_403(acme, method, path):
    api = admin_api(make_user(acme, "super@acme.example", "porta-super-admin"))
    response = getattr(api, method)(
        API + path, *([{"name": "Planted", "slug": "planted"}] if method == "post" else [])
    )
    assert_status(response, 403, "Forbidden")
    assert not Organization.objects.filter(slug="planted").exists()


def test_a_tenant_user_holding_porta_super_admin_is_still_scoped_to_their_organization(acme, globex):
    api = admin_api(make_user(acme, "super@acme.example", "porta-super-admin"))
    assert api.get(f"{API}/organizations/{acme.id}").status_code == 200
    assert_status(api.get(f"{API}/organizations/{globex.id}"), 404, "NotFound")
    assert_status(api.post(f"{API}/organizations/{globex.id}/suspend"), 404, "NotFound")
    assert Organization.objects.get(pk=globex.pk).status == OrganizationStatus.ACTIVE


# -- held to their roles ----------------------------------------------------------------------------


def test_a_tenant_user_without_an_admin_role_is_403(acme):
    response = admin_api(make_user(acme, "plain@acme.example")).get(f"{API}/organizations/{acme.id}")
    assert_status(response, 403, "Forbidden")
    assert response.json()["message"] == "Admin role required"


def test_a_tenant_administrator_is_held_to_their_roles_permissions(acme):
    api = admin_api(make_user(acme, "auditor@acme.example", "porta-auditor"))
    assert api.get(f"{API}/organizations/{acme.id}/users").status_code == 200
    response = api.post(f"{API}/organizations/{acme.id}/users", {"email": "x@acme.example"})
    assert_status(response, 403, "Forbidden")
    assert response.json()["message"] == "Insufficient permissions. Required: admin:user:create"


def test_a_tenant_administrator_cannot_grant_a_role_beyond_their_own(user_admin, acme):
    colleague = make_user(acme, "colleague@acme.example")
    response = admin_api(user_admin).put(
        f"{API}/users/{colleague.id}/roles", {"roleIds": [str(admin_role("porta-super-admin").id)]}
    )
    assert_status(response, 403, "Forbidden")
    assert not UserRole.objects.filter(user=colleague).exists()


def test_assigning_a_role_to_a_user_of_another_organization_is_404_and_assigns_nothing(user_admin, globex):
    foreign = User.objects.get(email="someone@globex.example")
    role_ids = {"roleIds": [str(admin_role("porta-auditor").id)]}
    api = admin_api(user_admin)
    assert_status(api.put(f"{API}/users/{foreign.id}/roles", role_ids), 404, "NotFound")
    assert_status(
        api.put(f"{API}/organizations/{globex.id}/users/{foreign.id}/roles", role_ids), 404, "NotFound"
    )
    assert_status(api.get(f"{API}/users/{foreign.id}/roles"), 404, "NotFound")
    assert not UserRole.objects.filter(user=foreign).exists()


def test_a_removed_admin_role_takes_effect_on_the_next_request(user_admin, acme):
    api = admin_api(user_admin)
    assert api.get(f"{API}/organizations/{acme.id}/users").status_code == 200
    response = admin_api(make_user(acme, "super@acme.example", "porta-super-admin")).delete(
        f"{API}/users/{user_admin.id}/roles", {"roleIds": [str(admin_role("porta-user-admin").id)]}
    )
    assert response.status_code == 204, response.content
    assert_status(api.get(f"{API}/organizations/{acme.id}/users"), 403, "Forbidden")


# -- cut off with their organization, session or account --------------------------------------------


def test_suspending_the_organization_cuts_its_administrators_off(api, user_admin, acme):
    tenant_api = admin_api(user_admin)
    assert api.post(f"{API}/organizations/{acme.id}/suspend").status_code == 200
    assert_status(tenant_api.get(f"{API}/organizations/{acme.id}/users"), 401, "Unauthorized")


def test_revoking_the_session_cuts_the_token_off(api, user_admin, acme):
    tenant_api = admin_api(user_admin)
    session = Session.objects.get(user=user_admin)
    assert api.delete(f"{API}/sessions/{session.id}").status_code == 204
    assert_status(tenant_api.get(f"{API}/organizations/{acme.id}/users"), 401, "Unauthorized")


def test_a_client_credentials_token_of_a_porta_admin_client_does_not_open_the_admin_api(acme):
    _, secret = make_client(
        acme,
        Application.objects.get(slug=ADMIN_APP_SLUG),
        client_id="acme-admin-robot",
        grant_types=["client_credentials"],
        token_endpoint_auth_method="client_secret_basic",
    )
    response = token_request(
        "acme", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic("acme-admin-robot", secret)
    )
    assert response.status_code == 200, response.content
    api = ApiClient(Client(), response.json()["access_token"])
    assert_status(api.get(f"{API}/organizations/{acme.id}"), 401, "Unauthorized")


def test_a_token_naming_an_unknown_user_is_401(user_admin, acme):
    """The scope is the user's organization as stored, never a claim: a subject that is nobody
    gets nothing, whatever ``org_id`` says."""
    from keys.tokens import sign_access_token

    token, _ = sign_access_token(
        subject=str(uuid.uuid4()), issuer="http://testserver/acme", audience="http://testserver/api/admin",
        client_id=ADMIN_CLIENT, organization_id=str(acme.id), scope="openid", ttl=300,
    )  # fmt: skip
    assert_status(ApiClient(Client(), token).get(f"{API}/organizations/{acme.id}"), 401, "Unauthorized")
