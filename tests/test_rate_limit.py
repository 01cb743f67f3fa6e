"""Contract §1 "Rate limit": 60 writes per 60 s per client IP, shared through Redis, failing open."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import requests

from audit.models import AuditEntry
from organizations.models import Organization
from testing.servers import redis
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

ORGS = "/api/admin/organizations"
LIMIT = 60


def exhaust(send: Callable[[int], object], count: int = LIMIT) -> None:
    """Spend ``count`` writes of the window; none of them may be refused by the limiter."""
    for i in range(count):
        response = send(i)
        status = getattr(response, "status_code", None)
        assert status != 429, f"write {i + 1} of {count} was already throttled"


def assert_too_many_requests(response) -> None:
    assert response.status_code == 429
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body == {
        "error": "TooManyRequests",
        "message": "Rate limit exceeded. Try again later.",
        "statusCode": 429,
        "requestId": response.headers["X-Request-ID"],
    }


# -- in process ------------------------------------------------------------------------------------


def test_the_61st_write_in_a_window_is_too_many_requests(api):
    exhaust(lambda i: api.post(ORGS, {"name": f"Org {i}"}))
    response = api.post(ORGS, {"name": "One too many"})
    assert_too_many_requests(response)
    assert not Organization.objects.filter(name="One too many").exists()
    assert Organization.objects.filter(name__startswith="Org ").count() == LIMIT


def test_the_60th_write_in_a_window_is_still_allowed(api):
    exhaust(lambda i: api.post(ORGS, {"name": ""}), LIMIT - 1)
    response = api.post(ORGS, {"name": "Sixtieth"})
    assert response.status_code == 201
    assert response["RateLimit-Remaining"] == "0"


def test_a_throttled_write_says_when_to_retry(api):
    exhaust(lambda i: api.post(ORGS, {"name": ""}))
    response = api.post(ORGS, {"name": "Later"})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["RateLimit-Limit"] == "60"
    assert response["RateLimit-Remaining"] == "0"
    assert 1 <= int(response["RateLimit-Reset"]) <= 60


def test_reads_still_pass_while_writes_are_throttled(api):
    exhaust(lambda i: api.post(ORGS, {"name": ""}))
    assert api.post(ORGS, {"name": "x"}).status_code == 429
    assert api.get(ORGS).status_code == 200
    assert api.get("/api/admin/audit").status_code == 200


def test_reads_are_not_counted_against_the_write_limit(api):
    for _ in range(LIMIT + 10):
        assert api.get(ORGS).status_code == 200
    response = api.post(ORGS, {"name": "After many reads"})
    assert response.status_code == 201
    assert response["RateLimit-Remaining"] == str(LIMIT - 1)


def test_reads_carry_no_rate_limit_headers(api):
    response = api.get(ORGS)
    assert response.status_code == 200
    assert "RateLimit-Limit" not in response


def test_a_write_carries_the_rate_limit_headers(api):
    response = api.post(ORGS, {"name": "Counted"})
    assert response.status_code == 201
    assert response["RateLimit-Limit"] == "60"
    assert response["RateLimit-Remaining"] == "59"
    assert 1 <= int(response["RateLimit-Reset"]) <= 60


def test_each_write_lowers_the_remaining_count(api):
    remaining = [int(api.post(ORGS, {"name": f"Org {i}"})["RateLimit-Remaining"]) for i in range(5)]
    assert remaining == [59, 58, 57, 56, 55]


def test_a_failed_write_carries_the_rate_limit_headers(api):
    response = api.post(ORGS, {"name": ""})
    assert response.status_code == 400
    assert response["RateLimit-Remaining"] == "59"


def test_every_write_method_counts_against_the_limit(api):
    org = api.post(ORGS, {"name": "Target"}).json()
    path = f"{ORGS}/{org['id']}"
    senders = [
        lambda: api.put(path, {"name": "Target"}),
        lambda: api.patch(path, {"name": "Target"}),
        lambda: api.delete(f"{path}?dryRun=true"),
        lambda: api.post(ORGS, {"name": ""}),
    ]
    exhaust(lambda i: senders[i % 4](), LIMIT - 1)
    assert_too_many_requests(api.put(path, {"name": "Too late"}))


def test_unauthenticated_writes_count_against_the_limit(api, anonymous):
    exhaust(lambda i: anonymous.post(ORGS, {"name": f"Org {i}"}))
    assert_too_many_requests(api.post(ORGS, {"name": "Legit but late"}))


def test_writes_to_unknown_routes_count_against_the_limit(api, anonymous):
    exhaust(lambda i: anonymous.post("/api/admin/no-such-route", {}))
    assert_too_many_requests(api.post(ORGS, {"name": "Late"}))


def test_the_limit_is_a_setting(api, settings):
    settings.PORTA_RATE_LIMIT_WRITES = 3
    exhaust(lambda i: api.post(ORGS, {"name": ""}), 3)
    response = api.post(ORGS, {"name": "Fourth"})
    assert_too_many_requests(response)
    assert response["RateLimit-Limit"] == "3"


# -- client address --------------------------------------------------------------------------------


def test_x_forwarded_for_is_ignored_when_the_peer_is_not_a_trusted_proxy(api, settings):
    settings.PORTA_TRUSTED_PROXIES = []
    exhaust(lambda i: api.post(ORGS, {"name": ""}, headers={"X-Forwarded-For": f"203.0.113.{i}"}))
    response = api.post(ORGS, {"name": "Spoofer"}, headers={"X-Forwarded-For": "198.51.100.99"})
    assert_too_many_requests(response)


def test_x_forwarded_for_from_an_untrusted_peer_is_not_the_audited_address(api, settings):
    settings.PORTA_TRUSTED_PROXIES = ["10.0.0.0/8"]
    response = api.post(ORGS, {"name": "Spoofed"}, headers={"X-Forwarded-For": "203.0.113.5"})
    assert response.status_code == 201
    entry = AuditEntry.objects.get(event_type="org.created", target_id=response.json()["id"])
    assert entry.ip_address == "127.0.0.1"


def test_a_client_behind_a_trusted_proxy_is_limited_by_its_forwarded_address(api, settings):
    settings.PORTA_TRUSTED_PROXIES = ["127.0.0.1"]
    exhaust(lambda i: api.post(ORGS, {"name": ""}, headers={"X-Forwarded-For": "203.0.113.7"}))
    response = api.post(ORGS, {"name": "Again"}, headers={"X-Forwarded-For": "203.0.113.7"})
    assert_too_many_requests(response)


def test_another_client_behind_the_same_trusted_proxy_has_its_own_limit(api, settings):
    settings.PORTA_TRUSTED_PROXIES = ["127.0.0.0/8"]
    exhaust(lambda i: api.post(ORGS, {"name": ""}, headers={"X-Forwarded-For": "203.0.113.7"}))
    response = api.post(ORGS, {"name": "Neighbour"}, headers={"X-Forwarded-For": "198.51.100.9"})
    assert response.status_code == 201
    assert response["RateLimit-Remaining"] == "59"


def test_a_client_cannot_escape_the_limit_by_prepending_addresses_behind_a_trusted_proxy(api, settings):
    settings.PORTA_TRUSTED_PROXIES = ["127.0.0.1"]
    exhaust(lambda i: api.post(ORGS, {"name": ""}, headers={"X-Forwarded-For": f"192.0.2.{i}, 203.0.113.7"}))
    response = api.post(ORGS, {"name": "x"}, headers={"X-Forwarded-For": "192.0.2.250, 203.0.113.7"})
    assert_too_many_requests(response)


def test_the_forwarded_address_from_a_trusted_proxy_is_audited(api, settings):
    settings.PORTA_TRUSTED_PROXIES = ["127.0.0.1"]
    response = api.post(ORGS, {"name": "Proxied"}, headers={"X-Forwarded-For": "203.0.113.5"})
    assert response.status_code == 201
    entry = AuditEntry.objects.get(event_type="org.created", target_id=response.json()["id"])
    assert entry.ip_address == "203.0.113.5"


# -- real server processes -------------------------------------------------------------------------


def _post_unauthenticated(server) -> requests.Response:
    return requests.post(f"{server.base_url}{ORGS}", json={"name": "Anonymous"}, timeout=10)


@pytest.mark.servers
def test_the_write_limit_is_shared_by_every_server_process(porta_server):
    first, second = porta_server(), porta_server()
    statuses = [_post_unauthenticated(first if i % 2 else second).status_code for i in range(LIMIT)]
    assert statuses == [401] * LIMIT
    assert_too_many_requests(_post_unauthenticated(first))
    assert_too_many_requests(_post_unauthenticated(second))


@pytest.mark.servers
def test_each_server_process_reports_the_shared_remaining_count(porta_server):
    first, second = porta_server(), porta_server()
    assert _post_unauthenticated(first).headers["RateLimit-Remaining"] == "59"
    assert _post_unauthenticated(second).headers["RateLimit-Remaining"] == "58"


def _token(server) -> str:
    response = requests.post(
        f"{server.base_url}/porta-admin/auth/token",
        data={"grant_type": "password", "client_id": "porta-cli", "username": ADMIN_EMAIL,
              "password": ADMIN_PASSWORD},
        timeout=10,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture
def server_after_redis_outage(porta_server, initialized):
    """A real server whose Redis has been stopped, and an admin token it issued before that."""
    with redis() as own_redis:
        server = porta_server(REDIS_URL=own_redis.url)
        token = _token(server)
        # A write while Redis is up, so the server's connection pool is warm when Redis goes away.
        assert _create(server, token, "Before the outage").status_code == 201
    return server, token


def _create(server, token: str, name: str) -> requests.Response:
    return requests.post(
        f"{server.base_url}{ORGS}",
        json={"name": name},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


@pytest.mark.servers
def test_writes_still_succeed_while_redis_is_unreachable(server_after_redis_outage):
    server, token = server_after_redis_outage
    responses = [_create(server, token, f"During the outage {i}") for i in range(3)]
    assert [r.status_code for r in responses] == [201, 201, 201], [r.text for r in responses]
    assert Organization.objects.filter(name__startswith="During the outage").count() == 3


@pytest.mark.servers
def test_the_rate_limit_backend_error_metric_counts_the_outage(server_after_redis_outage):
    server, token = server_after_redis_outage
    assert _create(server, token, "During the outage").status_code == 201
    metrics = requests.get(f"{server.base_url}/metrics/prometheus", timeout=10)
    assert metrics.status_code == 200
    match = re.search(r"^porta_rate_limit_backend_errors_total ([0-9.e+]+)$", metrics.text, re.MULTILINE)
    assert match is not None, metrics.text
    assert float(match.group(1)) >= 1
