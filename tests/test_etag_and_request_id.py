"""Contract §1 "Concurrency", "Request id" and "Encoding": ETags, If-Match, X-Request-ID, camelCase."""

from __future__ import annotations

import re
from typing import Any

import pytest

from audit.models import AuditEntry
from organizations.models import Organization, OrganizationStatus
from tests.factories import OrganizationFactory

ORGS = "/api/admin/organizations"
STRONG_ETAG = re.compile(r'^"[^"]+"$')


def url(org: Organization, suffix: str = "") -> str:
    return f"{ORGS}/{org.id}{suffix}"


def audit_count(org: Organization) -> int:
    return AuditEntry.objects.filter(target_type="organization", target_id=str(org.id)).count()


def current_etag(api, org: Organization) -> str:
    response = api.get(url(org))
    assert response.status_code == 200
    return response["ETag"]


@pytest.fixture
def org(initialized) -> Organization:
    return OrganizationFactory(name="Acme", slug="acme")


@pytest.fixture
def stale_etag(api, org) -> str:
    """An ETag the client read before someone else renamed the organization."""
    tag = current_etag(api, org)
    response = api.put(url(org), {"name": "Acme Renamed"})
    assert response.status_code == 200
    assert response["ETag"] != tag
    return tag


# -- ETag / If-None-Match --------------------------------------------------------------------------


def test_a_single_get_sends_a_strong_etag(api, org):
    tag = api.get(url(org))["ETag"]
    assert STRONG_ETAG.match(tag), tag
    assert not tag.startswith("W/")


def test_the_etag_is_stable_while_nothing_changes(api, org):
    assert current_etag(api, org) == current_etag(api, org)


def test_the_etag_is_the_same_by_id_and_by_slug(api, org):
    assert api.get(f"{ORGS}/acme")["ETag"] == current_etag(api, org)


def test_the_etag_changes_when_the_resource_changes(api, org):
    before = current_etag(api, org)
    api.put(url(org), {"name": "Changed"})
    assert current_etag(api, org) != before


def test_a_write_answers_the_etag_of_the_new_representation(api, org):
    response = api.put(url(org), {"name": "Changed"})
    assert response.status_code == 200
    assert response["ETag"] == current_etag(api, org)


def test_a_create_answers_an_etag(api, initialized):
    response = api.post(ORGS, {"name": "Fresh"})
    assert response.status_code == 201
    assert response["ETag"] == api.get(response["Location"])["ETag"]


def test_if_none_match_with_the_current_etag_is_not_modified(api, org):
    tag = current_etag(api, org)
    response = api.get(url(org), headers={"If-None-Match": tag})
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == tag


def test_if_none_match_listing_the_current_etag_among_others_is_not_modified(api, org):
    tag = current_etag(api, org)
    response = api.get(url(org), headers={"If-None-Match": f'"other", {tag}'})
    assert response.status_code == 304


def test_if_none_match_with_a_stale_etag_answers_the_resource(api, org, stale_etag):
    response = api.get(url(org), headers={"If-None-Match": stale_etag})
    assert response.status_code == 200
    assert response.json()["name"] == "Acme Renamed"


# -- If-Match --------------------------------------------------------------------------------------


def test_a_put_with_a_stale_if_match_is_refused_and_changes_nothing(api, org, stale_etag):
    entries = audit_count(org)
    response = api.put(url(org), {"name": "Lost update"}, headers={"If-Match": stale_etag})
    assert response.status_code == 412
    assert response.json()["error"] == "PreconditionFailed"
    org.refresh_from_db()
    assert org.name == "Acme Renamed"
    assert audit_count(org) == entries


def test_a_delete_with_a_stale_if_match_is_refused_and_deletes_nothing(api, org, stale_etag):
    entries = audit_count(org)
    response = api.delete(url(org), headers={"If-Match": stale_etag})
    assert response.status_code == 412
    assert Organization.objects.filter(pk=org.pk).exists()
    assert audit_count(org) == entries


