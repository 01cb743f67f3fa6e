"""Admin API keys through the public API: minting, reading, revoking, and authenticating with
``porta_pat_``/``porta_wak_`` keys wherever a JWT works."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apikeys import usage
from apikeys.models import AdminApiKey
from apikeys.tasks import flush_api_key_last_used
from audit.models import AuditEntry
from organizations.models import Organization, User
from porta.core import versions
from porta.core.redis import get_redis
from rbac.admin_roles import ADMIN_ROLES
from rbac.models import UserRole
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ApiClient, issue_token
from tests.factories import OrganizationFactory
from tests.permission_suite import admin_client_with_permissions

KEYS = "/api/admin/api-keys"
ORGS = "/api/admin/organizations"
INVALID = "Invalid or expired API key"


@pytest.fixture(autouse=True)
def _fresh_usage_notes():
    usage.forget()
    yield
    usage.forget()


def mint(api: ApiClient, organization_id=None, roles=("porta-super-admin",), **extra) -> dict:
    body = {
        "name": "CI key",
        "organizationId": organization_id and str(organization_id),
        "roles": list(roles),
    }
    response = api.post(KEYS, {**body, **extra})
    assert response.status_code == 201, response.content
    return response.json()


def as_key(secret: str) -> ApiClient:
    return ApiClient(Client(), secret)


@pytest.fixture
def home(initialized) -> Organization:
    return OrganizationFactory()


@pytest.fixture
def foreign(initialized) -> Organization:
    return OrganizationFactory()


# -- minting ---------------------------------------------------------------------------------------


def test_an_organization_key_is_shown_once_as_porta_pat(api, home, super_admin):
    response = api.post(
        KEYS, {"name": "Deploy bot", "organizationId": str(home.id), "roles": ["porta-user-admin"]}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    key, secret = body["apiKey"], body["secret"]
    assert secret.startswith("porta_pat_")
    assert len(secret) > 40
    assert body["warning"] == "Store the secret securely. It will not be shown again."
    assert response["Location"] == f"{KEYS}/{key['id']}"
    assert key["prefix"] == "porta_pat"
    assert key["lastFour"] == secret[-4:]
    assert key["organizationId"] == str(home.id)
    assert key["roles"] == ["porta-user-admin"]
    assert key["createdBy"] == str(super_admin.id)
    assert key["status"] == "active"
    assert key["lastUsedAt"] is None
    assert key["revokedAt"] is None
    assert key["expiresAt"] is None
    assert key["createdAt"].endswith("Z")
    assert set(key) >= {"id", "name", "organizationId", "roles", "prefix", "lastFour", "createdAt",
                        "expiresAt", "lastUsedAt", "revokedAt", "createdBy"}  # fmt: skip


def test_a_global_key_is_porta_wak(api):
    body = mint(api, None)
    assert body["secret"].startswith("porta_wak_")
    assert body["apiKey"]["prefix"] == "porta_wak"
    assert body["apiKey"]["organizationId"] is None


def test_the_secret_is_stored_only_as_a_keyed_hash(api):
    secret = mint(api)["secret"]
    row = AdminApiKey.objects.get()
    assert row.secret_hash != secret
    assert len(row.secret_hash) == 64
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM apikeys_adminapikey")
        assert not any(secret in str(value) for value in cursor.fetchone())


def test_reads_never_show_the_secret_or_its_hash(api):
    body = mint(api)
    row = AdminApiKey.objects.get()
    listed = api.get(KEYS).content.decode()
    one = api.get(f"{KEYS}/{body['apiKey']['id']}").content.decode()
    for text in (listed, one):
        assert body["secret"] not in text
        assert row.secret_hash not in text
        assert "secret" not in text.lower()


def test_creation_is_audited_without_the_secret(api):
    body = mint(api)
    entry = AuditEntry.objects.get(event_type="api_key.created")
    assert entry.target_id == body["apiKey"]["id"]
    assert entry.actor_type == "user"
    assert body["secret"] not in str(entry.metadata)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"roles": ["porta-nonexistent"]}, "roles"),
        ({"roles": ["some-app-role"]}, "roles"),
        ({"roles": []}, "roles"),
        ({"expiresAt": "2001-01-01T00:00:00Z"}, "expiresAt"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_invalid_bodies_are_400_naming_the_field(api, body, field):
    response = api.post(KEYS, {"name": "k", "organizationId": None, "roles": ["porta-auditor"], **body})
    assert response.status_code == 400, response.content
    assert field in response.json()["details"]


def test_organization_id_must_be_given_even_if_null(api):
    response = api.post(KEYS, {"name": "k", "roles": ["porta-auditor"]})
    assert response.status_code == 400
    assert "organizationId" in response.json()["details"]


def test_an_unknown_organization_is_404(api):
    response = api.post(KEYS, {"name": "k", "organizationId": str(uuid.uuid4()), "roles": ["porta-auditor"]})
    assert response.status_code == 404


def test_a_suspended_organization_gets_no_key(api, home):
    Organization.objects.filter(pk=home.id).update(status="suspended")
    response = api.post(KEYS, {"name": "k", "organizationId": str(home.id), "roles": ["porta-auditor"]})
    assert response.status_code == 422


# -- no self-escalation -------------------------------------------------------------------------


@pytest.fixture
def user_admin_minter(initialized) -> ApiClient:
    """An admin holding porta-user-admin's permissions plus the right to mint keys."""
    return admin_client_with_permissions(ADMIN_ROLES["porta-user-admin"][2] | {"admin:key:generate"})


