"""Exports run as jobs: ``POST /export/{entity}`` (and a GET estimated above
``PORTA_EXPORT_STREAM_MAX_ROWS`` rows) → 202 ``{jobId}``; the job's file, downloaded from
``GET /jobs/{id}/download``, holds exactly what the streaming GET gives."""

from __future__ import annotations

import orjson
import pytest
from django.db import connection
from django.test import Client

from jobs.models import Job
from organizations.models import Organization, User
from tests.conftest import ApiClient, wait_for_job
from tests.factories import OrganizationFactory

EXPORT = "/api/admin/export"
JOBS = "/api/admin/jobs"


@pytest.fixture
def org(initialized) -> Organization:
    organization = OrganizationFactory(slug="acme")
    for n, name in enumerate(['Ann, "The" Hacker', "two\nlines", "Ünïcødé 日本語", ""]):
        User.objects.create(organization=organization, email=f"user{n}@acme.example", given_name=name)
    return organization


def streamed(api: ApiClient, entity: str, **params: str) -> bytes:
    response = api.get(f"{EXPORT}/{entity}", params)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def downloaded(api: ApiClient, job_id: str) -> bytes:
    response = api.get(f"{JOBS}/{job_id}/download")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def start(api: ApiClient, capture, entity: str, body=None, **params: str):
    path = f"{EXPORT}/{entity}" + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
    with capture(execute=True):
        return api.post(path, body)


def test_an_export_job_file_holds_exactly_the_streamed_csv(api, org, django_capture_on_commit_callbacks):
    response = start(
        api, django_capture_on_commit_callbacks, "users", format="csv", organizationId=str(org.id)
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["jobId"]
    assert response["Location"] == f"{JOBS}/{job_id}"
    job = api.get(f"{JOBS}/{job_id}").json()
    assert job["status"] == "succeeded"
    assert job["result"]["total"] == 4
    assert job["progress"] == {"done": 4, "total": 4}
    assert job["kind"] == "exports.users"
    assert downloaded(api, job_id) == streamed(api, "users", format="csv", organizationId=str(org.id))


def test_an_export_job_takes_its_parameters_from_the_body(api, org, django_capture_on_commit_callbacks):
    body = {"format": "json", "organizationId": str(org.id), "search": "user1", "sort": "email"}
    response = start(api, django_capture_on_commit_callbacks, "users", body)
    assert response.status_code == 202, response.content
    document = orjson.loads(downloaded(api, response.json()["jobId"]))
    expected = orjson.loads(streamed(api, "users", **body))
    assert document["data"] == expected["data"]
    assert [row["email"] for row in document["data"]] == ["user1@acme.example"]


def test_the_job_file_is_named_as_the_streamed_download(api, org, django_capture_on_commit_callbacks):
    response = start(api, django_capture_on_commit_callbacks, "organizations", format="csv")
    download = api.get(f"{JOBS}/{response.json()['jobId']}/download")
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="organizations-export-' in download["Content-Disposition"]
    assert download["Content-Disposition"].endswith('.csv"')


@pytest.mark.parametrize(
    ("body", "field"),
    [({"colour": "red"}, "colour"), ({"format": "xml"}, "format"), ({"status": "bogus"}, "status"),
     ({"sort": "password"}, "sort"), ({"status": 1}, "status")],
)  # fmt: skip
def test_a_bad_export_job_request_is_a_400_and_starts_no_job(api, org, body, field):
    response = api.post(f"{EXPORT}/users", body)
    assert response.status_code == 400
    assert field in response.json()["details"]
    assert not Job.objects.exists()


@pytest.fixture
def scoped(api, org) -> ApiClient:
    response = api.post(
        "/api/admin/api-keys",
        {"name": "Acme key", "organizationId": str(org.id), "roles": ["porta-super-admin"]},
    )
    assert response.status_code == 201, response.content
    return ApiClient(Client(), response.json()["secret"])


def test_an_organization_scoped_export_job_holds_only_its_organization(
    scoped, org, django_capture_on_commit_callbacks
):
    User.objects.create(organization=OrganizationFactory(), email="stranger@other.example")
    response = start(scoped, django_capture_on_commit_callbacks, "users")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["jobId"])
    assert job.organization_id == org.id
    document = orjson.loads(downloaded(scoped, str(job.id)))
    assert {row["organizationId"] for row in document["data"]} == {str(org.id)}
    assert document["total"] == 4


@pytest.mark.parametrize("entity", ["organizations", "roles"])
def test_an_organization_scoped_key_cannot_start_a_global_export_job(scoped, entity):
    assert scoped.post(f"{EXPORT}/{entity}", {}).status_code == 403
    assert not Job.objects.exists()


def test_a_get_estimated_above_the_stream_limit_runs_as_a_job(
    api, org, settings, django_capture_on_commit_callbacks
):
    settings.PORTA_EXPORT_STREAM_MAX_ROWS = 1
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE organizations_user")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.get(f"{EXPORT}/users", {"format": "csv"})
    assert response.status_code == 202, response.content
    job_id = response.json()["jobId"]
    settings.PORTA_EXPORT_STREAM_MAX_ROWS = 0
    assert downloaded(api, job_id) == streamed(api, "users", format="csv")


@pytest.mark.servers
def test_a_real_worker_runs_an_export_job(start_worker, api, org):
    start_worker()
    response = api.post(f"{EXPORT}/users?format=csv&organizationId={org.id}", {})
    assert response.status_code == 202, response.content
    job = wait_for_job(response.json()["jobId"])
    assert job.status == "succeeded", job.error
    assert downloaded(api, str(job.id)) == streamed(api, "users", format="csv", organizationId=str(org.id))
