"""PostgreSQL down (issue 10, Faults): a real gunicorn server on a PostgreSQL of its own, which
the tests stop and start again. While it is down the server answers 503 ``ServiceUnavailable``
with ``Retry-After`` in the contract's shape and logs one line per failure; once it is back the
same requests succeed, without restarting the server."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from testing.servers import PostgresServer, postgres
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, REPO_ROOT, ServerProcess, server_env, start_server

ORGS = "/api/admin/organizations"

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[PostgresServer]:
    with postgres() as server:
        env = server_env(DATABASE_URL=server.url)
        for command in (
            ["migrate", "--noinput", "-v0"],
            ["porta_init", "--no-input", "--admin-email", ADMIN_EMAIL, "--admin-password", ADMIN_PASSWORD],
        ):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=REPO_ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        yield server


@pytest.fixture(scope="module")
def server_log(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("postgres-outage") / "server.log"


@pytest.fixture(scope="module")
def server(own_postgres: PostgresServer, server_log: Path) -> Iterator[ServerProcess]:
    process = start_server(
        log_path=server_log, DATABASE_URL=own_postgres.url, PORTA_RATE_LIMIT_WRITES="100000"
    )
    yield process
    process.stop()


@pytest.fixture
def token(server: ServerProcess) -> str:
    response = requests.post(
        f"{server.base_url}/porta-admin/auth/token",
        data={
            "grant_type": "password",
            "client_id": "porta-cli",
            "username": ADMIN_EMAIL,
            "password": ADMIN_PASSWORD,
        },
        timeout=15,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture
def outage(own_postgres: PostgresServer, token: str) -> Iterator[PostgresServer]:
    """PostgreSQL stopped (the token was issued before); started again after the test."""
    own_postgres.stop()
    try:
        yield own_postgres
    finally:
        if not own_postgres.is_running():
            own_postgres.start()


def get(server: ServerProcess, path: str, token: str | None = None, **headers: str) -> requests.Response:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(server.base_url + path, headers=headers, timeout=15)


def create_org(server: ServerProcess, token: str, name: str) -> requests.Response:
    return requests.post(
        server.base_url + ORGS, json={"name": name}, headers={"Authorization": f"Bearer {token}"}, timeout=15
    )


def in_parallel(count: int, call) -> list[requests.Response]:
    """Enough concurrent requests to use every thread of the server (and its connection)."""
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: call(), range(count)))


def test_while_postgresql_is_down_the_admin_api_answers_503_in_the_error_shape(server, token, outage):
    response = get(server, ORGS, token, **{"X-Request-ID": "outage-1"})
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {
        "error": "ServiceUnavailable",
        "message": "The database is unavailable; try again shortly",
        "statusCode": 503,
        "requestId": "outage-1",
    }
    assert int(response.headers["Retry-After"]) > 0


def test_while_postgresql_is_down_a_write_answers_503_with_retry_after(server, token, outage):
    response = create_org(server, token, "During the outage")
    assert response.status_code == 503
    assert response.json()["error"] == "ServiceUnavailable"
    assert int(response.headers["Retry-After"]) > 0


def test_while_postgresql_is_down_the_token_endpoint_answers_temporarily_unavailable(server, token, outage):
    response = requests.post(
        f"{server.base_url}/porta-admin/auth/token",
        data={
            "grant_type": "password",
            "client_id": "porta-cli",
            "username": ADMIN_EMAIL,
            "password": ADMIN_PASSWORD,
        },
        timeout=15,
    )
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert int(response.headers["Retry-After"]) > 0


def test_while_postgresql_is_down_the_service_is_not_ready(server, token, outage):
    response = get(server, "/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error"


def test_each_failure_is_logged_on_one_line_without_a_traceback(server, token, outage, server_log):
    logged_before = len(server_log.read_text().splitlines())
    request_ids = [f"logged-{uuid.uuid4().hex}" for _ in range(3)]
    for request_id in request_ids:
        assert get(server, ORGS, token, **{"X-Request-ID": request_id}).status_code == 503
    new_lines = [line for line in server_log.read_text().splitlines()[logged_before:] if " INFO " not in line]
    assert len(new_lines) == len(request_ids), "\n".join(line[:160] for line in new_lines)
    for line, request_id in zip(new_lines, request_ids, strict=True):
        assert "Database unavailable" in line
        assert request_id in line
    assert "Traceback" not in server_log.read_text()


def test_after_postgresql_is_back_the_same_requests_succeed_without_a_server_restart(server, token, outage):
    assert get(server, ORGS, token).status_code == 503
    assert create_org(server, token, "Refused during the outage").status_code == 503

    outage.start()

    assert get(server, ORGS, token).status_code == 200
    assert create_org(server, token, "Refused during the outage").status_code == 201
    assert get(server, "/health/ready").status_code == 200


def test_connections_opened_before_a_postgresql_restart_are_replaced_without_a_failed_request(
    server, token, own_postgres
):
    assert {r.status_code for r in in_parallel(8, lambda: get(server, ORGS, token))} == {200}

    own_postgres.stop()
    own_postgres.start()

    assert [r.status_code for r in in_parallel(8, lambda: get(server, ORGS, token))] == [200] * 8


def test_while_postgresql_is_down_a_page_answers_503_with_retry_after(server, token, outage, server_log):
    response = get(server, "/porta-admin/recovery/" + "x" * 43, **{"X-Request-ID": "page-1"})
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "database is unavailable" in response.text
    assert int(response.headers["Retry-After"]) > 0
    assert len([line for line in server_log.read_text().splitlines() if "page-1" in line]) == 1
    assert "Traceback" not in server_log.read_text()