def test_an_admin_can_mint_a_key_with_roles_they_hold(user_admin_minter):
    assert mint(user_admin_minter, None, roles=["porta-user-admin"])["secret"].startswith("porta_wak_")


@pytest.mark.parametrize("role", ["porta-app-admin", "porta-super-admin", "porta-admin"])
def test_nobody_can_mint_a_key_with_roles_they_do_not_hold(user_admin_minter, role):
    response = user_admin_minter.post(KEYS, {"name": "k", "organizationId": None, "roles": [role]})
    assert response.status_code == 403, response.content
    assert not AdminApiKey.objects.exists()


def test_a_key_cannot_mint_a_key_stronger_than_itself(api):
    auditor_key = as_key(mint(api, None, roles=["porta-auditor"])["secret"])
    response = auditor_key.post(KEYS, {"name": "k", "organizationId": None, "roles": ["porta-super-admin"]})
    assert response.status_code == 403  # the auditor key lacks admin:key:generate in the first place


# -- reading and revoking ---------------------------------------------------------------------------


def test_keys_are_listed_in_page_and_cursor_modes(api):
    for _ in range(3):
        mint(api)
    page = api.get(KEYS, {"pageSize": 2}).json()
    assert page["pagination"]["total"] == 3
    assert len(page["data"]) == 2
    cursor = api.get(KEYS, {"limit": 2}).json()
    assert cursor["pagination"]["hasMore"] is True
    assert len(cursor["data"]) == 2


def test_the_list_costs_the_same_queries_for_one_key_or_many(api):
    mint(api)
    api.get(KEYS)
    with CaptureQueriesContext(connection) as small:
        api.get(KEYS, {"limit": 50})
    for _ in range(4):
        mint(api)
    with CaptureQueriesContext(connection) as large:
        api.get(KEYS, {"limit": 50})
    assert len(large) == len(small)


def test_the_list_filters_by_organization_and_status(api, home):
    mint(api, home.id)
    revoked = mint(api, None)["apiKey"]["id"]
    api.post(f"{KEYS}/{revoked}/revoke")
    assert [k["organizationId"] for k in api.get(KEYS, {"organizationId": str(home.id)}).json()["data"]] == [
        str(home.id)
    ]
    assert [k["id"] for k in api.get(KEYS, {"status": "revoked"}).json()["data"]] == [revoked]


def test_a_revoked_key_stops_working_at_once(api):
    body = mint(api)
    key = as_key(body["secret"])
    assert key.get(ORGS).status_code == 200  # warms every cache on the way
    response = api.post(f"{KEYS}/{body['apiKey']['id']}/revoke")
    assert response.status_code == 200
    assert response.json()["revokedAt"] is not None
    assert response.json()["status"] == "revoked"
    rejected = key.get(ORGS)
    assert rejected.status_code == 401
    assert rejected.json()["message"] == INVALID
    assert rejected["WWW-Authenticate"].startswith("Bearer")
    entry = AuditEntry.objects.get(event_type="api_key.revoked")
    assert entry.target_id == body["apiKey"]["id"]


def test_revoking_twice_is_a_conflict(api):
    key_id = mint(api)["apiKey"]["id"]
    api.post(f"{KEYS}/{key_id}/revoke")
    assert api.post(f"{KEYS}/{key_id}/revoke").status_code == 409


def test_an_unknown_key_id_is_404(api):
    assert api.get(f"{KEYS}/{uuid.uuid4()}").status_code == 404
    assert api.get(f"{KEYS}/not-a-uuid").status_code == 404


# -- authenticating -----------------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["porta_pat_" + "x" * 43, "porta_wak_nope", "porta_pat_"])
def test_unknown_keys_get_the_same_401(initialized, secret):
    response = as_key(secret).get(ORGS)
    assert response.status_code == 401
    assert response.json()["message"] == INVALID


