"""Bulk status changes, the filter form: the same body with ``filter`` instead of ``ids`` answers
202 ``{jobId}``; the job (run eagerly here, on a real worker in test_bulk_worker.py) changes the
rows the filter selects set-based, with the transition table, guard and audit entry of the
single-item action."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction
from django.test import Client

from audit.models import AuditEntry
from bulk.services import Tally, apply_chunk
from bulk.targets import USERS
from jobs.models import Job
from organizations.models import Organization, OrganizationStatus, User
from porta.core.context import Actor
from tests.conftest import ApiClient

BULK_USERS = "/api/admin/bulk/users/status"
BULK_ORGANIZATIONS = "/api/admin/bulk/organizations/status"


@pytest.fixture
def org(initialized) -> Organization:
    return Organization.objects.create(name="Acme", slug="acme")


@pytest.fixture
def other_org(initialized) -> Organization:
    return Organization.objects.create(name="Globex", slug="globex")


@pytest.fixture
def start(django_capture_on_commit_callbacks):
    """``start(api, path, body)``: the response, with the job it enqueued run eagerly on commit."""

    def send(api: ApiClient, path: str, body: dict, headers: dict[str, str] | None = None):
        with django_capture_on_commit_callbacks(execute=True):
            return api.post(path, body, headers)

    return send


def make_users(org: Organization, prefix: str, *statuses: str) -> list[User]:
    return [
        User.objects.create(organization=org, email=f"{prefix}{i}@{org.slug}.example", status=status)
        for i, status in enumerate(statuses)
    ]


def users_body(org: Organization, filters: dict, action: str = "suspend", **extra) -> dict:
    return {"organizationId": str(org.id), "filter": filters, "action": action, **extra}


def job_of(response) -> Job:
    assert response.status_code == 202, response.content
    return Job.objects.get(pk=response.json()["jobId"])


def statuses(users: list[User]) -> list[str]:
    return [User.objects.get(pk=u.pk).status for u in users]


def org_scoped_key(api, organization: Organization) -> ApiClient:
    response = api.post(
        "/api/admin/api-keys",
        {"name": "Scoped", "organizationId": str(organization.id), "roles": ["porta-super-admin"]},
    )
    assert response.status_code == 201, response.content
    return ApiClient(Client(), response.json()["secret"])


# -- the request -----------------------------------------------------------------------------------


def test_the_filter_form_answers_202_with_the_job_and_its_location(api, org, start):
    response = start(api, BULK_USERS, users_body(org, {"status": "active"}))
    assert response.status_code == 202, response.content
    job_id = response.json()["jobId"]
    assert response["Location"] == f"/api/admin/jobs/{job_id}"
    assert Job.objects.get(pk=job_id).kind == "bulk.users.status"


def test_the_job_keeps_what_it_was_asked(api, org, start):
    job = job_of(start(api, BULK_USERS, users_body(org, {"search": "a"}, reason="spam")))
    assert job.parameters == {
        "organizationId": str(org.id),
        "filter": {"search": "a"},
        "action": "suspend",
        "reason": "spam",
    }
    assert job.organization_id == org.id


def test_an_empty_filter_is_a_400_and_starts_no_job(api, org):
    response = api.post(BULK_USERS, users_body(org, {}))
    assert response.status_code == 400
    assert "filter" in response.json()["details"]
    assert not Job.objects.exists()


def test_an_empty_filter_of_organizations_is_a_400(api, org):
    response = api.post(BULK_ORGANIZATIONS, {"filter": {}, "action": "suspend"})
    assert response.status_code == 400


def test_a_blank_search_is_not_a_filter(api, org):
    assert api.post(BULK_USERS, users_body(org, {"search": ""})).status_code == 400


def test_an_unknown_filter_key_is_a_400(api, org):
    response = api.post(BULK_USERS, users_body(org, {"role": "admin"}))
    assert response.status_code == 400
    assert response.json()["details"] == {"filter.role": ["Unknown field."]}


def test_a_status_filter_outside_the_statuses_is_a_400(api, org):
    assert api.post(BULK_USERS, users_body(org, {"status": "gone"})).status_code == 400


def test_lock_by_filter_without_a_reason_is_a_400(api, org):
    assert api.post(BULK_USERS, users_body(org, {"status": "active"}, "lock")).status_code == 400


# -- what the job does -----------------------------------------------------------------------------


def test_a_filtered_job_changes_exactly_the_rows_the_filter_selects(api, org, start):
    chosen = make_users(org, "spam", "active", "active", "active")
    spared = make_users(org, "good", "active", "active")
    job = job_of(start(api, BULK_USERS, users_body(org, {"search": "spam"})))
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    assert statuses(chosen) == ["suspended"] * 3
    assert statuses(spared) == ["active"] * 2


def test_a_filtered_job_reports_its_counts_and_progress(api, org, start):
    make_users(org, "spam", "active", "active", "locked")
    job = job_of(start(api, BULK_USERS, users_body(org, {"search": "spam"})))
    job.refresh_from_db()
    assert (job.progress_done, job.progress_total) == (3, 3)
    assert job.result["total"] == 3
    assert (job.result["succeeded"], job.result["failed"]) == (2, 1)


def test_a_refused_row_is_named_with_the_single_item_refusal(api, org, start):
    (_, locked) = make_users(org, "spam", "active", "locked")
    job = job_of(start(api, BULK_USERS, users_body(org, {"search": "spam"})))
    job.refresh_from_db()
    message = "Cannot suspend user from status 'locked'"
    assert job.result["errors"] == {message: 1}
    assert job.result["failures"] == [
        {
            "id": str(locked.id),
            "success": False,
            "previousStatus": "locked",
            "newStatus": None,
            "error": message,
        }
    ]
    assert statuses([locked]) == ["locked"]


def test_a_filtered_job_writes_one_audit_entry_per_changed_user(api, org, start):
    users = make_users(org, "spam", "active", "active", "locked")
    job = job_of(start(api, BULK_USERS, users_body(org, {"search": "spam"})))
    entries = AuditEntry.objects.filter(event_type="user.suspended", metadata__jobId=str(job.id))
    assert sorted(entries.values_list("target_id", flat=True)) == sorted(str(u.id) for u in users[:2])


def test_the_job_entry_is_the_single_item_entry_plus_the_job(api, org, start):
    (by_job,) = make_users(org, "spam", "active")
    (by_hand,) = make_users(org, "solo", "active")
    api.post(f"/api/admin/organizations/{org.id}/users/{by_hand.id}/suspend", {"reason": "r"})
    job = job_of(start(api, BULK_USERS, users_body(org, {"search": "spam"}, reason="r")))
    single = AuditEntry.objects.get(target_id=str(by_hand.id), event_type="user.suspended")
    bulk = AuditEntry.objects.get(target_id=str(by_job.id), event_type="user.suspended")
    assert bulk.metadata == {**single.metadata, "jobId": str(job.id)}
    fields = ("target_type", "organization_id", "actor_type", "actor_id", "actor_label")
    assert [getattr(bulk, f) for f in fields] == [getattr(single, f) for f in fields]


def test_the_job_entries_carry_the_starting_request_id(api, org, start):
    (user,) = make_users(org, "spam", "active")
    body = users_body(org, {"search": "spam"})
    start(api, BULK_USERS, body, {"X-Request-ID": "bulk-req-1"})
    assert (
        AuditEntry.objects.get(target_id=str(user.id), event_type="user.suspended").request_id == "bulk-req-1"
    )


def test_the_reason_is_kept_on_each_user_a_job_suspends(api, org, start):
    users = make_users(org, "spam", "active")
    start(api, BULK_USERS, users_body(org, {"search": "spam"}, reason="chargeback"))
    assert User.objects.get(pk=users[0].pk).status_reason == "chargeback"


def test_activate_by_filter_takes_the_row_each_status_allows(api, org, start):
    inactive, suspended, locked = make_users(org, "spam", "inactive", "suspended", "locked")
    job = job_of(start(api, BULK_USERS, users_body(org, {"search": "spam"}, "activate")))
    assert statuses([inactive, suspended, locked]) == ["active", "active", "locked"]
    actions = dict(
        AuditEntry.objects.filter(metadata__jobId=str(job.id), event_type="user.activated").values_list(
            "target_id", "metadata__action"
        )
    )
    assert actions == {str(inactive.id): "reactivate", str(suspended.id): "unsuspend"}


def test_the_super_admin_user_is_protected_in_a_filtered_job(api, super_admin, start):
    organization = super_admin.organization
    body = users_body(organization, {"search": "admin"})
    job = job_of(start(api, BULK_USERS, body))
    job.refresh_from_db()
    assert statuses([super_admin]) == ["active"]
    assert job.result["errors"] == {"Cannot suspend the super-admin user": 1}


def test_the_super_admin_organization_is_protected_in_a_filtered_job(api, super_admin_org, org, start):
    job = job_of(start(api, BULK_ORGANIZATIONS, {"filter": {"status": "active"}, "action": "suspend"}))
    job.refresh_from_db()
    assert Organization.objects.get(pk=super_admin_org.pk).status == OrganizationStatus.ACTIVE
    assert Organization.objects.get(pk=org.pk).status == OrganizationStatus.SUSPENDED
    assert job.result["errors"] == {"The super-admin organization cannot be suspended": 1}


def test_an_organizations_job_writes_the_single_item_entry(api, org, start):
    job = job_of(start(api, BULK_ORGANIZATIONS, {"filter": {"search": "acme"}, "action": "archive"}))
    entry = AuditEntry.objects.get(target_id=str(org.id), event_type="org.archived")
    assert entry.metadata == {
        "jobId": str(job.id),
        "changes": {"status": {"before": "active", "after": "archived"}},
    }


# -- tenancy ---------------------------------------------------------------------------------------


def test_an_org_scoped_keys_job_stays_in_its_organization(api, org, other_org, start):
    own = make_users(org, "spam", "active")
    foreign = make_users(other_org, "spam", "active")
    job = job_of(start(org_scoped_key(api, org), BULK_USERS, users_body(org, {"search": "spam"})))
    assert job.organization_id == org.id
    assert statuses(own) == ["suspended"]
    assert statuses(foreign) == ["active"]


def test_an_org_scoped_key_reads_the_job_it_started(api, org, start):
    key = org_scoped_key(api, org)
    make_users(org, "spam", "active")
    job = job_of(start(key, BULK_USERS, users_body(org, {"search": "spam"})))
    response = key.get(f"/api/admin/jobs/{job.id}")
    assert response.status_code == 200
    assert response.json()["status"] == "succeeded"


def test_an_org_scoped_key_cannot_start_a_job_on_another_organization(api, org, other_org):
    users = make_users(other_org, "spam", "active")
    response = org_scoped_key(api, org).post(BULK_USERS, users_body(other_org, {"search": "spam"}))
    assert response.status_code == 404
    assert not Job.objects.exists()
    assert statuses(users) == ["active"]


def test_an_org_scoped_key_cannot_start_an_organizations_job(api, org):
    body = {"filter": {"status": "active"}, "action": "suspend"}
    response = org_scoped_key(api, org).post(BULK_ORGANIZATIONS, body)
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_a_job_for_an_unknown_organization_is_a_404(api, initialized):
    body = {"organizationId": str(uuid.uuid4()), "filter": {"status": "active"}, "action": "suspend"}
    response = api.post(BULK_USERS, body)
    assert response.status_code == 404
    assert not Job.objects.exists()


# -- idempotence -----------------------------------------------------------------------------------


def test_replaying_a_chunk_from_a_lost_checkpoint_applies_no_item_twice(org):
    users = make_users(org, "spam", "active", "active")
    rows = User.objects.filter(organization=org)
    actor = Actor(type="user", id=uuid.uuid4(), label="starter")
    for _ in range(2):  # the second run: a redelivery that did not see the first's checkpoint
        with transaction.atomic():
            apply_chunk(
                target=USERS, actor=actor, rows=rows, action="suspend", reason=None, tally=Tally(), size=10
            )
    assert AuditEntry.objects.filter(event_type="user.suspended").count() == len(users)


def test_a_chunk_resumes_after_the_checkpoint(org):
    first, second = make_users(org, "spam", "active", "active")
    ordered = sorted([first, second], key=lambda u: u.pk)
    rows = User.objects.filter(organization=org)
    tally = Tally(after=str(ordered[0].pk))
    with transaction.atomic():
        apply_chunk(
            target=USERS, actor=Actor.system(), rows=rows, action="suspend", reason=None, tally=tally, size=10
        )
    assert statuses(ordered) == ["active", "suspended"]
    assert (tally.done, tally.after) == (1, str(ordered[1].pk))
