"""Large manifests (more than PORTA_IMPORT_SYNC_MAX_ITEMS items) are imported by a job, exactly as
POST /import imports a small one: eagerly without a broker, and on a real Celery worker that may be
killed mid-import without any item being applied twice."""

from __future__ import annotations

import json
from typing import Any

import pytest

from applications.models import Application
from audit.models import AuditEntry
from jobs.models import Job
from organizations.models import Organization
from tests.conftest import ApiClient, wait_for_job
from tests.test_bola_matrix import database_digest

PATH = "/api/admin/import"


def applications(count: int, *, prefix: str = "app") -> dict[str, Any]:
    items = [{"slug": f"{prefix}-{n:05d}", "name": f"App {n}"} for n in range(count)]
    return {"version": "1.0", "applications": items}


@pytest.fixture
def small_threshold(settings):
    settings.PORTA_IMPORT_SYNC_MAX_ITEMS = 2


def start(api: ApiClient, mode: str, manifest: dict[str, Any], capture) -> Job:
    with capture(execute=True):
        response = api.post(PATH, {"mode": mode, "manifest": manifest})
    assert response.status_code == 202, response.content
    assert response["Location"] == f"/api/admin/jobs/{response.json()['jobId']}"
    return Job.objects.get(pk=response.json()["jobId"])


def test_a_manifest_over_the_threshold_is_imported_by_a_job(
    api, small_threshold, django_capture_on_commit_callbacks
):
    job = start(api, "merge", applications(3), django_capture_on_commit_callbacks)
    assert (job.kind, job.status) == ("imports.manifest", "succeeded")
    assert job.result["totals"] == {"created": 3, "updated": 0, "skipped": 0, "errors": 0}
    assert (job.progress_done, job.progress_total) == (3, 3)
    assert Application.objects.filter(slug__startswith="app-").count() == 3


def test_a_manifest_at_the_threshold_is_imported_in_the_request(api, small_threshold):
    response = api.post(PATH, {"mode": "merge", "manifest": applications(2)})
    assert response.status_code == 200, response.content
    assert not Job.objects.exists()


def test_the_jobs_result_reads_as_the_requests_report(
    api, small_threshold, django_capture_on_commit_callbacks
):
    job = start(api, "merge", applications(3), django_capture_on_commit_callbacks)
    body = api.get(f"/api/admin/jobs/{job.id}").json()
    assert body["result"]["applications"]["created"][0] == {
        "index": 0,
        "slug": "app-00000",
        "id": str(Application.objects.get(slug="app-00000").id),
    }


def test_a_dry_run_job_changes_nothing(api, small_threshold, django_capture_on_commit_callbacks):
    before = database_digest()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(PATH, {"mode": "dry-run", "manifest": applications(3)})
    job = Job.objects.get(pk=response.json()["jobId"])
    assert job.status == "succeeded"
    assert job.result["applied"] is False
    after = database_digest()
    changed = {table for table in before if before[table] != after[table]}
    assert changed <= {"jobs_job", "audit_auditentry"}, changed  # the job's own row and its audit
    assert not Application.objects.filter(slug__startswith="app-").exists()


def test_a_failing_large_import_fails_its_job_and_changes_nothing(
    api, small_threshold, django_capture_on_commit_callbacks
):
    manifest = applications(3)
    manifest["applications"][2]["slug"] = "x"  # too short
    job = start(api, "merge", manifest, django_capture_on_commit_callbacks)
    assert job.status == "failed"
    assert job.error == "Import failed: 1 item(s) in error; nothing was changed"
    assert not Application.objects.filter(slug__startswith="app-").exists()


def test_the_report_of_a_failed_import_job_is_its_download(
    api, small_threshold, django_capture_on_commit_callbacks
):
    manifest = applications(3)
    manifest["applications"][2]["slug"] = "x"
    job = start(api, "merge", manifest, django_capture_on_commit_callbacks)
    response = api.get(f"/api/admin/jobs/{job.id}/download")
    assert response.status_code == 200
    report = json.loads(b"".join(response.streaming_content))
    [error] = report["applications"]["errors"]
    assert (error["index"], error["statusCode"]) == (2, 400)


def test_the_items_of_a_job_are_audited_as_its_starter(
    api, super_admin, small_threshold, django_capture_on_commit_callbacks
):
    start(api, "merge", applications(3), django_capture_on_commit_callbacks)
    imported = [
        str(pk) for pk in Application.objects.filter(slug__startswith="app-").values_list("id", flat=True)
    ]
    created = AuditEntry.objects.filter(event_type="app.created", target_id__in=imported)
    assert created.count() == 3
    assert set(created.values_list("actor_id", flat=True)) == {super_admin.id}


def test_a_large_manifest_with_a_secret_is_refused_before_any_job(api, small_threshold):
    manifest = applications(3)
    manifest["applications"][0]["secret"] = "x"
    response = api.post(PATH, {"mode": "merge", "manifest": manifest})
    assert response.status_code == 400
    assert not Job.objects.exists()