def test_an_expired_key_gets_the_same_401(api):
    soon = (timezone.now() + datetime.timedelta(hours=1)).isoformat()
    body = mint(api, expiresAt=soon)
    assert body["apiKey"]["expiresAt"] is not None
    AdminApiKey.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = as_key(body["secret"]).get(ORGS)
    assert response.status_code == 401
    assert response.json()["message"] == INVALID


def test_a_global_key_works_wherever_a_jwt_does(api, home):
    key = as_key(mint(api, None)["secret"])
    assert key.get(ORGS).status_code == 200
    assert key.get(f"{ORGS}/{home.id}").status_code == 200
    assert key.get("/api/admin/applications").status_code == 200
    assert key.post(ORGS, {"name": "Made by key", "slug": "made-by-key"}).status_code == 201


def test_changes_made_through_a_key_are_attributed_to_the_key(api, home):
    body = mint(api, home.id, name="Renamer")
    response = as_key(body["secret"]).put(f"{ORGS}/{home.id}", {"name": "Renamed"})
    assert response.status_code == 200, response.content
    entry = AuditEntry.objects.filter(target_id=str(home.id)).latest("created_at")
    assert (entry.actor_type, entry.actor_id, entry.actor_label) == (
        "api_key",
        uuid.UUID(body["apiKey"]["id"]),
        "Renamer",
    )


def test_a_key_acts_with_its_roles_only(api):
    auditor = as_key(mint(api, None, roles=["porta-auditor"])["secret"])
    assert auditor.get(ORGS).status_code == 200
    response = auditor.post(ORGS, {"name": "Nope", "slug": "nope-org"})
    assert response.status_code == 403
    assert response.json()["message"] == "Insufficient permissions. Required: admin:org:create"


def test_a_key_never_holds_more_than_its_creator_holds_now(make_admin, api_as):
    creator = make_admin("porta-super-admin")
    client = Client()
    creator_api = ApiClient(client, issue_token(client, creator.email, "admin-password-1")["access_token"])
    key = as_key(mint(creator_api, None, roles=["porta-super-admin"])["secret"])
    assert key.get(ORGS).status_code == 200
    UserRole.objects.filter(user=creator).delete()
    versions.bump(versions.PRINCIPALS)  # what the rbac services do on every assignment change
    assert key.get(ORGS).status_code == 403


def test_a_key_stops_when_its_creator_is_deactivated(make_admin):
    creator = make_admin("porta-super-admin")
    client = Client()
    creator_api = ApiClient(client, issue_token(client, creator.email, "admin-password-1")["access_token"])
    key = as_key(mint(creator_api, None)["secret"])
    User.objects.filter(pk=creator.pk).update(status="suspended")
    response = key.get(ORGS)
    assert response.status_code == 401
    assert response.json()["message"] == INVALID


# -- organization scope ---------------------------------------------------------------------------


@pytest.fixture
def scoped(api, home) -> ApiClient:
    return as_key(mint(api, home.id)["secret"])


def test_an_organization_key_reads_its_own_organization(scoped, home):
    response = scoped.get(f"{ORGS}/{home.id}")
    assert response.status_code == 200
    assert response.json()["id"] == str(home.id)


def test_an_organization_key_gets_404_for_another_organization(scoped, foreign):
    assert scoped.get(f"{ORGS}/{foreign.id}").status_code == 404
    assert scoped.get(f"{ORGS}/{foreign.slug}").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", ORGS, None),
        ("post", ORGS, {"name": "Nope", "slug": "nope-org"}),
        ("get", "/api/admin/applications", None),
        ("post", "/api/admin/applications", {"name": "Nope", "slug": "nope-app"}),
        ("get", KEYS, None),
        ("post", KEYS, {"name": "k", "organizationId": None, "roles": ["porta-auditor"]}),
    ],
)
def test_an_organization_key_is_refused_global_resources(scoped, method, path, body):
    response = scoped.get(path) if method == "get" else scoped.post(path, body)
    assert response.status_code == 403, response.content
    assert not Organization.objects.filter(slug="nope-org").exists()


def test_an_organization_key_cannot_mint_keys_even_for_its_own_organization(scoped, home):
    response = scoped.post(KEYS, {"name": "k", "organizationId": str(home.id), "roles": ["porta-auditor"]})
    assert response.status_code == 403
    assert AdminApiKey.objects.count() == 1


def test_an_organization_key_lists_only_its_organizations_users(api, scoped, home, foreign):
    for org in (home, foreign):
        response = api.post(f"{ORGS}/{org.id}/users", {"email": f"someone@{org.slug}.example"})
        assert response.status_code == 201, response.content
    listed = scoped.get(f"{ORGS}/{home.id}/users").json()["data"]
    assert [u["email"] for u in listed] == [f"someone@{home.slug}.example"]
    assert scoped.get(f"{ORGS}/{foreign.id}/users").status_code == 404


