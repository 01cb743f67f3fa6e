"""Redis down — stopped, not flushed (issue 10, Faults): a real gunicorn server whose Redis (cache,
counters, version stamps and Celery broker) is stopped keeps answering from PostgreSQL, with a
clear 503 only where Redis itself is what was asked for, and never a 500. What Redis-loss does to
revocations is in test_redis_data_loss.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from organizations.models import Organization
from testing.servers import RedisServer, redis
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ServerProcess

ORGS = "/api/admin/organizations"

pytestmark = pytest.mark.servers


@pytest.fixture
def stopped_redis() -> Iterator[RedisServer]:
    with redis() as server:
        yield server


@pytest.fixture
def server(porta_server, initialized, stopped_redis: RedisServer) -> ServerProcess:
    """A server with a real broker (tasks are queued, not run in-process) whose Redis is stopped
    once it has served a request."""
    process = porta_server(REDIS_URL=stopped_redis.url, PORTA_CELERY_EAGER="false")
    assert requests.get(f"{process.base_url}/health/ready", timeout=15).status_code == 200
    stopped_redis.stop()
    return process


def login(server: ServerProcess) -> requests.Response:
    return requests.post(
        f"{server.base_url}/porta-admin/auth/token",
        data={
            "grant_type": "password",
            "client_id": "porta-cli",
            "username": ADMIN_EMAIL,
            "password": ADMIN_PASSWORD,
        },
        timeout=30,
    )


def call(server: ServerProcess, method: str, path: str, token: str, json=None) -> requests.Response:
    return requests.request(
        method, server.base_url + path, json=json, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_while_redis_is_down_a_login_succeeds(server):
    response = login(server)
    assert response.status_code == 200, response.text
    assert response.json()["access_token"]


def test_while_redis_is_down_reads_and_writes_of_the_admin_api_succeed(server):
    token = login(server).json()["access_token"]
    assert call(server, "GET", ORGS, token).status_code == 200
    assert call(server, "POST", ORGS, token, {"name": "Made without Redis"}).status_code == 201
    assert Organization.objects.filter(name="Made without Redis").exists()


def test_while_redis_is_down_an_admin_api_key_works(server):
    token = login(server).json()["access_token"]
    minted = call(
        server,
        "POST",
        "/api/admin/api-keys",
        token,
        {"name": "k", "organizationId": None, "roles": ["porta-super-admin"]},
    )
    assert minted.status_code == 201, minted.text
    assert call(server, "GET", ORGS, minted.json()["secret"]).status_code == 200


def test_while_redis_is_down_an_invitation_is_stored_and_answered_without_a_500(server):
    token = login(server).json()["access_token"]
    org = call(server, "POST", ORGS, token, {"name": "Invites"}).json()
    response = call(
        server, "POST", f"{ORGS}/{org['id']}/users/invite", token, {"email": "new@invites.example"}
    )
    assert response.status_code == 201, response.text
    messages = call(server, "GET", "/api/admin/courier/messages", token).json()["data"]
    assert [m["status"] for m in messages if m["recipient"] == "new@invites.example"] == ["queued"]


def test_while_redis_is_down_the_service_is_not_ready_and_says_why(server):
    response = requests.get(f"{server.base_url}/health/ready", timeout=15)
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] != "ok"
    assert response.json()["checks"]["database"] == "ok"
