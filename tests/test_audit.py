"""The audit log: append-only, written in the transaction of the change, readable with filters."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import transaction

from audit import services as audit
from audit.models import AuditEntry
from organizations import services as org_services
from organizations.models import Organization
from porta.core.context import Actor
from tests.factories import OrganizationFactory

AUDIT = "/api/admin/audit"
ORGS = "/api/admin/organizations"


def _entries_after(api, action) -> list[AuditEntry]:
    before = set(AuditEntry.objects.values_list("id", flat=True))
    action()
    return list(AuditEntry.objects.exclude(id__in=before).exclude(event_type__startswith="user.login"))


@pytest.mark.parametrize(
    "write",
    [
        lambda api, org: api.post(ORGS, {"name": "New Org"}),
        lambda api, org: api.put(f"{ORGS}/{org.id}", {"name": "Renamed"}),
        lambda api, org: api.put(f"{ORGS}/{org.id}/branding", {"companyName": "Acme"}),
        lambda api, org: api.post(f"{ORGS}/{org.id}/suspend"),
        lambda api, org: api.post(f"{ORGS}/{org.id}/archive"),
        lambda api, org: api.delete(f"{ORGS}/{org.id}"),
    ],
    ids=["create", "update", "branding", "suspend", "archive", "delete"],
)
def test_every_successful_write_leaves_exactly_one_audit_entry(api, write):
    org = OrganizationFactory()
    responses = []
    new = _entries_after(api, lambda: responses.append(write(api, org)))
    assert responses[0].status_code in (200, 201)
    assert len(new) == 1


@pytest.mark.parametrize(
    "write",
    [
        lambda api, org: api.post(ORGS, {"name": "Dup", "slug": org.slug}),
        lambda api, org: api.post(ORGS, {"name": ""}),
        lambda api, org: api.put(f"{ORGS}/{org.id}", {"slug": "changed-slug"}),
        lambda api, org: api.post(f"{ORGS}/{org.id}/restore"),
        lambda api, org: api.put(f"{ORGS}/{org.id}", {"name": "x"}, headers={"If-Match": '"stale"'}),
    ],
    ids=["duplicate", "invalid", "immutable-slug", "illegal-transition", "stale-etag"],
)
def test_a_failed_write_leaves_no_audit_entry(api, write):
    org = OrganizationFactory()
    responses = []
    new = _entries_after(api, lambda: responses.append(write(api, org)))
    assert responses[0].status_code >= 400
    assert new == []


def _create_then_fail() -> None:
    with transaction.atomic():
        org_services.organization_create(actor=Actor.system(), name="Doomed Org")
        raise RuntimeError("the surrounding transaction fails after the service succeeded")


def test_an_audit_entry_is_rolled_back_with_the_change_it_describes(db):
    with pytest.raises(RuntimeError):
        _create_then_fail()
    assert not Organization.objects.filter(name="Doomed Org").exists()
    assert not AuditEntry.objects.filter(event_type="org.created").exists()


def test_recording_outside_a_transaction_is_refused(transactional_db):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit.record(event_type="x.y", actor=Actor.system(), target_type="x")


def test_audit_entries_cannot_be_updated_or_deleted(db):
    with transaction.atomic():
        entry = audit.record(event_type="x.y", actor=Actor.system(), target_type="x")
    entry.event_type = "changed"
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()


def test_an_entry_records_actor_request_and_changes(api, super_admin):
    headers = {"X-Request-ID": "req-123", "User-Agent": "porta-test"}
    response = api.post(ORGS, {"name": "Audited"}, headers=headers)
    entry = api.get(AUDIT, {"eventType": "org.created"}).json()["data"][0]
    assert entry["actorId"] == str(super_admin.id)
    assert entry["actorType"] == "user"
    assert entry["organizationId"] == response.json()["id"]
    assert entry["targetType"] == "organization"
    assert entry["targetId"] == response.json()["id"]
    assert entry["requestId"] == "req-123"
    assert entry["userAgent"] == "porta-test"
    assert entry["ipAddress"] == "127.0.0.1"
    assert entry["metadata"]["changes"]["name"] == {"before": None, "after": "Audited"}


def test_a_single_entry_is_read_by_id(api):
    org = api.post(ORGS, {"name": "One"}).json()
    entry = AuditEntry.objects.get(event_type="org.created", target_id=org["id"])
    body = api.get(f"{AUDIT}/{entry.id}").json()
    assert body["id"] == str(entry.id)
    assert body["eventType"] == "org.created"


def test_an_unknown_or_malformed_entry_id_is_404(api):
    assert api.get(f"{AUDIT}/{uuid.uuid4()}").status_code == 404
    assert api.get(f"{AUDIT}/not-a-uuid").status_code == 404


def test_event_type_filters_exactly_or_by_prefix(api):
    org = OrganizationFactory()
    api.post(f"{ORGS}/{org.id}/suspend")
    api.post(f"{ORGS}/{org.id}/activate")
    exact = api.get(AUDIT, {"eventType": "org.suspended"}).json()["data"]
    prefix = api.get(AUDIT, {"eventType": "org.*", "targetId": str(org.id)}).json()["data"]
    assert [e["eventType"] for e in exact] == ["org.suspended"]
    assert {e["eventType"] for e in prefix} == {"org.suspended", "org.activated"}


def test_a_wildcard_inside_an_event_type_is_a_bad_request(api):
    assert api.get(AUDIT, {"eventType": "org*suspended"}).status_code == 400


def test_filters_by_organization_actor_and_target(api, super_admin):
    a, b = OrganizationFactory(), OrganizationFactory()
    api.post(f"{ORGS}/{a.id}/suspend")
    api.post(f"{ORGS}/{b.id}/suspend")
    by_org = api.get(AUDIT, {"organizationId": str(a.id)}).json()["data"]
    by_target = api.get(AUDIT, {"targetType": "organization", "targetId": str(b.id)}).json()["data"]
    by_actor = api.get(AUDIT, {"actorId": str(super_admin.id), "eventType": "org.*"}).json()["data"]
    assert {e["targetId"] for e in by_org} == {str(a.id)}
    assert {e["targetId"] for e in by_target} == {str(b.id)}
    assert len(by_actor) == 2


def test_since_and_until_bound_the_time_range(api):
    org = OrganizationFactory()
    api.post(f"{ORGS}/{org.id}/suspend")
    created = AuditEntry.objects.get(event_type="org.suspended").created_at
    later = (created + datetime.timedelta(seconds=1)).isoformat()
    earlier = (created - datetime.timedelta(seconds=1)).isoformat()
    assert api.get(AUDIT, {"eventType": "org.suspended", "since": later}).json()["data"] == []
    assert len(api.get(AUDIT, {"eventType": "org.suspended", "since": earlier}).json()["data"]) == 1
    assert api.get(AUDIT, {"eventType": "org.suspended", "until": earlier}).json()["data"] == []


def test_a_malformed_filter_value_is_a_bad_request_naming_it(api):
    response = api.get(AUDIT, {"organizationId": "nope"})
    assert response.status_code == 400
    assert "organizationId" in response.json()["details"]


def test_the_log_pages_by_cursor_without_gaps_or_repeats(api, super_admin):
    for n in range(7):
        api.post(ORGS, {"name": f"Org {n}"})
    seen, cursor = [], None
    for _ in range(10):
        params = {"limit": 3, "actorId": str(super_admin.id), "eventType": "org.created"}
        params.update({"cursor": cursor} if cursor else {})
        body = api.get(AUDIT, params).json()
        seen += [e["id"] for e in body["data"]]
        cursor = body["pagination"]["nextCursor"]
        if not cursor:
            break
    assert len(seen) == 7
    assert len(set(seen)) == 7


def test_the_log_pages_by_page_number_with_totals(api, super_admin):
    for n in range(3):
        api.post(ORGS, {"name": f"Org {n}"})
    params = {"eventType": "org.created", "actorId": str(super_admin.id), "pageSize": 2, "page": 2}
    body = api.get(AUDIT, params).json()
    assert body["pagination"] == {"total": 3, "page": 2, "pageSize": 2, "totalPages": 2}
    assert len(body["data"]) == 1


def test_audited_changes_use_the_apis_camel_case_names(api):
    org = OrganizationFactory()
    api.put(f"{ORGS}/{org.id}", {"defaultLocale": "de", "branding": {"primaryColor": "#112233"}})
    changes = AuditEntry.objects.get(event_type="org.updated").metadata["changes"]
    assert changes == {
        "defaultLocale": {"before": "en", "after": "de"},
        "branding.primaryColor": {"before": None, "after": "#112233"},
    }