def test_a_branding_update_with_a_stale_if_match_is_refused_and_changes_nothing(api, org, stale_etag):
    entries = audit_count(org)
    response = api.put(url(org, "/branding"), {"primaryColor": "#112233"}, headers={"If-Match": stale_etag})
    assert response.status_code == 412
    org.refresh_from_db()
    assert org.branding_primary_color is None
    assert audit_count(org) == entries


def test_a_suspend_with_a_stale_if_match_is_refused_and_changes_nothing(api, org, stale_etag):
    entries = audit_count(org)
    response = api.post(url(org, "/suspend"), {"reason": "late"}, headers={"If-Match": stale_etag})
    assert response.status_code == 412
    org.refresh_from_db()
    assert org.status == OrganizationStatus.ACTIVE
    assert audit_count(org) == entries


def test_a_precondition_failure_names_the_current_etag(api, org, stale_etag):
    body = api.put(url(org), {"name": "x"}, headers={"If-Match": stale_etag}).json()
    assert body["currentETag"] == current_etag(api, org)
    assert body["statusCode"] == 412


def test_a_put_with_the_current_if_match_succeeds(api, org, stale_etag):
    response = api.put(url(org), {"name": "Fresh"}, headers={"If-Match": current_etag(api, org)})
    assert response.status_code == 200
    org.refresh_from_db()
    assert org.name == "Fresh"


def test_a_branding_update_with_the_current_if_match_succeeds(api, org):
    response = api.put(
        url(org, "/branding"), {"primaryColor": "#112233"}, headers={"If-Match": current_etag(api, org)}
    )
    assert response.status_code == 200
    assert response.json()["branding"]["primaryColor"] == "#112233"


def test_a_suspend_with_the_current_if_match_succeeds(api, org):
    response = api.post(url(org, "/suspend"), headers={"If-Match": current_etag(api, org)})
    assert response.status_code == 200
    assert response.json()["status"] == "suspended"


def test_a_delete_with_the_current_if_match_succeeds(api, org):
    response = api.delete(url(org), headers={"If-Match": current_etag(api, org)})
    assert response.status_code == 200
    assert not Organization.objects.filter(pk=org.pk).exists()


def test_if_match_listing_the_current_etag_among_others_succeeds(api, org, stale_etag):
    tag = current_etag(api, org)
    response = api.put(url(org), {"name": "Fresh"}, headers={"If-Match": f"{stale_etag}, {tag}"})
    assert response.status_code == 200


def test_if_match_star_matches_any_current_version(api, org, stale_etag):
    response = api.put(url(org), {"name": "Star"}, headers={"If-Match": "*"})
    assert response.status_code == 200
    org.refresh_from_db()
    assert org.name == "Star"


def test_a_weak_etag_in_if_match_does_not_match(api, org):
    response = api.put(url(org), {"name": "Weak"}, headers={"If-Match": f"W/{current_etag(api, org)}"})
    assert response.status_code == 412
    org.refresh_from_db()
    assert org.name == "Acme"


def test_a_put_without_if_match_is_unconditional(api, org, stale_etag):
    assert api.put(url(org), {"name": "No precondition"}).status_code == 200


# -- X-Request-ID ----------------------------------------------------------------------------------


def test_a_sent_request_id_is_echoed(api, org):
    response = api.get(url(org), headers={"X-Request-ID": "req-2024.01:abc_DEF"})
    assert response["X-Request-ID"] == "req-2024.01:abc_DEF"


