"""Filtered bulk status jobs on real Celery worker processes (Redis as the broker): the job's
per-item outcome and audit trail, the guards, tenancy, and a worker killed by PID mid-job whose
replacement finishes the job without applying any item twice."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import connection
from django.test import Client

from audit.models import AuditEntry
from jobs.models import Job
from organizations.models import Organization, User
from tests.conftest import ApiClient, wait_for_job

BULK_USERS = "/api/admin/bulk/users/status"
#: Seconds after which the broker hands the task of a dead worker to another (short for the test).
VISIBILITY_TIMEOUT = "5"
pytestmark = pytest.mark.servers


@pytest.fixture
def org(initialized) -> Organization:
    return Organization.objects.create(name="Acme", slug="acme")


def make_users(org: Organization, prefix: str, count: int, status: str = "active") -> list[User]:
    return User.objects.bulk_create(
        User(organization=org, email=f"{prefix}{i:03d}@{org.slug}.example", status=status)
        for i in range(count)
    )


def start_job(api: ApiClient, org: Organization, filters: dict, action: str = "suspend") -> str:
    response = api.post(BULK_USERS, {"organizationId": str(org.id), "filter": filters, "action": action})
    assert response.status_code == 202, response.content
    return response.json()["jobId"]


def changed_by(job_id: str) -> list[str]:
    return list(
        AuditEntry.objects.filter(event_type="user.suspended", metadata__jobId=job_id).values_list(
            "target_id", flat=True
        )
    )


def wait_for_progress(job_id: str, done: int, seconds: float = 60.0) -> Job:
    deadline = time.monotonic() + seconds
    job = Job.objects.get(pk=job_id)
    while job.progress_done < done and time.monotonic() < deadline:
        time.sleep(0.05)
        job.refresh_from_db()
    return job


def wait_for_dead_session(seconds: float = 30.0) -> None:
    """Until the killed worker's database session is gone: it waited on the row lock, and ends
    (rolling its chunk back, freeing the job's run lock) once the lock is released and it finds
    its client gone. Only then can a new worker take the job over."""
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.1)


def test_a_filtered_job_on_a_real_worker_reports_each_item_and_audits_each_change(start_worker, api, org):
    start_worker(PORTA_BULK_CHUNK_SIZE="7")
    active = make_users(org, "spam", 40)
    locked = make_users(org, "spamlocked", 3, status="locked")
    bystanders = make_users(org, "ham", 5)
    job_id = start_job(api, org, {"search": "spam"})

    assert wait_for_job(job_id).status == "succeeded"
    body = api.get(f"/api/admin/jobs/{job_id}").json()
    assert body["progress"] == {"done": 43, "total": 43}
    assert (body["result"]["succeeded"], body["result"]["failed"]) == (40, 3)
    assert sorted(f["id"] for f in body["result"]["failures"]) == sorted(str(u.id) for u in locked)
    assert sorted(changed_by(job_id)) == sorted(str(u.id) for u in active), "one entry per changed user"
    assert set(User.objects.filter(pk__in=[u.pk for u in active]).values_list("status", flat=True)) == {
        "suspended"
    }
    assert set(
        User.objects.filter(pk__in=[u.pk for u in locked + bystanders]).values_list("status", flat=True)
    ) == {
        "locked",
        "active",
    }


def test_a_worker_killed_mid_job_is_replaced_and_no_item_is_applied_twice(start_worker, api, org):
    users = sorted(make_users(org, "spam", 30), key=lambda u: u.pk)
    chunk = 5
    env = {"PORTA_BROKER_VISIBILITY_TIMEOUT": VISIBILITY_TIMEOUT, "PORTA_BULK_CHUNK_SIZE": str(chunk)}
    worker = start_worker(**env)
    # Another session holds the lock on the 18th user, so the worker stops, mid-job, in the
    # fourth chunk (users 16-20), with three chunks committed.
    db = connection.settings_dict
    blocker = psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])
    blocker.execute("SELECT 1 FROM organizations_user WHERE id = %s FOR UPDATE", [users[17].pk])
    try:
        job_id = start_job(api, org, {"status": "active"})
        assert wait_for_progress(job_id, 3 * chunk).progress_done == 3 * chunk
        worker.kill()  # SIGKILL by PID, inside the fourth chunk's transaction
        worker.wait(timeout=30)
    finally:
        blocker.rollback()
        blocker.close()
    wait_for_dead_session()
    interrupted = Job.objects.get(pk=job_id)
    assert (interrupted.status, interrupted.progress_done) == ("running", 3 * chunk)
    assert len(changed_by(job_id)) == 3 * chunk, "the chunk in flight rolled back"

    start_worker(**env)
    job = wait_for_job(job_id, seconds=120)
    assert job.status == "succeeded", job.error
    assert job.attempts == 2
    assert sorted(changed_by(job_id)) == sorted(str(u.id) for u in users), "every user exactly once"
    assert job.result["succeeded"] == 30
    assert set(User.objects.filter(organization=org).values_list("status", flat=True)) == {"suspended"}


def test_cancelling_a_running_bulk_job_keeps_finished_chunks_and_rolls_back_the_one_in_flight(
    start_worker, api, org
):
    users = sorted(make_users(org, "spam", 20), key=lambda u: u.pk)
    start_worker(PORTA_BULK_CHUNK_SIZE="5")
    db = connection.settings_dict
    blocker = psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])
    blocker.execute("SELECT 1 FROM organizations_user WHERE id = %s FOR UPDATE", [users[7].pk])
    try:
        job_id = start_job(api, org, {"status": "active"})
        assert wait_for_progress(job_id, 5).progress_done == 5  # the second chunk waits on the lock
        response = api.post(f"/api/admin/jobs/{job_id}/cancel")
        assert response.status_code == 200, response.content
    finally:
        blocker.rollback()
        blocker.close()
    # The solo worker runs one task at a time: once a later job is done, the cancelled one's
    # task has returned.
    assert wait_for_job(start_job(api, org, {"search": "nobody"})).status == "succeeded"

    job = Job.objects.get(pk=job_id)
    assert (job.status, job.progress_done) == ("cancelled", 5)
    assert sorted(changed_by(job_id)) == sorted(str(u.id) for u in users[:5])
    assert list(User.objects.filter(organization=org, status="suspended").order_by("pk")) == users[:5]


def test_the_super_admin_user_is_protected_in_a_job_on_a_real_worker(start_worker, api, super_admin):
    start_worker()
    organization = super_admin.organization
    others = make_users(organization, "admin-extra", 4)
    job_id = start_job(api, organization, {"search": "admin"})

    job = wait_for_job(job_id)
    assert job.status == "succeeded", job.error
    assert User.objects.get(pk=super_admin.pk).status == "active"
    assert job.result["errors"] == {"Cannot suspend the super-admin user": 1}
    assert sorted(changed_by(job_id)) == sorted(str(u.id) for u in others)


def test_an_org_scoped_keys_job_on_a_real_worker_stays_in_its_organization(start_worker, api, org):
    start_worker()
    other = Organization.objects.create(name="Globex", slug="globex")
    own, foreign = make_users(org, "spam", 3), make_users(other, "spam", 3)
    response = api.post(
        "/api/admin/api-keys",
        {"name": "Scoped", "organizationId": str(org.id), "roles": ["porta-super-admin"]},
    )
    key = ApiClient(Client(), response.json()["secret"])
    job_id = start_job(key, org, {"search": "spam"})

    assert wait_for_job(job_id).status == "succeeded"
    assert sorted(changed_by(job_id)) == sorted(str(u.id) for u in own)
    assert set(User.objects.filter(pk__in=[u.pk for u in foreign]).values_list("status", flat=True)) == {
        "active"
    }
