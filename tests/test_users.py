"""Users through the admin API: create, read, list, update, password, e-mail, export, purge."""

from __future__ import annotations

import bcrypt
import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client

from applications.models import Application, ClaimDefinition, ClaimValue
from applications.models import Client as OAuthClient
from audit.models import AuditEntry
from organizations.models import Organization, User, UserStatus
from tests.conftest import TENANT_PASSWORD, post_form

BASE = "/api/admin/organizations"


@pytest.fixture
def org(initialized) -> Organization:
    return Organization.objects.create(name="Acme", slug="acme")


@pytest.fixture
def other_org(initialized) -> Organization:
    return Organization.objects.create(name="Other", slug="other")


def users_url(organization: Organization) -> str:
    return f"{BASE}/{organization.id}/users"


def make_user(organization: Organization, email: str, **fields) -> User:
    return User.objects.create(organization=organization, email=email, **fields)


def bcrypt_hash(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


# -- create ----------------------------------------------------------------------------------------


def test_creating_a_user_returns_201_with_its_location_and_profile(api, org):
    body = {
        "email": "ada@acme.example",
        "givenName": "Ada",
        "familyName": "Lovelace",
        "birthdate": "1815-12-10",
        "address": {"locality": "London", "country": "GB"},
        "externalId": "crm-1",
    }
    response = api.post(users_url(org), body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert response["Location"] == f"{users_url(org)}/{data['id']}"
    assert (data["givenName"], data["birthdate"], data["externalId"]) == ("Ada", "1815-12-10", "crm-1")
    assert data["address"] == {"locality": "London", "country": "GB"}


def test_a_created_user_is_audited(api, org):
    user_id = api.post(users_url(org), {"email": "ada@acme.example"}).json()["id"]
    assert AuditEntry.objects.filter(event_type="user.created", target_id=user_id).exists()


def test_an_email_taken_in_another_case_is_a_conflict(api, org):
    make_user(org, "ada@acme.example")
    response = api.post(users_url(org), {"email": "ADA@Acme.example"})
    assert response.status_code == 409, response.content


def test_the_same_email_may_exist_in_another_organization(api, org, other_org):
    make_user(other_org, "ada@acme.example")
    assert api.post(users_url(org), {"email": "ada@acme.example"}).status_code == 201


def test_an_external_id_taken_in_the_organization_is_a_conflict(api, org):
    make_user(org, "a@acme.example", external_id="crm-1")
    response = api.post(users_url(org), {"email": "b@acme.example", "externalId": "crm-1"})
    assert response.status_code == 409, response.content


def test_a_plaintext_password_is_stored_as_argon2id(api, org):
    user_id = api.post(users_url(org), {"email": "a@acme.example", "password": "long-enough-1"}).json()["id"]
    assert User.objects.get(pk=user_id).password.startswith("argon2$argon2id$")


def test_a_password_shorter_than_8_characters_is_refused(api, org):
    response = api.post(users_url(org), {"email": "a@acme.example", "password": "short"})
    assert response.status_code == 400


def test_a_raw_bcrypt_hash_is_stored_in_djangos_format(api, org):
    raw = bcrypt_hash("imported-secret")
    user_id = api.post(users_url(org), {"email": "a@acme.example", "passwordHash": raw}).json()["id"]
    assert User.objects.get(pk=user_id).password == "bcrypt$" + raw


@pytest.mark.parametrize("hasher", ["pbkdf2_sha256", "scrypt", "argon2"])
def test_django_format_hashes_are_accepted(api, org, hasher):
    stored = make_password("imported-secret", hasher=hasher)
    response = api.post(users_url(org), {"email": "a@acme.example", "passwordHash": stored})
    assert response.status_code == 201, response.content


def test_a_phc_argon2id_hash_is_stored_in_djangos_format(api, org):
    phc = make_password("imported-secret", hasher="argon2").removeprefix("argon2")
    user_id = api.post(users_url(org), {"email": "a@acme.example", "passwordHash": phc}).json()["id"]
    assert User.objects.get(pk=user_id).password == "argon2" + phc


def test_an_unrecognised_password_hash_is_refused(api, org):
    response = api.post(users_url(org), {"email": "a@acme.example", "passwordHash": "md5$abc$def"})
    assert response.status_code == 400
    assert "passwordHash" in response.json()["details"]


def test_password_and_password_hash_together_are_refused(api, org):
    body = {"email": "a@acme.example", "password": "long-enough-1", "passwordHash": bcrypt_hash("x")}
    assert api.post(users_url(org), body).status_code == 400


def test_the_response_never_contains_the_hash(api, org):
    response = api.post(users_url(org), {"email": "a@acme.example", "passwordHash": bcrypt_hash("secret-1")})
    assert "$2b$" not in response.content.decode()


def test_login_with_an_imported_bcrypt_hash_succeeds_and_leaves_an_argon2id_hash(api, org):
    application = Application.objects.create(name="Acme app", slug="acme-app")
    OAuthClient.objects.create(
        organization=org, application=application, client_id="acme-cli", client_name="Acme CLI",
        client_type="public", application_type="native", grant_types=["password"],
        token_endpoint_auth_method="none",
    )  # fmt: skip
    api.post(users_url(org), {"email": "a@acme.example", "passwordHash": bcrypt_hash("imported-secret")})
    form = {"grant_type": "password", "client_id": "acme-cli", "username": "a@acme.example",
            "password": "imported-secret"}  # fmt: skip
    response = post_form(Client(), "/acme/auth/token", form)
    assert response.status_code == 200, response.content
    assert User.objects.get(email="a@acme.example").password.startswith("argon2$argon2id$")


# -- list ------------------------------------------------------------------------------------------


def _emails(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["email"] for row in response.json()["data"]}


def test_the_list_shows_only_the_organizations_users(api, org, other_org):
    make_user(org, "mine@acme.example")
    make_user(other_org, "theirs@other.example")
    assert _emails(api.get(users_url(org))) == {"mine@acme.example"}


def test_the_list_filters_by_status(api, org):
    make_user(org, "on@acme.example")
    make_user(org, "off@acme.example", status=UserStatus.SUSPENDED)
    assert _emails(api.get(users_url(org), {"status": "suspended"})) == {"off@acme.example"}


def test_search_matches_an_email_prefix_case_insensitively(api, org):
    make_user(org, "alice@acme.example")
    make_user(org, "bob@acme.example")
    assert _emails(api.get(users_url(org), {"search": "ALI"})) == {"alice@acme.example"}


def test_search_matches_a_family_name_prefix(api, org):
    make_user(org, "a@acme.example", family_name="Lovelace")
    make_user(org, "b@acme.example", family_name="Hopper")
    assert _emails(api.get(users_url(org), {"search": "love"})) == {"a@acme.example"}


def test_search_is_a_prefix_match_not_a_substring_match(api, org):
    make_user(org, "alice@acme.example")
    assert _emails(api.get(users_url(org), {"search": "lice"})) == set()


def test_the_email_filter_is_exact_and_case_insensitive(api, org):
    make_user(org, "alice@acme.example")
    make_user(org, "alice2@acme.example")
    assert _emails(api.get(users_url(org), {"email": "ALICE@acme.example"})) == {"alice@acme.example"}


def test_the_external_id_filter_finds_one_user(api, org):
    make_user(org, "a@acme.example", external_id="crm-1")
    make_user(org, "b@acme.example", external_id="crm-2")
    assert _emails(api.get(users_url(org), {"externalId": "crm-2"})) == {"b@acme.example"}


def test_cursor_mode_walks_every_user_once(api, org):
    for n in range(5):
        make_user(org, f"u{n}@acme.example")
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = api.get(users_url(org), params).json()
        seen += [row["email"] for row in body["data"]]
        cursor = body["pagination"]["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(f"u{n}@acme.example" for n in range(5))


def test_the_list_sorts_by_email(api, org):
    make_user(org, "b@acme.example")
    make_user(org, "a@acme.example")
    data = api.get(users_url(org), {"sort": "email", "order": "asc"}).json()["data"]
    assert [row["email"] for row in data] == ["a@acme.example", "b@acme.example"]


def test_an_unknown_sort_is_a_400(api, org):
    assert api.get(users_url(org), {"sort": "password"}).status_code == 400


def test_the_list_of_an_unknown_organization_is_a_404(api):
    response = api.get(f"{BASE}/01a20000-0000-7000-8000-000000000000/users")
    assert response.status_code == 404


def test_the_list_runs_a_constant_number_of_queries(api, org, django_assert_max_num_queries):
    for n in range(30):
        make_user(org, f"u{n}@acme.example")
    api.get(users_url(org))  # warm the authorization cache
    with django_assert_max_num_queries(8):
        api.get(users_url(org), {"pageSize": 30})


# -- tenant boundary -------------------------------------------------------------------------------


def test_a_user_of_another_organization_under_this_path_is_a_404(api, org, other_org):
    stranger = make_user(other_org, "s@other.example")
    response = api.get(f"{users_url(org)}/{stranger.id}")
    assert response.status_code == 404
    assert response.json()["message"] == "User not found"


def test_an_action_on_a_user_of_another_organization_is_a_404_and_changes_nothing(api, org, other_org):
    stranger = make_user(other_org, "s@other.example")
    response = api.post(f"{users_url(org)}/{stranger.id}/suspend", {})
    assert response.status_code == 404
    stranger.refresh_from_db()
    assert stranger.status == UserStatus.ACTIVE


def test_the_standalone_route_reads_a_user_of_any_organization(api, org):
    user = make_user(org, "a@acme.example")
    assert api.get(f"/api/admin/users/{user.id}").json()["email"] == "a@acme.example"


# -- get and update --------------------------------------------------------------------------------


def test_a_single_user_carries_an_etag(api, org):
    user = make_user(org, "a@acme.example")
    assert api.get(f"{users_url(org)}/{user.id}")["ETag"]


def test_put_changes_profile_fields(api, org):
    user = make_user(org, "a@acme.example")
    response = api.put(f"{users_url(org)}/{user.id}", {"nickname": "ace", "locale": "fr"})
    assert response.status_code == 200, response.content
    assert (response.json()["nickname"], response.json()["locale"]) == ("ace", "fr")


def test_put_with_a_stale_if_match_is_a_412(api, org):
    user = make_user(org, "a@acme.example")
    response = api.put(f"{users_url(org)}/{user.id}", {"nickname": "ace"}, headers={"If-Match": '"stale"'})
    assert response.status_code == 412


def test_put_with_a_taken_external_id_is_a_conflict(api, org):
    make_user(org, "a@acme.example", external_id="crm-1")
    user = make_user(org, "b@acme.example")
    assert api.put(f"{users_url(org)}/{user.id}", {"externalId": "crm-1"}).status_code == 409


def test_put_records_the_changes_in_the_audit_trail(api, org):
    user = make_user(org, "a@acme.example")
    api.put(f"{users_url(org)}/{user.id}", {"nickname": "ace"})
    entry = AuditEntry.objects.get(event_type="user.updated", target_id=str(user.id))
    assert entry.metadata["changes"]["nickname"] == {"before": None, "after": "ace"}


# -- password and e-mail ---------------------------------------------------------------------------


def test_setting_a_password_answers_204_and_the_password_works(api, org):
    user = make_user(org, "a@acme.example")
    response = api.post(f"{users_url(org)}/{user.id}/password", {"password": "brand-new-pass"})
    assert response.status_code == 204
    user.refresh_from_db()
    assert user.check_password("brand-new-pass")


def test_clearing_the_password_answers_204_and_leaves_no_usable_password(api, org):
    user = make_user(org, "a@acme.example", password=make_password("old-password"))
    assert api.delete(f"{users_url(org)}/{user.id}/password").status_code == 204
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_verify_email_answers_200_with_the_verified_user(api, org):
    user = make_user(org, "a@acme.example")
    response = api.post(f"{users_url(org)}/{user.id}/verify-email")
    assert response.status_code == 200
    assert response.json()["emailVerified"] is True


# -- export, purge, history ------------------------------------------------------------------------


def test_export_contains_profile_roles_audit_claims_and_sessions(api, org):
    user_id = api.post(users_url(org), {"email": "a@acme.example"}).json()["id"]
    body = api.get(f"{users_url(org)}/{user_id}/export").json()
    assert body["profile"]["email"] == "a@acme.example"
    assert "user.created" in [e["eventType"] for e in body["auditEntries"]]
    assert (body["roles"], body["claimValues"], body["sessions"]) == ([], [], [])


def test_export_includes_the_users_claim_values_and_sessions(api, org, tenant_user):
    application = Application.objects.create(name="Shop", slug="shop-export")
    claim = ClaimDefinition.objects.create(application=application, name="tier", claim_type="string")
    ClaimValue.objects.create(claim=claim, user=tenant_user, value="gold")
    login = {"grant_type": "password", "client_id": "tenant-cli", "username": tenant_user.email}
    post_form(Client(), "/tenant-org/auth/token", {**login, "password": TENANT_PASSWORD})

    body = api.get(f"/api/admin/users/{tenant_user.id}/export").json()

    assert [(v["claimName"], v["value"]) for v in body["claimValues"]] == [("tier", "gold")]
    assert [s["userId"] for s in body["sessions"]] == [str(tenant_user.id)]


def test_export_is_audited(api, org):
    user = make_user(org, "a@acme.example")
    api.get(f"{users_url(org)}/{user.id}/export")
    assert AuditEntry.objects.filter(event_type="user.exported", target_id=str(user.id)).exists()


def test_purge_without_confirmation_is_a_400_and_keeps_the_user(api, org):
    user = make_user(org, "a@acme.example")
    assert api.post(f"{users_url(org)}/{user.id}/purge", {}).status_code == 400
    assert User.objects.filter(pk=user.pk).exists()


def test_purge_with_the_confirmation_header_deletes_the_user(api, org):
    user = make_user(org, "a@acme.example")
    response = api.post(f"{users_url(org)}/{user.id}/purge", {}, headers={"X-Confirm-Purge": "true"})
    assert response.status_code == 200, response.content
    assert not User.objects.filter(pk=user.pk).exists()


def test_purge_with_the_body_flag_deletes_the_user_and_audits_without_personal_data(api, org):
    user = make_user(org, "secret-person@acme.example")
    api.post(f"{users_url(org)}/{user.id}/purge", {"confirmPurge": True})
    entry = AuditEntry.objects.get(event_type="user.purged", target_id=str(user.id))
    assert "secret-person" not in str(entry.metadata)


def test_history_lists_the_audit_entries_about_the_user(api, org):
    user_id = api.post(users_url(org), {"email": "a@acme.example"}).json()["id"]
    api.post(f"{users_url(org)}/{user_id}/suspend", {"reason": "abuse"})
    data = api.get(f"{users_url(org)}/{user_id}/history").json()["data"]
    assert [row["eventType"] for row in data] == ["user.suspended", "user.created"]


def test_postgresql_has_the_prefix_search_indexes(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'organizations_user'")
        names = {row[0] for row in cursor.fetchall()}
    assert {
        "user_org_email_prefix_idx",
        "user_org_given_name_prefix_idx",
        "user_org_family_name_prefix_idx",
    } <= names