def test_an_organization_key_sees_only_its_organizations_audit_entries(api, scoped, home, foreign):
    for org in (home, foreign):
        api.put(f"{ORGS}/{org.id}", {"name": f"Renamed {org.slug}"})
    rows = scoped.get("/api/admin/audit").json()["data"]
    assert rows
    assert {row["organizationId"] for row in rows} == {str(home.id)}


# -- lastUsedAt ---------------------------------------------------------------------------------


def test_last_used_at_is_shown_before_it_reaches_the_database(api):
    body = mint(api)
    as_key(body["secret"]).get(ORGS)
    assert AdminApiKey.objects.get().last_used_at is None  # no database write on the request
    shown = api.get(f"{KEYS}/{body['apiKey']['id']}").json()["lastUsedAt"]
    assert shown is not None
    assert api.get(KEYS).json()["data"][0]["lastUsedAt"] == shown


def test_the_flush_task_moves_last_used_at_to_the_database(api):
    body = mint(api)
    as_key(body["secret"]).get(ORGS)
    assert flush_api_key_last_used.delay().get() == 1
    row = AdminApiKey.objects.get()
    assert row.last_used_at is not None
    assert row.updated_at == row.created_at  # a use is not a change of the key
    client = get_redis()
    assert client is None or not client.exists(usage.PENDING_KEY)
    assert api.get(f"{KEYS}/{body['apiKey']['id']}").json()["lastUsedAt"] is not None


def test_the_flush_never_moves_last_used_at_backwards(api):
    body = mint(api)
    later = timezone.now() + datetime.timedelta(days=1)
    AdminApiKey.objects.update(last_used_at=later)
    as_key(body["secret"]).get(ORGS)
    flush_api_key_last_used.delay().get()
    assert AdminApiKey.objects.get().last_used_at == later


# -- Django admin ---------------------------------------------------------------------------------


def test_the_django_admin_lists_keys_without_their_hash_and_revokes_them(api):
    body = mint(api)
    row = AdminApiKey.objects.get()
    admin = Client()
    assert admin.login(username=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    listing = admin.get("/admin/apikeys/adminapikey/")
    assert listing.status_code == 200
    assert f"porta_wak_…{row.last_four}".encode() in listing.content
    detail = admin.get(f"/admin/apikeys/adminapikey/{row.id}/change/")
    assert detail.status_code == 200
    for page in (listing, detail):
        assert row.secret_hash.encode() not in page.content
        assert body["secret"].encode() not in page.content
    response = admin.post(
        "/admin/apikeys/adminapikey/", {"action": "revoke_selected", "_selected_action": [str(row.id)]}
    )
    assert response.status_code == 302
    assert AdminApiKey.objects.get().revoked_at is not None
    assert as_key(body["secret"]).get(ORGS).status_code == 401


def test_revoking_bumps_the_shared_stamp_so_every_process_drops_its_copy(api):
    client = get_redis()
    if client is None:
        pytest.skip("needs Redis: the stamp other processes read")
    body = mint(api)
    as_key(body["secret"]).get(ORGS)
    before = client.get("porta:ver:api_keys")
    api.post(f"{KEYS}/{body['apiKey']['id']}/revoke")
    assert client.get("porta:ver:api_keys") != before


def test_an_organization_key_manages_its_own_organization(api, scoped, home):
    body = {"email": "new@home.example", "password": "long-password-1"}
    created = scoped.post(f"{ORGS}/{home.id}/users", body)
    assert created.status_code == 201, created.content
    user_id = created.json()["id"]
    assert scoped.post(f"/api/admin/users/{user_id}/suspend", {"reason": "test"}).status_code == 200
    assert scoped.get(f"/api/admin/users/{user_id}/history").status_code == 200
    application = api.post("/api/admin/applications", {"name": "Shop", "slug": "shop"}).json()
    client = scoped.post(
        "/api/admin/clients",
        {
            "organizationId": str(home.id),
            "applicationId": application["id"],
            "clientName": "Home web",
            "clientType": "confidential",
            "applicationType": "web",
            "redirectUris": ["https://home.example/cb"],
        },
    )
    assert client.status_code == 201, client.content
    assert scoped.post("/api/admin/recovery/link", {"userId": user_id}).status_code == 201
    assert scoped.get("/api/admin/sessions").status_code == 200
    actors = set(AuditEntry.objects.filter(organization_id=home.id).values_list("actor_type", flat=True))
    assert "api_key" in actors
