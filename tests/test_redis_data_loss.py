"""Redis losing its data never revives anything revoked (issue 10, Faults).

PostgreSQL is the truth for every revocation. Each revocable thing is revoked, then Redis loses
its data — ``FLUSHALL``, a restart that comes back empty, or a stop (the outage itself) — and the
credential must stay refused, both in this test process and in a long-lived gunicorn server
process that saw (and cached under) the old version stamps. A control request with a fresh
credential shows that the refusal is not simply everything failing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt
import orjson
import pytest
import redis as redis_lib
import requests
from django.test import Client

from porta.core import versions
from rbac.admin_roles import ADMIN_APP_SLUG
from rbac.models import Role
from testing.servers import RedisServer, redis
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, TENANT_PASSWORD, ServerProcess, start_server

ORGS = "/api/admin/organizations"
SESSIONS = "/api/admin/sessions"
VICTIM_PASSWORD = "admin-password-1"

pytestmark = pytest.mark.django_db(transaction=True)


# -- one HTTP interface, in-process or over a socket to a real server ------------------------------


@dataclass
class Reply:
    status: int
    body: Any


class Http:
    """The admin API and the token endpoints, through the Django test client (this process is
    the long-lived one) or through a gunicorn server process."""

    def __init__(self, base_url: str | None = None) -> None:
        self.base_url = base_url
        self.client = Client()

    def call(
        self, method: str, path: str, *, token: str | None = None, json: Any = None, form: dict | None = None
    ) -> Reply:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = b""
        if form is not None:
            body, headers["Content-Type"] = urlencode(form).encode(), "application/x-www-form-urlencoded"
        elif json is not None:
            body, headers["Content-Type"] = orjson.dumps(json), "application/json"
        if self.base_url is not None:
            response = requests.request(method, self.base_url + path, headers=headers, data=body, timeout=15)
            status, content, kind = (
                response.status_code,
                response.content,
                response.headers.get("Content-Type"),
            )
        else:
            content_type = headers.pop("Content-Type", "")
            response = self.client.generic(method, path, body, content_type, headers=headers)
            status, content, kind = response.status_code, response.content, response.get("Content-Type")
        return Reply(status, orjson.loads(content) if (kind or "").startswith("application/json") else None)

    def login(
        self, email: str, password: str, org: str = "porta-admin", client_id: str = "porta-cli"
    ) -> dict:
        reply = self.call(
            "POST",
            f"/{org}/auth/token",
            form={"grant_type": "password", "client_id": client_id, "username": email, "password": password},
        )
        assert reply.status == 200, reply.body
        return reply.body

    def admin_token(self) -> str:
        """A fresh super-admin token, signed by whichever key signs now."""
        return self.login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"]

    def expect(self, status: int, method: str, path: str, **kwargs: Any) -> Reply:
        reply = self.call(method, path, token=self.admin_token(), **kwargs)
        assert reply.status == status, (method, path, reply.status, reply.body)
        return reply


def sid_of(access_token: str) -> str:
    return jwt.decode(access_token, options={"verify_signature": False})["sid"]


# -- the revocable things ----------------------------------------------------------------------------


@dataclass
class Revocable:
    probe: Callable[[], int]  # the credential at work: its HTTP status
    revoke: Callable[[], None]
    refused: int  # the status of the probe once revoked


def _rotating_refresh(http: Http, tokens: dict, org: str, client_id: str) -> Callable[[], int]:
    state = {"refresh_token": tokens["refresh_token"]}

    def probe() -> int:
        form = {
            "grant_type": "refresh_token",
            "client_id": client_id,
            "refresh_token": state["refresh_token"],
        }
        reply = http.call("POST", f"/{org}/auth/token", form=form)
        if reply.status == 200:
            state["refresh_token"] = reply.body["refresh_token"]
        return reply.status

    return probe


def _admin_request(http: Http, token: str) -> Callable[[], int]:
    return lambda: http.call("GET", ORGS, token=token).status


def revoked_session(http: Http, request) -> Revocable:
    victim = request.getfixturevalue("make_admin")("porta-super-admin")
    access_token = http.login(victim.email, VICTIM_PASSWORD)["access_token"]
    return Revocable(
        probe=_admin_request(http, access_token),
        revoke=lambda: http.expect(204, "DELETE", f"{SESSIONS}/{sid_of(access_token)}"),
        refused=401,
    )


def refresh_token_of_a_revoked_session(http: Http, request) -> Revocable:
    victim = request.getfixturevalue("make_admin")("porta-super-admin")
    tokens = http.login(victim.email, VICTIM_PASSWORD)
    return Revocable(
        probe=_rotating_refresh(http, tokens, "porta-admin", "porta-cli"),
        revoke=lambda: http.expect(204, "DELETE", f"{SESSIONS}/{sid_of(tokens['access_token'])}"),
        refused=400,
    )


def revoked_api_key(http: Http, request) -> Revocable:
    request.getfixturevalue("initialized")
    minted = http.expect(
        201,
        "POST",
        "/api/admin/api-keys",
        json={"name": "bot", "organizationId": None, "roles": ["porta-super-admin"]},
    ).body
    return Revocable(
        probe=_admin_request(http, minted["secret"]),
        revoke=lambda: http.expect(200, "POST", f"/api/admin/api-keys/{minted['apiKey']['id']}/revoke"),
        refused=401,
    )


def revoked_signing_key(http: Http, request) -> Revocable:
    victim = request.getfixturevalue("make_admin")("porta-super-admin")
    access_token = http.login(victim.email, VICTIM_PASSWORD)["access_token"]
    kid = jwt.get_unverified_header(access_token)["kid"]
    keys = http.expect(200, "GET", "/api/admin/keys").body["data"]
    key_id = next(key["id"] for key in keys if key["kid"] == kid)

    def revoke() -> None:
        http.expect(201, "POST", "/api/admin/keys/rotate")
        http.expect(200, "POST", f"/api/admin/keys/{key_id}/revoke")  # with a token of the new key

    return Revocable(probe=_admin_request(http, access_token), revoke=revoke, refused=401)


def removed_admin_role(http: Http, request) -> Revocable:
    victim = request.getfixturevalue("make_admin")("porta-org-admin")
    role = Role.objects.get(application__slug=ADMIN_APP_SLUG, slug="porta-org-admin")
    access_token = http.login(victim.email, VICTIM_PASSWORD)["access_token"]
    roles_url = f"{ORGS}/{victim.organization_id}/users/{victim.id}/roles"
    return Revocable(
        probe=_admin_request(http, access_token),
        revoke=lambda: http.expect(204, "DELETE", roles_url, json={"roleIds": [str(role.id)]}),
        refused=403,
    )


def suspended_user(http: Http, request) -> Revocable:
    victim = request.getfixturevalue("make_admin")("porta-super-admin")
    access_token = http.login(victim.email, VICTIM_PASSWORD)["access_token"]
    suspend_url = f"{ORGS}/{victim.organization_id}/users/{victim.id}/suspend"
    return Revocable(
        probe=_admin_request(http, access_token),
        revoke=lambda: http.expect(200, "POST", suspend_url, json={"reason": "test"}),
        refused=401,
    )


def suspended_organization(http: Http, request) -> Revocable:
    tenant = request.getfixturevalue("tenant_user")
    tokens = http.login(tenant.email, TENANT_PASSWORD, org="tenant-org", client_id="tenant-cli")
    return Revocable(
        probe=_rotating_refresh(http, tokens, "tenant-org", "tenant-cli"),
        revoke=lambda: http.expect(200, "POST", f"{ORGS}/{tenant.organization_id}/suspend", json={}),
        refused=403,
    )


REVOCABLES = {
    "session": revoked_session,
    "refresh-token": refresh_token_of_a_revoked_session,
    "api-key": revoked_api_key,
    "signing-key": revoked_signing_key,
    "admin-role": removed_admin_role,
    "suspended-user": suspended_user,
    "suspended-organization": suspended_organization,
}


# -- Redis of our own, and a server that lives through every test of the module ---------------------


def wait_until_redis_is_asked_again() -> None:
    """After failing to reach Redis a process answers from the database for a short back-off
    (porta.core.versions.RETRY_AFTER) before asking Redis again. What follows must exercise Redis's
    answer, not the back-off, so wait it out (no assertion depends on this duration)."""
    time.sleep(versions.RETRY_AFTER + 0.25)


@pytest.fixture(scope="module")
def own_redis() -> Iterator[RedisServer]:
    with redis() as server:
        yield server


@pytest.fixture(autouse=True)
def _this_process_uses_own_redis(own_redis: RedisServer, settings) -> None:
    if own_redis.process is None:  # the last test stopped it, and the server noticed
        own_redis.start()
        wait_until_redis_is_asked_again()
    settings.REDIS_URL = own_redis.url
    redis_lib.Redis.from_url(own_redis.url).flushall()


@pytest.fixture(scope="module")
def long_lived_server(own_redis: RedisServer, django_db_setup) -> Iterator[ServerProcess]:
    server = start_server(REDIS_URL=own_redis.url, PORTA_RATE_LIMIT_WRITES="100000")
    yield server
    server.stop()


@pytest.fixture(params=["in-process", "server"])
def http(request) -> Http:
    if request.param == "server":
        return Http(request.getfixturevalue("long_lived_server").base_url)
    return Http()


def lose_data(own_redis: RedisServer, how: str) -> None:
    if how == "flushall":
        redis_lib.Redis.from_url(own_redis.url).flushall()
    elif how == "restart-empty":
        own_redis.stop()
        own_redis.start()
    else:  # "stopped": the answers below are given while Redis is down
        own_redis.stop()


# -- the tests -------------------------------------------------------------------------------------


@pytest.mark.servers
@pytest.mark.parametrize("how", ["flushall", "restart-empty", "stopped"])
@pytest.mark.parametrize("name", list(REVOCABLES))
def test_a_revoked_credential_stays_refused_when_redis_loses_its_data(http, own_redis, request, name, how):
    thing = REVOCABLES[name](http, request)
    assert thing.probe() == 200  # warms every cache on the way
    thing.revoke()
    assert thing.probe() == thing.refused

    lose_data(own_redis, how)

    assert thing.probe() == thing.refused
    assert http.call("GET", ORGS, token=http.admin_token()).status == 200


@pytest.mark.servers
@pytest.mark.parametrize("name", list(REVOCABLES))
def test_a_credential_revoked_while_redis_is_down_stays_refused_once_it_returns(
    http, own_redis, request, name
):
    thing = REVOCABLES[name](http, request)
    assert thing.probe() == 200

    own_redis.stop()
    thing.revoke()
    assert thing.probe() == thing.refused
    own_redis.start()
    wait_until_redis_is_asked_again()

    assert thing.probe() == thing.refused
    assert http.call("GET", ORGS, token=http.admin_token()).status == 200


@pytest.mark.servers
@pytest.mark.parametrize("name", list(REVOCABLES))
def test_a_credential_revoked_while_redis_hangs_stays_refused_when_it_answers_again_with_old_data(
    http, own_redis, request, name
):
    thing = REVOCABLES[name](http, request)
    assert thing.probe() == 200  # cached under the stamps Redis will still hold afterwards

    own_redis.pause()  # the bumps of the revocation are lost, Redis keeps its data
    try:
        thing.revoke()
        assert thing.probe() == thing.refused
    finally:
        own_redis.resume()
    wait_until_redis_is_asked_again()

    assert thing.probe() == thing.refused
    assert http.call("GET", ORGS, token=http.admin_token()).status == 200
