"""Issued API keys through the admin API: issue, list, get, PATCH, revoke, rotate, and the
per-organization settings (issue 13). Verification is tested in test_issuedkeys_verify*."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEntry
from issuedkeys import credentials
from issuedkeys.models import IssuedApiKey
from organizations.models import Organization
from tests.factories import IssuedApiKeyFactory, OrganizationFactory

ORGS = "/api/admin/organizations"
WARNING = "Store the secret securely. It will not be shown again."


@pytest.fixture
def org(initialized) -> Organization:
    return OrganizationFactory()


def keys_url(org: Organization) -> str:
    return f"{ORGS}/{org.id}/api-keys"


def settings_url(org: Organization) -> str:
    return f"{ORGS}/{org.id}/api-key-settings"


def issue(api, org: Organization, **body) -> dict:
    response = api.post(keys_url(org), {"name": "Billing service", **body})
    assert response.status_code == 201, response.content
    return response.json()


def parse_time(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- issuing ---------------------------------------------------------------------------------------


def test_issuing_answers_201_with_the_key_and_its_secret_shown_once(api, org):
    response = api.post(
        keys_url(org),
        {"name": "Billing", "actorId": "svc-billing", "scopes": ["invoices:read"], "metadata": {"team": "b"}},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    key, secret = body["issuedApiKey"], body["secret"]
    assert set(body) == {"issuedApiKey", "secret", "warning"}
    assert body["warning"] == WARNING
    assert response["Location"] == f"{keys_url(org)}/{key['keyId']}"
    assert secret.startswith(f"porta_ak_v1_{key['keyId'].replace('-', '')}_")
    assert key["name"] == "Billing"
    assert key["actorId"] == "svc-billing"
    assert key["scopes"] == ["invoices:read"]
    assert key["metadata"] == {"team": "b"}
    assert key["status"] == "active"
    assert key["prefix"] == "porta_ak"
    assert key["lastFour"] == secret[-4:]
    assert key["organizationId"] == str(org.id)
    assert key["lastUsedAt"] is None


def test_an_issued_secret_parses_as_a_credential_of_its_key(api, org):
    body = issue(api, org)
    parsed = credentials.parse(body["secret"])
    assert str(parsed.key_id) == body["issuedApiKey"]["keyId"]
    assert parsed.matches(IssuedApiKey.objects.get(pk=parsed.key_id).secret_hash)


def test_the_secret_is_never_stored_nor_shown_again(api, org):
    body = issue(api, org)
    secret, key_id = body["secret"], body["issuedApiKey"]["keyId"]
    row = IssuedApiKey.objects.get(pk=key_id)
    assert secret not in {row.secret_hash, row.name, str(row.metadata)}
    assert secret not in api.get(f"{keys_url(org)}/{key_id}").content.decode()
    assert secret not in api.get(keys_url(org)).content.decode()
    assert all(secret not in str(entry.metadata) for entry in AuditEntry.objects.all())


def test_a_key_without_ttl_lives_the_default_168_hours(api, org):
    key = issue(api, org)["issuedApiKey"]
    assert parse_time(key["expiresAt"]) - parse_time(key["createdAt"]) == datetime.timedelta(hours=168)


@pytest.mark.parametrize(
    ("ttl", "lifetime"),
    [
        ("90s", datetime.timedelta(seconds=90)),
        ("1h30m", datetime.timedelta(minutes=90)),
        ("7d", datetime.timedelta(days=7)),
        ("17520h", datetime.timedelta(hours=17520)),
    ],
)
def test_ttl_takes_duration_strings(api, org, ttl, lifetime):
    key = issue(api, org, ttl=ttl)["issuedApiKey"]
    assert parse_time(key["expiresAt"]) - parse_time(key["createdAt"]) == lifetime


@pytest.mark.parametrize("ttl", ["0s", "-5m", "soon", "", "5x", 3600])
def test_a_zero_negative_or_unparsable_ttl_is_400(api, org, ttl):
    response = api.post(keys_url(org), {"name": "k", "ttl": ttl})
    assert response.status_code == 400, response.content
    assert "ttl" in response.json()["details"]
    assert not IssuedApiKey.objects.exists()


def test_a_ttl_beyond_the_organizations_max_ttl_is_400(api, org):
    response = api.post(keys_url(org), {"name": "k", "ttl": "17521h"})
    assert response.status_code == 400
    assert response.json()["details"]["ttl"] == ["ttl exceeds the organization's maximum of 17520h."]


def test_metadata_of_more_than_4_kb_is_400(api, org):
    response = api.post(keys_url(org), {"name": "k", "metadata": {"blob": "x" * 4100}})
    assert response.status_code == 400
    assert "metadata" in response.json()["details"]


def test_metadata_of_exactly_4_kb_is_accepted(api, org):
    blob = "x" * (4096 - len('{"blob":""}'))
    assert issue(api, org, metadata={"blob": blob})["issuedApiKey"]["metadata"] == {"blob": blob}


@pytest.mark.parametrize(
    "body",
    [
        {"scopes": "read"},
        {"scopes": [5]},
        {"scopes": ["has space"]},
        {"metadata": ["not", "an", "object"]},
        {"name": ""},
        {"actorId": 7},
        {"owner": "someone"},
    ],
)
def test_an_invalid_issue_body_is_400_and_issues_nothing(api, org, body):
    response = api.post(keys_url(org), {"name": "k", **body})
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "ValidationError"
    assert not IssuedApiKey.objects.exists()


def test_repeated_scopes_are_kept_once_in_their_order(api, org):
    assert issue(api, org, scopes=["b", "a", "b"])["issuedApiKey"]["scopes"] == ["b", "a"]


def test_a_suspended_organization_issues_no_key(api, org):
    Organization.objects.filter(pk=org.pk).update(status="suspended")
    response = api.post(keys_url(org), {"name": "k"})
    assert response.status_code == 422
    assert not IssuedApiKey.objects.exists()


def test_an_unknown_organization_is_404(api, initialized):
    response = api.post(f"{ORGS}/0192f3c4-d5e6-7f80-91a2-b3c4d5e6f708/api-keys", {"name": "k"})
    assert response.status_code == 404
    assert response.json()["message"] == "Organization not found"


def test_the_organization_may_be_named_by_slug(api, org):
    response = api.post(f"{ORGS}/{org.slug}/api-keys", {"name": "k"})
    assert response.status_code == 201
    assert response.json()["issuedApiKey"]["organizationId"] == str(org.id)


def test_issuing_is_audited_without_the_secret(api, org):
    body = issue(api, org, scopes=["a"])
    entry = AuditEntry.objects.get(event_type="issued_api_key.created")
    assert entry.target_id == body["issuedApiKey"]["keyId"]
    assert entry.organization_id == org.id
    changes = entry.metadata["changes"]
    assert changes["scopes"]["after"] == ["a"]
    assert "secretHash" not in changes
    assert body["secret"] not in str(entry.metadata)


# -- reading ---------------------------------------------------------------------------------------


def test_get_returns_the_key_with_an_etag(api, org):
    key = issue(api, org)["issuedApiKey"]
    response = api.get(f"{keys_url(org)}/{key['keyId']}")
    assert response.status_code == 200
    assert response.json() == key
    assert response["ETag"]


def test_a_key_of_another_organization_is_404_under_this_one(api, org):
    other = OrganizationFactory()
    key = issue(api, other)["issuedApiKey"]
    assert api.get(f"{keys_url(org)}/{key['keyId']}").status_code == 404


def test_the_list_filters_by_actor_status_and_search(api, org):
    issue(api, org, name="Billing", actorId="svc-a")
    revoked = issue(api, org, name="Reports", actorId="svc-b")["issuedApiKey"]
    assert api.post(f"{keys_url(org)}/{revoked['keyId']}/revoke", {}).status_code == 204
    IssuedApiKeyFactory(organization=org, name="Old", expires_at=timezone.now() - datetime.timedelta(hours=1))

    def names(**params) -> list[str]:
        response = api.get(keys_url(org), params)
        assert response.status_code == 200, response.content
        return sorted(row["name"] for row in response.json()["data"])

    assert names() == ["Billing", "Old", "Reports"]
    assert names(actorId="svc-a") == ["Billing"]
    assert names(status="active") == ["Billing"]
    assert names(status="revoked") == ["Reports"]
    assert names(status="expired") == ["Old"]
    assert names(search="port") == ["Reports"]


def test_an_unknown_status_filter_is_400(api, org):
    assert api.get(keys_url(org), {"status": "paused"}).status_code == 400


def test_the_list_pages_in_page_and_cursor_modes(api, org):
    for n in range(5):
        IssuedApiKeyFactory(organization=org, name=f"k{n}")
    page = api.get(keys_url(org), {"pageSize": 2, "page": 3, "sort": "name", "order": "asc"}).json()
    assert page["pagination"] == {"total": 5, "page": 3, "pageSize": 2, "totalPages": 3}
    assert [row["name"] for row in page["data"]] == ["k4"]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "sort": "name", "order": "asc", **({"cursor": cursor} if cursor else {})}
        body = api.get(keys_url(org), params).json()
        seen += [row["name"] for row in body["data"]]
        cursor = body["pagination"]["nextCursor"]
        if cursor is None:
            break
    assert seen == ["k0", "k1", "k2", "k3", "k4"]


def test_the_list_runs_a_constant_number_of_queries(api, org):
    IssuedApiKeyFactory.create_batch(30, organization=org)
    api.get(keys_url(org))  # warm the request path's caches
    with CaptureQueriesContext(connection) as small:
        assert api.get(keys_url(org), {"pageSize": 5}).status_code == 200
    with CaptureQueriesContext(connection) as large:
        assert api.get(keys_url(org), {"pageSize": 30}).status_code == 200
    with CaptureQueriesContext(connection) as cursor:
        assert api.get(keys_url(org), {"limit": 30}).status_code == 200
    assert len(small) == len(large)
    # authentication + the organization in the path + count + page; the cursor mode skips the count.
    assert len(large) <= 4
    assert len(cursor) <= 3


def test_the_list_shows_only_the_organizations_keys(api, org):
    issue(api, org, name="Mine")
    issue(api, OrganizationFactory(), name="Theirs")
    assert [row["name"] for row in api.get(keys_url(org)).json()["data"]] == ["Mine"]


# -- PATCH -----------------------------------------------------------------------------------------


def test_patch_changes_name_scopes_and_metadata(api, org):
    key = issue(api, org, scopes=["a"])["issuedApiKey"]
    response = api.patch(
        f"{keys_url(org)}/{key['keyId']}", {"name": "Renamed", "scopes": ["b"], "metadata": {"x": 1}}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["scopes"], body["metadata"]) == ("Renamed", ["b"], {"x": 1})
    assert body["expiresAt"] == key["expiresAt"]
    entry = AuditEntry.objects.get(event_type="issued_api_key.updated")
    assert entry.metadata["changes"]["name"] == {"before": "Billing service", "after": "Renamed"}


@pytest.mark.parametrize(
    "body", [{"status": "active"}, {"expiresAt": "2099-01-01T00:00:00Z"}, {"actorId": "x"}, {"prefix": "zz"}]
)
def test_patch_of_any_other_field_is_400_and_changes_nothing(api, org, body):
    key = issue(api, org)["issuedApiKey"]
    response = api.patch(f"{keys_url(org)}/{key['keyId']}", body)
    assert response.status_code == 400, response.content
    assert set(response.json()["details"]) == set(body)
    assert api.get(f"{keys_url(org)}/{key['keyId']}").json() == key


def test_patch_with_a_stale_if_match_is_412(api, org):
    key = issue(api, org)["issuedApiKey"]
    url = f"{keys_url(org)}/{key['keyId']}"
    etag = api.get(url)["ETag"]
    assert api.patch(url, {"name": "First"}, headers={"If-Match": etag}).status_code == 200
    assert api.patch(url, {"name": "Second"}, headers={"If-Match": etag}).status_code == 412


def test_patch_of_oversized_metadata_is_400(api, org):
    key = issue(api, org)["issuedApiKey"]
    response = api.patch(f"{keys_url(org)}/{key['keyId']}", {"metadata": {"blob": "é" * 2100}})
    assert response.status_code == 400
    assert "metadata" in response.json()["details"]


# -- revoke ----------------------------------------------------------------------------------------


def test_revoke_answers_204_and_keeps_the_row_as_revoked(api, org):
    key = issue(api, org)["issuedApiKey"]
    response = api.post(f"{keys_url(org)}/{key['keyId']}/revoke", {"reason": "leaked in a log"})
    assert response.status_code == 204
    assert response.content == b""
    body = api.get(f"{keys_url(org)}/{key['keyId']}").json()
    assert body["status"] == "revoked"
    assert body["revokedAt"] is not None
    assert body["revocationReason"] == "leaked in a log"
    entry = AuditEntry.objects.get(event_type="issued_api_key.revoked")
    assert entry.metadata["changes"]["status"] == {"before": "active", "after": "revoked"}
    assert entry.metadata["reason"] == "leaked in a log"


def test_revoke_without_a_body_is_accepted(api, org):
    key = issue(api, org)["issuedApiKey"]
    assert api.post(f"{keys_url(org)}/{key['keyId']}/revoke").status_code == 204


def test_revoking_a_revoked_key_is_a_conflict_and_irreversible(api, org):
    key = issue(api, org)["issuedApiKey"]
    url = f"{keys_url(org)}/{key['keyId']}/revoke"
    assert api.post(url, {}).status_code == 204
    response = api.post(url, {})
    assert response.status_code == 409
    assert response.json()["message"] == "Cannot revoke API key from status 'revoked'"
    assert AuditEntry.objects.filter(event_type="issued_api_key.revoked").count() == 1


def test_an_expired_key_can_be_revoked(api, org):
    key = IssuedApiKeyFactory(organization=org, expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert api.post(f"{keys_url(org)}/{key.id}/revoke", {}).status_code == 204
    assert IssuedApiKey.objects.get(pk=key.pk).status == "revoked"


# -- rotate ----------------------------------------------------------------------------------------


def test_rotate_issues_a_new_key_and_revokes_the_old_one(api, org):
    old = issue(api, org, name="Billing", actorId="svc", scopes=["a"], metadata={"m": 1}, ttl="2h")
    response = api.post(f"{keys_url(org)}/{old['issuedApiKey']['keyId']}/rotate", {})
    assert response.status_code == 201, response.content
    body = response.json()
    new = body["issuedApiKey"]
    assert body["warning"] == WARNING
    assert new["keyId"] != old["issuedApiKey"]["keyId"]
    assert body["secret"] != old["secret"]
    assert response["Location"] == f"{keys_url(org)}/{new['keyId']}"
    assert (new["name"], new["actorId"], new["scopes"], new["metadata"]) == (
        "Billing",
        "svc",
        ["a"],
        {"m": 1},
    )
    assert new["rotatedFrom"] == old["issuedApiKey"]["keyId"]
    assert parse_time(new["expiresAt"]) - parse_time(new["createdAt"]) == datetime.timedelta(hours=2)
    previous = api.get(f"{keys_url(org)}/{old['issuedApiKey']['keyId']}").json()
    assert previous["status"] == "revoked"
    assert previous["revocationReason"] == "superseded"


def test_rotate_may_change_scopes_metadata_and_ttl(api, org):
    old = issue(api, org, scopes=["a"])["issuedApiKey"]
    response = api.post(
        f"{keys_url(org)}/{old['keyId']}/rotate", {"scopes": ["b"], "metadata": {}, "ttl": "1h"}
    )
    new = response.json()["issuedApiKey"]
    assert (new["scopes"], new["metadata"]) == (["b"], {})
    assert parse_time(new["expiresAt"]) - parse_time(new["createdAt"]) == datetime.timedelta(hours=1)


def test_rotating_a_revoked_key_is_a_conflict_and_issues_nothing(api, org):
    key = issue(api, org)["issuedApiKey"]
    assert api.post(f"{keys_url(org)}/{key['keyId']}/revoke", {}).status_code == 204
    response = api.post(f"{keys_url(org)}/{key['keyId']}/rotate", {})
    assert response.status_code == 409
    assert IssuedApiKey.objects.count() == 1


def test_a_suspended_organization_rotates_no_key(api, org):
    key = issue(api, org)["issuedApiKey"]
    Organization.objects.filter(pk=org.pk).update(status="suspended")
    assert api.post(f"{keys_url(org)}/{key['keyId']}/rotate", {}).status_code == 422
    assert IssuedApiKey.objects.get().status == "active"


def test_rotating_an_expired_key_is_a_conflict(api, org):
    key = IssuedApiKeyFactory(organization=org, expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = api.post(f"{keys_url(org)}/{key.id}/rotate", {})
    assert response.status_code == 409
    assert response.json()["message"] == "Cannot rotate API key from status 'expired'"


def test_rotation_is_audited_as_the_old_keys_rotation_and_the_new_keys_creation(api, org):
    old = issue(api, org)["issuedApiKey"]
    new = api.post(f"{keys_url(org)}/{old['keyId']}/rotate", {}).json()["issuedApiKey"]
    rotated = AuditEntry.objects.get(event_type="issued_api_key.rotated")
    assert rotated.target_id == old["keyId"]
    created = AuditEntry.objects.filter(event_type="issued_api_key.created").order_by("created_at").last()
    assert created.target_id == new["keyId"]
    assert created.metadata["rotatedFrom"] == old["keyId"]


def test_rotation_does_not_count_against_a_full_quota(api, org):
    assert api.put(settings_url(org), {**DEFAULTS, "quota": 1}).status_code == 200
    key = issue(api, org)["issuedApiKey"]
    assert api.post(f"{keys_url(org)}/{key['keyId']}/rotate", {}).status_code == 201


# -- settings --------------------------------------------------------------------------------------

DEFAULTS = {"prefix": "porta_ak", "defaultTtl": "168h", "maxTtl": "17520h", "quota": None}


def test_an_organization_starts_with_the_default_settings(api, org):
    response = api.get(settings_url(org))
    assert response.status_code == 200
    assert response.json() == {**DEFAULTS, "organizationId": str(org.id)}


def test_put_settings_replaces_them_and_new_keys_follow(api, org):
    body = {"prefix": "acme_live", "defaultTtl": "1h30m", "maxTtl": "720h", "quota": 10}
    response = api.put(settings_url(org), body)
    assert response.status_code == 200, response.content
    assert response.json() == {**body, "organizationId": str(org.id)}
    assert api.get(settings_url(org)).json() == {**body, "organizationId": str(org.id)}
    issued = issue(api, org)
    assert issued["secret"].startswith("acme_live_v1_")
    key = issued["issuedApiKey"]
    assert parse_time(key["expiresAt"]) - parse_time(key["createdAt"]) == datetime.timedelta(minutes=90)
    assert api.post(keys_url(org), {"name": "k", "ttl": "721h"}).status_code == 400


def test_a_key_keeps_its_prefix_when_the_settings_change(api, org):
    key = issue(api, org)["issuedApiKey"]
    assert api.put(settings_url(org), {**DEFAULTS, "prefix": "acme"}).status_code == 200
    assert api.get(f"{keys_url(org)}/{key['keyId']}").json()["prefix"] == "porta_ak"


def test_settings_durations_are_shown_in_hours(api, org):
    response = api.put(settings_url(org), {**DEFAULTS, "defaultTtl": "7d", "maxTtl": "365d"})
    assert (response.json()["defaultTtl"], response.json()["maxTtl"]) == ("168h", "8760h")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"prefix": "porta_pat"}, "prefix"),
        ({"prefix": "has space"}, "prefix"),
        ({"prefix": "trailing_"}, "prefix"),
        ({"prefix": "x" * 17}, "prefix"),
        ({"defaultTtl": "0s"}, "defaultTtl"),
        ({"maxTtl": "forever"}, "maxTtl"),
        ({"defaultTtl": "200h", "maxTtl": "100h"}, "defaultTtl"),
        ({"quota": -1}, "quota"),
        ({"quota": "5"}, "quota"),
        ({"color": "red"}, "color"),
    ],
)
def test_invalid_settings_are_400_and_change_nothing(api, org, change, field):
    response = api.put(settings_url(org), {**DEFAULTS, **change})
    assert response.status_code == 400, response.content
    assert field in response.json()["details"]
    assert api.get(settings_url(org)).json() == {**DEFAULTS, "organizationId": str(org.id)}


def test_put_settings_needs_every_field(api, org):
    response = api.put(settings_url(org), {"prefix": "acme"})
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"defaultTtl", "maxTtl", "quota"}


def test_a_settings_change_is_audited(api, org):
    api.put(settings_url(org), {**DEFAULTS, "quota": 3, "maxTtl": "720h"})
    entry = AuditEntry.objects.get(event_type="api_key_settings.updated")
    assert entry.organization_id == org.id
    assert entry.metadata["changes"] == {
        "quota": {"before": None, "after": 3},
        "maxTtl": {"before": "17520h", "after": "720h"},
    }


def test_settings_with_a_stale_if_match_is_412(api, org):
    etag = api.get(settings_url(org))["ETag"]
    assert api.put(settings_url(org), {**DEFAULTS, "quota": 1}, headers={"If-Match": etag}).status_code == 200
    assert api.put(settings_url(org), {**DEFAULTS, "quota": 2}, headers={"If-Match": etag}).status_code == 412


def test_settings_of_an_unknown_organization_are_404(api, initialized):
    assert api.get(f"{ORGS}/no-such-org/api-key-settings").status_code == 404


# -- quota -----------------------------------------------------------------------------------------


def test_issuing_beyond_the_quota_is_402_with_the_exact_shape(api, org):
    assert api.put(settings_url(org), {**DEFAULTS, "quota": 2}).status_code == 200
    issue(api, org)
    issue(api, org)
    response = api.post(keys_url(org), {"name": "third"}, headers={"X-Request-ID": "req-quota"})
    assert response.status_code == 402
    assert response.json() == {
        "error": "PaymentRequired",
        "reason": "API_KEY_QUOTA_EXCEEDED",
        "message": "The API key quota of this organization permits up to 2 non-revoked keys",
        "statusCode": 402,
        "requestId": "req-quota",
        "limit": 2,
        "currentUsage": 2,
    }
    assert IssuedApiKey.objects.filter(organization=org).count() == 2


def test_a_revoked_key_frees_its_quota_slot(api, org):
    assert api.put(settings_url(org), {**DEFAULTS, "quota": 1}).status_code == 200
    key = issue(api, org)["issuedApiKey"]
    assert api.post(keys_url(org), {"name": "k"}).status_code == 402
    assert api.post(f"{keys_url(org)}/{key['keyId']}/revoke", {}).status_code == 204
    assert api.post(keys_url(org), {"name": "k"}).status_code == 201


def test_the_quota_counts_only_the_organizations_own_keys(api, org):
    assert api.put(settings_url(org), {**DEFAULTS, "quota": 1}).status_code == 200
    IssuedApiKeyFactory.create_batch(3, organization=OrganizationFactory())
    assert api.post(keys_url(org), {"name": "k"}).status_code == 201


def test_a_quota_of_zero_refuses_every_new_key(api, org):
    assert api.put(settings_url(org), {**DEFAULTS, "quota": 0}).status_code == 200
    response = api.post(keys_url(org), {"name": "k"})
    assert response.status_code == 402
    assert (response.json()["limit"], response.json()["currentUsage"]) == (0, 0)


# -- what verification sees after each write -------------------------------------------------------

VERIFY = "/api/admin/api-keys/verify"


def verify(api, secret: str) -> dict:
    response = api.post(VERIFY, {"credential": secret})
    assert response.status_code == 200, response.content
    return response.json()


def test_a_revoked_key_fails_verification_at_once_although_it_was_verified_before(api, org):
    issued = issue(api, org)
    assert verify(api, issued["secret"])["isValid"] is True
    assert api.post(f"{keys_url(org)}/{issued['issuedApiKey']['keyId']}/revoke", {}).status_code == 204
    assert (verify(api, issued["secret"])["isValid"], verify(api, issued["secret"])["errorCode"]) == (
        False,
        "REVOKED",
    )


def test_after_rotation_the_old_secret_is_revoked_and_the_new_one_valid(api, org):
    old = issue(api, org)
    assert verify(api, old["secret"])["isValid"] is True
    new = api.post(f"{keys_url(org)}/{old['issuedApiKey']['keyId']}/rotate", {}).json()
    assert verify(api, old["secret"])["errorCode"] == "REVOKED"
    answer = verify(api, new["secret"])
    assert answer["isValid"] is True
    assert answer["keyId"] == new["issuedApiKey"]["keyId"]


def test_patched_scopes_and_metadata_show_in_verification_at_once(api, org):
    issued = issue(api, org, scopes=["a"])
    assert verify(api, issued["secret"])["scopes"] == ["a"]
    url = f"{keys_url(org)}/{issued['issuedApiKey']['keyId']}"
    assert api.patch(url, {"scopes": ["b"], "metadata": {"tier": "gold"}}).status_code == 200
    answer = verify(api, issued["secret"])
    assert (answer["scopes"], answer["metadata"]) == (["b"], {"tier": "gold"})


def test_deleting_the_organization_counts_its_keys_and_they_stop_verifying_at_once(api, org):
    issued = issue(api, org)
    assert verify(api, issued["secret"])["isValid"] is True
    response = api.delete(f"{ORGS}/{org.id}")
    assert response.status_code == 200, response.content
    assert response.json()["cascadeCounts"]["issuedApiKeys"] == 1
    assert verify(api, issued["secret"]) == {
        **verify(api, issued["secret"]),
        "isValid": False,
        "errorCode": "NOT_FOUND",
    }
    assert not IssuedApiKey.objects.exists()


def test_a_dry_run_delete_counts_the_keys_and_keeps_them_valid(api, org):
    issued = issue(api, org)
    response = api.delete(f"{ORGS}/{org.id}?dryRun=true")
    assert response.json()["cascadeCounts"]["issuedApiKeys"] == 1
    assert verify(api, issued["secret"])["isValid"] is True


@pytest.mark.parametrize("metadata", [{"a": "x\u0000y"}, {"k\u0000": 1}, {"list": [{"deep": "\u0000"}]}])
def test_metadata_with_a_nul_character_is_400(api, org, metadata):
    response = api.post(keys_url(org), {"name": "k", "metadata": metadata})
    assert response.status_code == 400, response.content
    assert "metadata" in response.json()["details"]


@pytest.mark.parametrize("number", [2**70, 1e21, -(2**64)])
def test_metadata_with_numbers_beyond_64_bits_is_400(api, org, number):
    body = json.dumps({"name": "k", "metadata": {"big": number}})  # the test client's orjson cannot
    response = api.client.post(
        keys_url(org), body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {api.token}"
    )
    assert response.status_code == 400, response.content
    assert "metadata" in response.json()["details"]
    assert not IssuedApiKey.objects.exists()


def test_metadata_keeps_ordinary_numbers(api, org):
    metadata = {"int": 2**62, "neg": -5, "float": 1.5, "tiny": 1e-30, "flag": True, "none": None}
    key = issue(api, org, metadata=metadata)["issuedApiKey"]
    assert api.get(f"{keys_url(org)}/{key['keyId']}").json()["metadata"] == metadata


def test_a_quota_lowered_below_the_usage_keeps_the_keys_and_refuses_new_ones(api, org):
    issue(api, org)
    issue(api, org)
    assert api.put(settings_url(org), {**DEFAULTS, "quota": 1}).status_code == 200
    assert [row["status"] for row in api.get(keys_url(org)).json()["data"]] == ["active", "active"]
    response = api.post(keys_url(org), {"name": "k"})
    assert (response.status_code, response.json()["currentUsage"]) == (402, 2)
