"""Job files in an S3-compatible bucket (django-storages) when PORTA_JOB_FILES_S3_BUCKET is set: a
real worker writes the file into the bucket and another process, a gunicorn web node that shares
nothing with the worker but the bucket, serves the download. The bucket is moto's S3 server, a
real HTTP endpoint on a loopback port."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from jobs.services import job_enqueue
from porta.core.context import Actor
from testing.servers import free_port
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, wait_for_job

pytestmark = pytest.mark.servers
BUCKET = "porta-job-files"


@pytest.fixture
def s3_env(tmp_path) -> Iterator[dict[str, str]]:
    """An S3 server with an empty bucket, and the environment naming it for Porta processes."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    credentials = {"AWS_ACCESS_KEY_ID": "porta-test", "AWS_SECRET_ACCESS_KEY": "porta-test-secret"}
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **_lower(credentials)).create_bucket(
        Bucket=BUCKET
    )
    try:
        yield {
            "PORTA_JOB_FILES_S3_BUCKET": BUCKET,
            "PORTA_JOB_FILES_S3_ENDPOINT_URL": endpoint,
            "PORTA_JOB_FILES_S3_REGION": "us-east-1",
            # Not shared with the web node: the file can only reach it through the bucket.
            "PORTA_JOB_FILES_DIR": str(tmp_path / "worker-only"),
            **credentials,
        }
    finally:
        server.stop()


def _lower(credentials: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in credentials.items()}


def test_a_job_file_written_by_a_worker_into_the_bucket_downloads_from_another_web_node(
    s3_env, start_worker, porta_server, initialized, tmp_path
):
    start_worker(**s3_env)
    job = job_enqueue(
        kind="testing.file",
        actor=Actor.system(),
        organization_id=None,
        parameters={"content": "id,name\n1,Zoë\n", "name": "users-export.csv"},
    )
    job = wait_for_job(job.id)
    assert job.status == "succeeded", job.error

    s3 = boto3.client(
        "s3", endpoint_url=s3_env["PORTA_JOB_FILES_S3_ENDPOINT_URL"], region_name="us-east-1",
        aws_access_key_id=s3_env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=s3_env["AWS_SECRET_ACCESS_KEY"],
    )  # fmt: skip
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert keys == [job.file.name]
    assert not (tmp_path / "worker-only").exists() or not any((tmp_path / "worker-only").rglob("*.csv"))

    web = porta_server(**{**s3_env, "PORTA_JOB_FILES_DIR": str(tmp_path / f"web-{uuid.uuid4().hex}")})
    token = requests.post(
        f"{web.base_url}/porta-admin/auth/token",
        data={
            "grant_type": "password",
            "client_id": "porta-cli",
            "username": ADMIN_EMAIL,
            "password": ADMIN_PASSWORD,
        },
        timeout=30,
    ).json()["access_token"]
    response = requests.get(
        f"{web.base_url}/api/admin/jobs/{job.id}/download",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.content == "id,name\n1,Zoë\n".encode()
    assert response.headers["Content-Disposition"] == 'attachment; filename="users-export.csv"'
