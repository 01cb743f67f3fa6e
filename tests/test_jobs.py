"""Jobs run eagerly (no worker): the job row, its audit, progress, results and failures, and the
jobs API (list, read, cancel, download) with its tenancy. Real workers: tests/test_jobs_worker.py."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from audit.models import AuditEntry
from jobs import registry
from jobs.models import Job
from jobs.services import job_enqueue
from porta.core.context import Actor, RequestContext, reset_request_context, set_request_context
from tests.conftest import ApiClient
from tests.factories import JobFactory, OrganizationFactory

JOBS = "/api/admin/jobs"
STARTER = Actor(type="user", id=uuid.uuid4(), label="starter@example.com")


def enqueue(
    capture, kind: str = "testing.count", *, execute: bool = True, organization_id=None, **parameters
):
    with capture(execute=execute):
        return job_enqueue(kind=kind, actor=STARTER, organization_id=organization_id, parameters=parameters)


@pytest.fixture
def run(db, django_capture_on_commit_callbacks):
    """``run(kind, **parameters)``: enqueue a job and let it run eagerly after the commit."""

    def start(
        kind: str = "testing.count", *, execute: bool = True, organization_id=None, **parameters
    ) -> Job:
        job = enqueue(
            django_capture_on_commit_callbacks,
            kind,
            execute=execute,
            organization_id=organization_id,
            **parameters,
        )
        job.refresh_from_db()
        return job

    return start


def test_a_job_runs_eagerly_after_commit_without_a_broker(run):
    job = run(items=25, chunk=10)
    assert job.status == "succeeded"
    assert (job.progress_done, job.progress_total) == (25, 25)
    assert job.result == {"counted": 25, "attempts": 1}
    assert job.started_at is not None
    assert job.finished_at is not None


def test_a_job_stays_queued_until_the_transaction_commits(run):
    job = run(items=3, execute=False)
    assert job.status == "queued"
    assert job.progress_done == 0


def test_an_unknown_kind_cannot_be_enqueued(db):
    with pytest.raises(ValueError, match="unknown job kind"):
        job_enqueue(kind="nothing.such", actor=STARTER, organization_id=None)


def test_audit_entries_a_job_writes_name_its_starter_and_the_starting_request(run):
    token = set_request_context(RequestContext(request_id="req-started-it"))
    try:
        job = run(items=3)
    finally:
        reset_request_context(token)
    entries = AuditEntry.objects.filter(event_type="testing.counted")
    assert entries.count() == 3
    assert {(e.actor_type, e.actor_id, e.actor_label, e.request_id) for e in entries} == {
        ("user", STARTER.id, STARTER.label, "req-started-it")
    }
    assert job.request_id == "req-started-it"


def test_each_move_of_a_job_is_audited(run):
    job = run(items=1)
    events = list(
        AuditEntry.objects.filter(target_type="job", target_id=str(job.id))
        .order_by("created_at", "id")
        .values_list("event_type", flat=True)
    )
    assert events == ["job.created", "job.started", "job.succeeded"]


def test_a_handler_refusal_fails_the_job_with_its_message(run):
    job = run("testing.fail", message="The filter matches nothing")
    assert job.status == "failed"
    assert job.error == "The filter matches nothing"
    assert job.finished_at is not None


def test_an_unexpected_exception_fails_the_job_without_revealing_its_detail(run):
    job = run("testing.fail", internal=True)
    assert job.status == "failed"
    assert "secret detail" not in job.error
    assert job.error.startswith("Internal error while running the job")


def test_a_job_file_is_stored_through_the_job_storage(run):
    job = run("testing.file", content="a,b\n1,2\n", name="report.csv")
    assert job.status == "succeeded"
    assert job.file_name == "report.csv"
    assert job.file_size == 8
    assert job.file_expires_at > job.finished_at
    with job.file.open("rb") as handle:
        assert handle.read() == b"a,b\n1,2\n"


# -- the API ------------------------------------------------------------------------------------


def test_a_job_reads_with_its_status_progress_and_result(api: ApiClient, run):
    job = run(items=4, chunk=3)
    response = api.get(f"{JOBS}/{job.id}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(job.id)
    assert body["kind"] == "testing.count"
    assert body["status"] == "succeeded"
    assert body["progress"] == {"done": 4, "total": 4}
    assert body["result"] == {"counted": 4, "attempts": 1}
    assert body["error"] is None
    assert body["file"] is None
    assert body["createdBy"] == {"type": "user", "id": str(STARTER.id), "label": STARTER.label}
    assert "state" not in body
    assert response["ETag"]


def test_an_unknown_or_malformed_job_id_is_404(api: ApiClient):
    assert api.get(f"{JOBS}/{uuid.uuid4()}").status_code == 404
    response = api.get(f"{JOBS}/not-a-uuid")
    assert response.status_code == 404
    assert response.json()["message"] == "Job not found"


def test_jobs_are_listed_newest_first_and_filter_by_status_and_kind(api: ApiClient, run):
    older = run(items=1)
    failed = run("testing.fail")
    body = api.get(JOBS).json()
    assert [row["id"] for row in body["data"]] == [str(failed.id), str(older.id)]
    assert body["pagination"]["total"] == 2
    assert [r["id"] for r in api.get(JOBS, {"status": "failed"}).json()["data"]] == [str(failed.id)]
    assert [r["id"] for r in api.get(JOBS, {"kind": "testing.count"}).json()["data"]] == [str(older.id)]


def test_the_job_list_has_a_cursor_mode(api: ApiClient, db):
    jobs = [JobFactory() for _ in range(3)]
    first = api.get(JOBS, {"limit": 2}).json()
    assert first["pagination"]["hasMore"] is True
    second = api.get(JOBS, {"limit": 2, "cursor": first["pagination"]["nextCursor"]}).json()
    listed = [row["id"] for row in first["data"] + second["data"]]
    assert listed == [str(job.id) for job in reversed(jobs)]


def test_an_unknown_status_filter_is_400(api: ApiClient):
    response = api.get(JOBS, {"status": "exploded"})
    assert response.status_code == 400
    assert "status" in response.json()["details"]


def test_cancelling_a_queued_job_cancels_it_and_it_never_runs(
    api: ApiClient, run, django_capture_on_commit_callbacks
):
    job = run(items=3, execute=False)
    response = api.post(f"{JOBS}/{job.id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    from jobs.runner import run as run_now

    run_now(str(job.id))  # the task the broker would still deliver
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert not AuditEntry.objects.filter(event_type="testing.counted").exists()
    assert AuditEntry.objects.filter(event_type="job.cancelled", target_id=str(job.id)).exists()


def test_cancelling_a_finished_job_is_a_conflict(api: ApiClient, run):
    job = run(items=1)
    response = api.post(f"{JOBS}/{job.id}/cancel")
    assert response.status_code == 409
    assert response.json()["message"] == "Cannot cancel job from status 'succeeded'"


def test_a_job_file_downloads_as_an_attachment(api: ApiClient, run):
    job = run("testing.file", content='naïve,"quoted"\n', name="users-export.csv")
    response = api.get(f"{JOBS}/{job.id}/download")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == 'naïve,"quoted"\n'.encode()
    assert response["Content-Disposition"] == 'attachment; filename="users-export.csv"'
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert api.get(f"{JOBS}/{job.id}").json()["file"]["downloadUrl"] == f"{JOBS}/{job.id}/download"


def test_downloading_a_job_without_a_file_is_404(api: ApiClient, run):
    job = run(items=1)
    response = api.get(f"{JOBS}/{job.id}/download")
    assert response.status_code == 404
    assert response.json()["message"] == "Job file not found"


def test_an_auditor_reads_jobs_but_cannot_cancel_them(api_as, run):
    auditor = api_as("porta-auditor")
    job = run(items=1, execute=False)
    assert auditor.get(f"{JOBS}/{job.id}").status_code == 200
    response = auditor.post(f"{JOBS}/{job.id}/cancel")
    assert response.status_code == 403
    assert "admin:job:cancel" in response.json()["message"]


def test_reading_jobs_requires_a_credential(anonymous: ApiClient, db):
    assert anonymous.get(JOBS).status_code == 401


# -- tenancy ------------------------------------------------------------------------------------


@pytest.fixture
def org_key(api: ApiClient):
    """An organization-scoped admin API key (porta_pat_) of a new organization, and that org."""
    home = OrganizationFactory()
    response = api.post(
        "/api/admin/api-keys",
        {"name": "Home", "organizationId": str(home.id), "roles": ["porta-super-admin"]},
    )
    assert response.status_code == 201, response.content
    return ApiClient(Client(), response.json()["secret"]), home


def test_an_organization_scoped_key_lists_only_its_organizations_jobs(org_key, db):
    key, home = org_key
    own = JobFactory(organization_id=home.id)
    JobFactory(organization_id=OrganizationFactory().id)
    JobFactory(organization_id=None)
    body = key.get(JOBS).json()
    assert [row["id"] for row in body["data"]] == [str(own.id)]
    assert body["pagination"]["total"] == 1


def test_an_organization_scoped_key_cannot_read_cancel_or_download_another_organizations_job(org_key, db):
    key, _ = org_key
    foreign = JobFactory(organization_id=OrganizationFactory().id)
    for response in (
        key.get(f"{JOBS}/{foreign.id}"),
        key.post(f"{JOBS}/{foreign.id}/cancel"),
        key.get(f"{JOBS}/{foreign.id}/download"),
    ):
        assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "queued"


def test_an_organization_scoped_key_cannot_see_a_job_over_every_organization(org_key, db):
    key, _ = org_key
    global_job = JobFactory(organization_id=None)
    assert key.get(f"{JOBS}/{global_job.id}").status_code == 404


def test_an_organization_scoped_key_cancels_its_own_organizations_job(org_key, db):
    key, home = org_key
    own = JobFactory(organization_id=home.id)
    response = key.post(f"{JOBS}/{own.id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    entry = AuditEntry.objects.get(event_type="job.cancelled", target_id=str(own.id))
    assert entry.actor_type == "api_key"
    assert entry.organization_id == home.id


def test_the_registry_refuses_a_second_handler_for_a_kind():
    with pytest.raises(ValueError, match="already registered"):
        registry.register("testing.count", lambda ctx: None)


# -- retention ----------------------------------------------------------------------------------


def test_the_retention_task_deletes_expired_job_files_and_audits_it(api: ApiClient, run):
    from django.utils import timezone

    from jobs.tasks import purge_expired_job_files

    job = run("testing.file", content="old", name="old.csv")
    kept = run("testing.file", content="new", name="new.csv")
    storage, name = job.file.storage, job.file.name
    assert storage.exists(name)
    Job.objects.filter(pk=job.pk).update(file_expires_at=timezone.now())

    assert purge_expired_job_files.delay().get() == 1
    assert not storage.exists(name)
    assert kept.file.storage.exists(kept.file.name)
    response = api.get(f"{JOBS}/{job.id}/download")
    assert response.status_code == 404
    assert api.get(f"{JOBS}/{job.id}").json()["file"] is None
    entry = AuditEntry.objects.get(event_type="job.file_deleted")
    assert (entry.target_id, entry.actor_type) == (str(job.id), "system")


def test_a_job_file_is_kept_for_the_configured_retention(run, settings):
    settings.PORTA_JOB_FILE_RETENTION = 3600
    job = run("testing.file", content="x")
    assert 3590 <= (job.file_expires_at - job.finished_at).total_seconds() <= 3600


# -- the Django admin ---------------------------------------------------------------------------


def test_the_django_admin_lists_jobs_without_their_checkpoint(super_admin, run):
    job = run(items=2)
    client = Client()
    client.force_login(super_admin)
    listing = client.get("/admin/jobs/job/", {"q": "testing.count"})
    assert listing.status_code == 200
    assert str(job.id) in listing.content.decode()
    detail = client.get(f"/admin/jobs/job/{job.id}/change/")
    assert detail.status_code == 200
    assert "state" not in detail.context["adminform"].form.fields
    assert b'"next": 2' not in detail.content


def test_the_django_admin_shows_a_job_file_by_name_without_a_storage_link(super_admin, run):
    job = run("testing.file", content="x", name="users.csv")
    client = Client()
    client.force_login(super_admin)
    detail = client.get(f"/admin/jobs/job/{job.id}/change/").content.decode()
    assert "users.csv" in detail
    assert job.file.name not in detail


def test_the_django_admin_cancels_a_queued_job_through_the_service(super_admin, run):
    job = run(items=2, execute=False)
    client = Client()
    client.force_login(super_admin)
    response = client.post(
        "/admin/jobs/job/", {"action": "cancel_selected", "_selected_action": [str(job.id)], "index": "0"}
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "cancelled"
    entry = AuditEntry.objects.get(event_type="job.cancelled", target_id=str(job.id))
    assert entry.actor_id == super_admin.id


# -- starting a job from a view (jobs.api.responses.enqueue_job, as bulk, export and import do) --


@pytest.mark.urls("tests.urls_jobs")
def test_a_view_that_starts_a_job_answers_202_with_the_job_id(
    api: ApiClient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/admin/testing/count", {}, headers={"X-Request-ID": "req-202"})
    assert response.status_code == 202
    job_id = response.json()["jobId"]
    assert response["Location"] == f"{JOBS}/{job_id}"
    job = api.get(f"{JOBS}/{job_id}").json()
    assert (job["status"], job["progress"], job["requestId"]) == (
        "succeeded",
        {"done": 3, "total": 3},
        "req-202",
    )
    assert job["organizationId"] is None


@pytest.mark.urls("tests.urls_jobs")
def test_an_organization_scoped_key_starts_jobs_of_its_own_organization(
    org_key, django_capture_on_commit_callbacks
):
    key, home = org_key
    with django_capture_on_commit_callbacks(execute=True):
        unnamed = key.post("/api/admin/testing/count", {})
        named = key.post("/api/admin/testing/count", {"organizationId": str(home.id)})
    assert (unnamed.status_code, named.status_code) == (202, 202)
    for response in (unnamed, named):
        assert Job.objects.get(pk=response.json()["jobId"]).organization_id == home.id
        assert key.get(f"{JOBS}/{response.json()['jobId']}").status_code == 200


@pytest.mark.urls("tests.urls_jobs")
def test_an_organization_scoped_key_cannot_start_a_job_for_another_organization(org_key):
    key, _ = org_key
    response = key.post("/api/admin/testing/count", {"organizationId": str(OrganizationFactory().id)})
    assert response.status_code == 404
    assert not Job.objects.exists()


@pytest.mark.parametrize("accept", ["text/csv", "application/octet-stream", "*/*", "application/json"])
def test_a_job_file_downloads_whatever_media_type_the_client_accepts(api: ApiClient, run, accept: str):
    job = run("testing.file", content="a,b\n", name="x.csv")
    response = api.get(f"{JOBS}/{job.id}/download", headers={"Accept": accept})
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"a,b\n"


def test_a_missing_job_file_is_a_json_404_even_when_csv_is_asked_for(api: ApiClient, run):
    job = run(items=1)
    response = api.get(f"{JOBS}/{job.id}/download", headers={"Accept": "text/csv"})
    assert response.status_code == 404
    assert response.json()["error"] == "NotFound"


def test_a_job_file_gone_from_the_storage_is_a_404(api: ApiClient, run):
    job = run("testing.file", content="a")
    job.file.storage.delete(job.file.name)
    response = api.get(f"{JOBS}/{job.id}/download")
    assert response.status_code == 404
    assert response.json()["message"] == "Job file not found"


def test_the_metrics_count_jobs_by_status(run):
    run(items=1)
    run("testing.fail")
    run(items=1, execute=False)
    body = Client().get("/metrics/prometheus").content.decode()
    assert 'porta_jobs{status="succeeded"} 1.0' in body
    assert 'porta_jobs{status="failed"} 1.0' in body
    assert 'porta_jobs{status="queued"} 1.0' in body
    assert 'porta_jobs{status="cancelled"} 0.0' in body


@pytest.mark.parametrize("role", ["porta-org-admin", "porta-user-admin"])
def test_the_admins_who_start_bulk_jobs_follow_and_cancel_them(api_as, run, role: str):
    admin = api_as(role)
    job = run(items=1, execute=False)
    assert admin.get(f"{JOBS}/{job.id}").status_code == 200
    assert admin.post(f"{JOBS}/{job.id}/cancel").status_code == 200


def test_a_job_of_a_kind_no_longer_registered_fails_when_it_runs(db):
    from jobs.runner import run as run_now

    job = JobFactory(kind="gone.kind")
    run_now(str(job.id))
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error == "Unknown job kind 'gone.kind'"


def test_a_result_that_is_not_json_fails_the_job_instead_of_leaving_it_running(run):
    job = run("testing.fail", unstorable=True)
    assert job.status == "failed"
    assert job.error.startswith("Internal error while running the job")


@pytest.mark.parametrize(
    ("param", "value"),
    [("since", "yesterday"), ("organizationId", "nope"), ("kind", "k" * 101), ("sort", "state")],
)
def test_a_bad_job_list_filter_is_400(api: ApiClient, param: str, value: str):
    response = api.get(JOBS, {param: value})
    assert response.status_code == 400
    assert response.json()["error"] in ("BadRequest", "ValidationError")
