"""Organizations through the admin API: the contract's §3 row and upstream Porta §5."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from applications.models import Application, Client
from audit.models import AuditEntry
from organizations.models import Organization, User
from tests.factories import OrganizationFactory, UserFactory

ORGS = "/api/admin/organizations"


def create(api, **body):
    response = api.post(ORGS, {"name": "Acme Corp", **body})
    assert response.status_code == 201, response.content
    return response.json()


# -- create ---------------------------------------------------------------------------------------


def test_creating_an_organization_returns_201_with_location_and_the_bare_object(api):
    response = api.post(ORGS, {"name": "Acme Corp"})
    body = response.json()
    assert response.status_code == 201
    assert response["Location"] == f"{ORGS}/{body['id']}"
    assert body["name"] == "Acme Corp"
    assert body["status"] == "active"
    assert set(body) >= {"id", "name", "slug", "status", "createdAt", "updatedAt", "branding"}


def test_a_slug_is_generated_from_the_name(api):
    assert create(api, name="Ünïcode & Friends, Inc.")["slug"] == "unicode-friends-inc"


def test_a_generated_slug_that_is_taken_gets_a_numeric_suffix(api):
    create(api, name="Acme Corp")
    assert create(api, name="Acme Corp")["slug"] == "acme-corp-2"


def test_an_explicit_slug_that_is_taken_is_a_conflict(api):
    create(api, slug="acme")
    response = api.post(ORGS, {"name": "Other", "slug": "acme"})
    assert response.status_code == 409
    assert response.json()["error"] == "Conflict"


@pytest.mark.parametrize("slug", ["ab", "-acme", "acme-", "Acme", "ac me", "a" * 101])
def test_a_malformed_slug_is_a_validation_error(api, slug):
    response = api.post(ORGS, {"name": "Acme", "slug": slug})
    assert response.status_code == 400
    assert "slug" in response.json()["details"]


@pytest.mark.parametrize("slug", ["admin", "api", "auth", "health", "validate-slug"])
def test_a_reserved_slug_is_refused(api, slug):
    response = api.post(ORGS, {"name": "Acme", "slug": slug})
    assert response.status_code == 400
    assert "reserved" in response.json()["details"]["slug"][0]


def test_create_validates_branding_colour(api):
    response = api.post(ORGS, {"name": "Acme", "branding": {"primaryColor": "red"}})
    assert response.status_code == 400
    assert "branding.primaryColor" in response.json()["details"]


def test_create_refuses_unknown_login_methods(api):
    response = api.post(ORGS, {"name": "Acme", "defaultLoginMethods": ["password", "carrier_pigeon"]})
    assert response.status_code == 400


def test_create_refuses_an_empty_name(api):
    assert api.post(ORGS, {"name": ""}).status_code == 400


def test_create_stores_branding_and_locale(api):
    body = create(
        api,
        defaultLocale="nl",
        defaultLoginMethods=["password"],
        branding={"primaryColor": "#1A2B3C", "companyName": "Acme BV"},
    )
    assert body["defaultLocale"] == "nl"
    assert body["defaultLoginMethods"] == ["password"]
    assert body["branding"]["primaryColor"] == "#1A2B3C"
    assert body["branding"]["companyName"] == "Acme BV"


# -- read -----------------------------------------------------------------------------------------


def test_an_organization_is_found_by_id_and_by_slug(api):
    org = create(api, slug="acme")
    assert api.get(f"{ORGS}/{org['id']}").json()["id"] == org["id"]
    assert api.get(f"{ORGS}/acme").json()["id"] == org["id"]


def test_an_unknown_organization_is_404(api):
    response = api.get(f"{ORGS}/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["message"] == "Organization not found"


def test_list_filters_by_status(api):
    create(api, name="Active One")
    suspended = create(api, name="Suspended One")
    api.post(f"{ORGS}/{suspended['id']}/suspend")
    body = api.get(ORGS, {"status": "suspended"}).json()
    assert [o["id"] for o in body["data"]] == [suspended["id"]]


def test_list_searches_name_and_slug(api):
    create(api, name="Globex", slug="globex")
    create(api, name="Initech", slug="initech")
    assert [o["slug"] for o in api.get(ORGS, {"search": "glob"}).json()["data"]] == ["globex"]


def test_list_sorts_by_name(api):
    for name in ("Charlie", "Alpha", "Bravo"):
        create(api, name=name)
    names = [o["name"] for o in api.get(ORGS, {"sort": "name", "order": "asc"}).json()["data"]]
    assert names == sorted(names)


def test_list_is_newest_first_by_default(api):
    first, second = create(api, name="First"), create(api, name="Second")
    ids = [o["id"] for o in api.get(ORGS).json()["data"]]
    assert ids.index(second["id"]) < ids.index(first["id"])


def test_list_runs_a_constant_number_of_queries(api, db):
    for _ in range(30):
        OrganizationFactory()
    api.get(ORGS)  # warm caches of the request path
    with CaptureQueriesContext(connection) as small:
        assert api.get(ORGS, {"pageSize": 5}).status_code == 200
    with CaptureQueriesContext(connection) as large:
        assert api.get(ORGS, {"pageSize": 30}).status_code == 200
    with CaptureQueriesContext(connection) as cursor:
        assert api.get(ORGS, {"limit": 30}).status_code == 200
    assert len(small) == len(large)
    # authentication (user, roles) + count + page; the cursor mode skips the count.
    assert len(large) <= 4
    assert len(cursor) <= 3


def test_validate_slug_reports_free_taken_and_malformed_slugs(api):
    create(api, slug="acme")
    assert api.get(f"{ORGS}/validate-slug", {"slug": "fresh-slug"}).json() == {"isValid": True}
    assert api.get(f"{ORGS}/validate-slug", {"slug": "acme"}).json() == {
        "isValid": False,
        "error": "Slug already in use",
    }
    assert api.get(f"{ORGS}/validate-slug", {"slug": "Bad Slug"}).json()["isValid"] is False


def test_validate_slug_requires_the_slug_parameter(api):
    assert api.get(f"{ORGS}/validate-slug").status_code == 400


# -- update ---------------------------------------------------------------------------------------


def test_put_changes_name_and_locale_and_audits_the_difference(api):
    org = create(api)
    response = api.put(f"{ORGS}/{org['id']}", {"name": "Acme Renamed", "defaultLocale": "de"})
    assert response.status_code == 200
    assert response.json()["name"] == "Acme Renamed"
    entry = AuditEntry.objects.get(event_type="org.updated", target_id=org["id"])
    assert entry.metadata["changes"]["name"] == {"before": "Acme Corp", "after": "Acme Renamed"}


def test_put_refuses_to_change_the_slug(api):
    org = create(api, slug="acme")
    response = api.put(f"{ORGS}/{org['id']}", {"slug": "other"})
    assert response.status_code == 400
    assert Organization.objects.get(pk=org["id"]).slug == "acme"


def test_put_accepts_the_unchanged_slug_of_a_round_trip(api):
    org = create(api, slug="acme")
    response = api.put(f"{ORGS}/{org['id']}", {**org, "name": "Acme 2"})
    assert response.status_code == 200
    assert response.json()["name"] == "Acme 2"


def test_put_with_a_stale_if_match_is_412_and_changes_nothing(api):
    org = create(api)
    etag = api.get(f"{ORGS}/{org['id']}")["ETag"]
    api.put(f"{ORGS}/{org['id']}", {"name": "Changed once"})
    response = api.put(f"{ORGS}/{org['id']}", {"name": "Changed twice"}, headers={"If-Match": etag})
    assert response.status_code == 412
    assert Organization.objects.get(pk=org["id"]).name == "Changed once"


def test_branding_put_updates_only_branding(api):
    org = create(api)
    response = api.put(f"{ORGS}/{org['id']}/branding", {"logoUrl": "https://cdn.example.com/logo.png"})
    assert response.status_code == 200
    assert response.json()["branding"]["logoUrl"] == "https://cdn.example.com/logo.png"
    assert response.json()["name"] == "Acme Corp"
    assert AuditEntry.objects.filter(event_type="org.branding.updated", target_id=org["id"]).count() == 1


def test_branding_refuses_css_over_ten_thousand_characters(api):
    org = create(api)
    assert api.put(f"{ORGS}/{org['id']}/branding", {"customCss": "a" * 10001}).status_code == 400


# -- lifecycle --------------------------------------------------------------------------------------

LEGAL = [
    ("active", "suspend", "suspended", "org.suspended"),
    ("suspended", "activate", "active", "org.activated"),
    ("active", "archive", "archived", "org.archived"),
    ("suspended", "archive", "archived", "org.archived"),
    ("archived", "restore", "active", "org.restored"),
]
ILLEGAL = [
    ("active", "activate"),
    ("active", "restore"),
    ("suspended", "suspend"),
    ("suspended", "restore"),
    ("archived", "suspend"),
    ("archived", "activate"),
    ("archived", "archive"),
]


@pytest.mark.parametrize(("start", "action", "end", "event"), LEGAL)
def test_each_legal_transition_changes_status_and_is_audited(api, start, action, end, event):
    org = OrganizationFactory(status=start)
    response = api.post(f"{ORGS}/{org.id}/{action}")
    assert response.status_code == 200
    assert response.json()["status"] == end
    entry = AuditEntry.objects.get(event_type=event, target_id=str(org.id))
    assert entry.metadata["changes"]["status"] == {"before": start, "after": end}


@pytest.mark.parametrize(("start", "action"), ILLEGAL)
def test_each_illegal_transition_is_a_conflict_that_changes_nothing(api, start, action):
    org = OrganizationFactory(status=start)
    response = api.post(f"{ORGS}/{org.id}/{action}")
    assert response.status_code == 409
    assert response.json()["message"] == f"Cannot {action} organization from status '{start}'"
    assert Organization.objects.get(pk=org.id).status == start
    assert not AuditEntry.objects.filter(target_id=str(org.id)).exists()


def test_suspend_records_the_reason(api):
    org = OrganizationFactory()
    api.post(f"{ORGS}/{org.id}/suspend", {"reason": "unpaid invoices"})
    assert AuditEntry.objects.get(event_type="org.suspended").metadata["reason"] == "unpaid invoices"


@pytest.mark.parametrize("action", ["suspend", "archive"])
def test_the_super_admin_organization_cannot_be_suspended_or_archived(api, super_admin_org, action):
    response = api.post(f"{ORGS}/{super_admin_org.id}/{action}")
    assert response.status_code == 403
    assert action in response.json()["message"]
    assert Organization.objects.get(pk=super_admin_org.id).status == "active"


def test_the_super_admin_organization_cannot_be_deleted(api, super_admin_org):
    response = api.delete(f"{ORGS}/{super_admin_org.id}")
    assert response.status_code == 403
    assert Organization.objects.filter(pk=super_admin_org.id).exists()


def test_history_lists_the_organizations_audit_entries_newest_first(api):
    org = create(api)
    api.post(f"{ORGS}/{org['id']}/suspend")
    api.post(f"{ORGS}/{org['id']}/activate")
    events = [e["eventType"] for e in api.get(f"{ORGS}/{org['id']}/history").json()["data"]]
    assert events == ["org.activated", "org.suspended", "org.created"]


def test_history_filters_by_event_type_prefix_and_pages_by_cursor(api):
    org = create(api)
    api.post(f"{ORGS}/{org['id']}/suspend")
    api.post(f"{ORGS}/{org['id']}/activate")
    body = api.get(f"{ORGS}/{org['id']}/history", {"eventType": "org.*", "limit": 2}).json()
    assert len(body["data"]) == 2
    assert body["pagination"]["hasMore"] is True


# -- delete ---------------------------------------------------------------------------------------


def _populate(org: Organization) -> None:
    app = Application.objects.create(name="Shop", slug="shop")
    Client.objects.create(
        organization=org, application=app, client_id="c1", client_name="c1", client_type="public",
        application_type="spa",
    )  # fmt: skip
    UserFactory(organization=org)
    UserFactory(organization=org)


def test_delete_dry_run_reports_cascade_counts_and_deletes_nothing(api):
    org = OrganizationFactory()
    _populate(org)
    response = api.delete(f"{ORGS}/{org.id}?dryRun=true")
    body = response.json()
    assert response.status_code == 200
    assert body["dryRun"] is True
    assert body["cascadeCounts"]["users"] == 2
    assert body["cascadeCounts"]["clients"] == 1
    assert Organization.objects.filter(pk=org.id).exists()
    assert not AuditEntry.objects.filter(target_id=str(org.id)).exists()


def test_delete_removes_the_organization_and_its_rows_and_keeps_the_audit_entry(api):
    org = OrganizationFactory()
    _populate(org)
    response = api.delete(f"{ORGS}/{org.id}")
    assert response.status_code == 200
    assert response.json()["organization"]["id"] == str(org.id)
    assert "dryRun" not in response.json()
    assert not Organization.objects.filter(pk=org.id).exists()
    assert not User.objects.filter(organization_id=org.id).exists()
    entry = AuditEntry.objects.get(event_type="org.destroyed", target_id=str(org.id))
    assert entry.metadata["cascadeCounts"]["users"] == 2


def test_delete_refuses_a_malformed_dry_run_flag(api):
    org = OrganizationFactory()
    assert api.delete(f"{ORGS}/{org.id}?dryRun=maybe").status_code == 400
    assert Organization.objects.filter(pk=org.id).exists()


def test_a_new_organization_has_equal_created_and_updated_times(api):
    body = create(api)
    assert body["createdAt"] == body["updatedAt"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": 123},
        {"name": "Acme", "branding": {"customCss": 0}},
        {"name": "Acme", "defaultLocale": True},
        {"name": "Acme", "defaultLoginMethods": "password"},
    ],
    ids=["number-for-name", "number-for-css", "bool-for-locale", "string-for-list"],
)
def test_a_value_of_the_wrong_json_type_is_refused_not_coerced(api, body):
    response = api.post(ORGS, body)
    assert response.status_code == 400
    assert not Organization.objects.filter(slug="acme").exists()


def test_a_non_string_reason_is_refused(api):
    org = OrganizationFactory()
    assert api.post(f"{ORGS}/{org.id}/suspend", {"reason": 0}).status_code == 400
    assert Organization.objects.get(pk=org.id).status == "active"