def test_a_request_id_is_generated_when_absent(api, org):
    first = api.get(url(org))["X-Request-ID"]
    second = api.get(url(org))["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@pytest.mark.parametrize("offered", ["has spaces", "x" * 201, "<script>", "new\nline", "ünïcode"])
def test_an_unusable_request_id_is_replaced_by_a_generated_one(api, org, offered):
    response = api.get(url(org), headers={"X-Request-ID": offered})
    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_the_request_id_is_echoed_on_responses_outside_the_admin_api(initialized, anonymous):
    response = anonymous.get("/health/alive", headers={"X-Request-ID": "probe-1"})
    assert response["X-Request-ID"] == "probe-1"


def test_the_request_id_of_a_write_is_stored_on_its_audit_entry(api, initialized):
    response = api.post(ORGS, {"name": "Traced"}, headers={"X-Request-ID": "trace-create-1"})
    assert response.status_code == 201
    entry = AuditEntry.objects.get(event_type="org.created", target_id=response.json()["id"])
    assert entry.request_id == "trace-create-1"


def test_a_generated_request_id_is_stored_on_the_audit_entry(api, org):
    response = api.post(url(org, "/suspend"))
    assert response.status_code == 200
    entry = AuditEntry.objects.get(event_type="org.suspended", target_id=str(org.id))
    assert entry.request_id == response["X-Request-ID"]


def test_the_stored_request_id_is_served_by_the_audit_api(api, org):
    api.put(url(org), {"name": "Audited"}, headers={"X-Request-ID": "trace-update-7"})
    response = api.get("/api/admin/audit", {"targetId": str(org.id)})
    assert response.status_code == 200
    assert [row["requestId"] for row in response.json()["data"] if row["eventType"] == "org.updated"] == [
        "trace-update-7"
    ]


# -- camelCase -------------------------------------------------------------------------------------


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_an_organization_is_sent_with_camel_case_keys(api, org):
    body = api.get(url(org)).json()
    assert not [key for key in _keys(body) if "_" in key]
    assert {"createdAt", "updatedAt", "isSuperAdmin", "defaultLocale", "defaultLoginMethods"} <= set(body)
    assert {"logoUrl", "faviconUrl", "primaryColor", "companyName", "customCss"} == set(body["branding"])


def test_a_collection_is_sent_with_camel_case_keys(api, org):
    body = api.get(ORGS).json()
    assert not [key for key in _keys(body) if "_" in key]
    assert set(body["pagination"]) == {"total", "page", "pageSize", "totalPages"}


def test_camel_case_body_fields_are_accepted(api, initialized):
    response = api.post(
        ORGS,
        {"name": "Camel", "defaultLocale": "de", "defaultLoginMethods": ["password"],
         "branding": {"primaryColor": "#AABBCC", "companyName": "Camel GmbH"}},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    org = Organization.objects.get(pk=response.json()["id"])
    assert (org.default_locale, org.default_login_methods) == ("de", ["password"])
    assert (org.branding_primary_color, org.branding_company_name) == ("#AABBCC", "Camel GmbH")


def test_timestamps_are_iso_8601_utc_with_milliseconds(api, org):
    body = api.get(url(org)).json()
    for name in ("createdAt", "updatedAt"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body[name]), body[name]


# -- read-only fields on PUT -----------------------------------------------------------------------


def test_a_representation_sent_back_with_a_change_updates_only_that_change(api, org):
    representation = api.get(url(org)).json()
    response = api.put(url(org), {**representation, "name": "Round trip"})
    assert response.status_code == 200, response.content
    updated = response.json()
    assert updated["name"] == "Round trip"
    assert {k: v for k, v in updated.items() if k not in ("name", "updatedAt")} == {
        k: v for k, v in representation.items() if k not in ("name", "updatedAt")
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "0190a000-0000-7000-8000-000000000000"),
        ("createdAt", "2000-01-01T00:00:00.000Z"),
        ("updatedAt", "2000-01-01T00:00:00.000Z"),
        ("status", "archived"),
        ("isSuperAdmin", True),
        ("twoFactorPolicy", "required"),
    ],
)
def test_a_read_only_field_sent_on_put_is_ignored(api, org, field, value):
    before = api.get(url(org)).json()
    response = api.put(url(org), {"name": "Renamed", field: value})
    assert response.status_code == 200, response.content
    after = api.get(url(org)).json()
    assert after["name"] == "Renamed"
    assert after[field] == before[field] or field == "updatedAt"
    assert after["updatedAt"] != value


def test_a_read_only_field_sent_on_create_is_ignored(api, initialized):
    response = api.post(ORGS, {"name": "Sneaky", "status": "archived", "isSuperAdmin": True})
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "active"
    assert response.json()["isSuperAdmin"] is False