def test_an_organization_scoped_key_cannot_send_a_large_import_into_another_organization(
    api, small_threshold
):
    from django.test import Client

    home = Organization.objects.create(name="Home", slug="home")
    Organization.objects.create(name="Foreign", slug="foreign")
    response = api.post(
        "/api/admin/api-keys",
        {"name": "Home key", "organizationId": str(home.id), "roles": ["porta-super-admin"]},
    )
    key = ApiClient(Client(), response.json()["secret"])
    orgs = [
        {"slug": "home", "name": "Home"},
        {"slug": "foreign", "name": "Planted"},
        {"slug": "x-3", "name": "X"},
    ]
    response = key.post(PATH, {"mode": "overwrite", "manifest": {"version": "1.0", "organizations": orgs}})
    assert response.status_code == 404
    assert not Job.objects.exists()
    assert Organization.objects.get(slug="foreign").name == "Foreign"


# -- real workers ----------------------------------------------------------------------------------


@pytest.mark.servers
def test_a_real_worker_imports_a_large_manifest(start_worker, api, settings):
    settings.PORTA_IMPORT_SYNC_MAX_ITEMS = 10
    start_worker()
    response = api.post(PATH, {"mode": "merge", "manifest": applications(50)})
    assert response.status_code == 202, response.content
    job = wait_for_job(response.json()["jobId"], seconds=120)
    assert job.status == "succeeded", job.error
    assert Application.objects.filter(slug__startswith="app-").count() == 50


@pytest.mark.servers
def test_an_import_whose_worker_is_killed_mid_job_is_applied_exactly_once(start_worker, api, settings):
    settings.PORTA_IMPORT_SYNC_MAX_ITEMS = 10
    worker = start_worker(PORTA_BROKER_VISIBILITY_TIMEOUT="5")
    response = api.post(PATH, {"mode": "merge", "manifest": applications(1500)})
    job_id = response.json()["jobId"]
    assert wait_for_job(job_id, "running", seconds=120).status == "running"
    worker.kill()  # SIGKILL by PID, most likely inside the import's transaction
    worker.wait(timeout=30)
    start_worker(PORTA_BROKER_VISIBILITY_TIMEOUT="5")

    job = wait_for_job(job_id, seconds=300)
    assert job.status == "succeeded", job.error
    assert job.attempts == 2, "the job was resumed by the second worker"
    slugs = list(Application.objects.filter(slug__startswith="app-").values_list("slug", flat=True))
    assert sorted(slugs) == [f"app-{n:05d}" for n in range(1500)]
    imported = [
        str(pk) for pk in Application.objects.filter(slug__startswith="app-").values_list("id", flat=True)
    ]
    created = AuditEntry.objects.filter(event_type="app.created", target_id__in=imported)
    assert created.count() == 1500, "one audit entry per application: none imported twice"
    assert job.result["totals"]["created"] == 1500


def test_a_resumed_job_whose_import_already_committed_reports_it_without_importing_again(
    api, super_admin, django_capture_on_commit_callbacks
):
    """A worker killed after the import's commit but before the job was marked done: the
    redelivered job finds the report its import committed as the checkpoint."""
    from imports.jobs import import_enqueue
    from imports.manifest import parse_manifest
    from imports.services import Importer
    from jobs.runner import run as run_job
    from porta.core.context import Actor
    from rbac.selectors import admin_authorization

    importer = Importer(
        actor=Actor(type="user", id=super_admin.id, label=super_admin.email),
        authorization=admin_authorization(super_admin.id),
    )
    with django_capture_on_commit_callbacks(execute=False):
        job = import_enqueue(importer=importer, mode="merge", manifest=parse_manifest(applications(3)))
    committed = {"mode": "merge", "applied": True, "totals": {"created": 3}}
    Job.objects.filter(pk=job.pk).update(state={"report": committed})
    run_job(str(job.id))
    job.refresh_from_db()
    assert (job.status, job.result) == ("succeeded", committed)
    assert not Application.objects.filter(slug__startswith="app-").exists()


def test_an_organization_scoped_keys_import_job_belongs_to_its_organization(
    api, small_threshold, django_capture_on_commit_callbacks
):
    from django.test import Client

    home = Organization.objects.create(name="Home", slug="home")
    response = api.post(
        "/api/admin/api-keys",
        {"name": "Home key", "organizationId": str(home.id), "roles": ["porta-super-admin"]},
    )
    key = ApiClient(Client(), response.json()["secret"])
    orgs = {"version": "1.0", "organizations": [{"slug": "home", "name": f"Home {n}"} for n in range(3)]}
    with django_capture_on_commit_callbacks(execute=True):
        response = key.post(PATH, {"mode": "dry-run", "manifest": orgs})
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["jobId"])
    assert job.organization_id == home.id
    assert key.get(f"/api/admin/jobs/{job.id}").status_code == 200
