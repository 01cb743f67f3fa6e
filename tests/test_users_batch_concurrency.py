"""Batch user create against parallel writers, through a real server process: a parallel create
of the same email makes that item a 409 (never a 500) and leaves the rest of the batch created."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests

from audit.models import AuditEntry
from organizations.models import Organization, User
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, server_env

pytestmark = pytest.mark.servers


@pytest.fixture
def org(initialized) -> Organization:
    return Organization.objects.create(name="Acme", slug="acme")


@pytest.fixture
def server(porta_server, initialized):
    server = porta_server()
    form = {
        "grant_type": "password",
        "client_id": "porta-cli",
        "username": ADMIN_EMAIL,
        "password": ADMIN_PASSWORD,
    }
    response = requests.post(f"{server.base_url}/porta-admin/auth/token", data=form, timeout=30)
    assert response.status_code == 200, response.text
    server.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    return server


def _post_batch(server, org: Organization, emails: list[str]) -> requests.Response:
    return requests.post(
        f"{server.base_url}/api/admin/organizations/{org.id}/users/batch",
        json={"users": [{"email": email} for email in emails]},
        headers=server.headers,
        timeout=120,
    )


def _open_create(database: psycopg.Connection, org: Organization, email: str) -> None:
    """A parallel create of ``email`` that has inserted its row and not committed yet."""
    database.execute(
        "INSERT INTO organizations_user (id, organization_id, email, email_verified, given_name, family_name,"
        " phone_number_verified, password, status, status_reason, failed_login_count, created_at, updated_at)"
        " VALUES (%s, %s, %s, false, '', '', false, '!x', 'active', '', 0, now(), now())",
        (uuid.uuid4(), org.id, email),
    )


def _wait_until_the_batch_waits_on_a_lock() -> None:
    with psycopg.connect(server_env()["DATABASE_URL"], autocommit=True) as watcher:
        for _ in range(600):
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            ).fetchone()[0]
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError("the batch never waited on the parallel create")


def _race(server, org: Organization, commit: bool) -> requests.Response:
    """The batch [race@, calm@] posted while a parallel create of race@ holds its row; that
    create commits (or rolls back) once the batch's COPY waits on it."""
    with psycopg.connect(server_env()["DATABASE_URL"]) as database, ThreadPoolExecutor(1) as pool:
        _open_create(database, org, "race@acme.example")
        answer = pool.submit(_post_batch, server, org, ["RACE@acme.example", "calm@acme.example"])
        _wait_until_the_batch_waits_on_a_lock()
        database.commit() if commit else database.rollback()
        return answer.result(timeout=120)


def test_an_item_whose_email_a_parallel_create_commits_first_is_a_conflict(server, org):
    response = _race(server, org, commit=True)
    assert response.status_code == 200, response.text
    assert response.json()["results"][0] == {
        "index": 0,
        "error": {"error": "Conflict", "message": "A user with email 'RACE@acme.example' already exists",
                  "statusCode": 409},
    }  # fmt: skip


def test_the_rest_of_a_batch_that_lost_a_race_is_created_and_audited(server, org):
    results = _race(server, org, commit=True).json()["results"]
    calm = User.objects.get(organization=org, email="calm@acme.example")
    assert results[1] == {"index": 1, "id": str(calm.id)}
    entries = AuditEntry.objects.filter(event_type="user.batch.created")
    assert [entry.target_id for entry in entries] == [str(calm.id)]


def test_an_item_whose_parallel_create_rolls_back_is_created(server, org):
    results = _race(server, org, commit=False).json()["results"]
    race = User.objects.get(organization=org, email="RACE@acme.example")
    assert results[0] == {"index": 0, "id": str(race.id)}


def test_two_parallel_batches_of_the_same_emails_create_each_once_and_answer_409_for_the_other(server, org):
    emails = [f"u{n:03d}@acme.example" for n in range(300)]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda order: _post_batch(server, org, order), [emails, emails[::-1]]))
    assert [answer.status_code for answer in answers] == [200, 200]
    first, second = (answer.json()["results"] for answer in answers)
    second = second[::-1]
    assert all(("id" in a) != ("id" in b) for a, b in zip(first, second, strict=True))
    assert {r["error"]["statusCode"] for r in first + second if "error" in r} <= {409}
    assert User.objects.filter(organization=org).count() == len(emails)
