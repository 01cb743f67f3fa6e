"""The verifying backend's own credential on the hot path of ``POST /api/admin/api-keys/verify``:
an admin API key's standing is kept per process under the stamps authentication reads anyway,
yet a revocation, suspension or role change made through any process refuses the caller on its
next request, and Redis losing its data or its answers sends the check back to PostgreSQL. The
lean path answers refusals exactly as the DRF path does."""

from __future__ import annotations

import time
from collections.abc import Callable

import jwt
import pytest
import redis as redis_lib
import requests
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apikeys.models import AdminApiKey
from authn import authentication
from issuedkeys import credentials, usage, verification
from organizations.models import Organization, User
from porta.core import versions
from porta.core.redis import get_redis
from rbac.admin_roles import ADMIN_APP_SLUG
from rbac.models import Role
from testing.servers import redis as redis_server
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ApiClient, issue_token
from tests.factories import IssuedApiKeyFactory, OrganizationFactory

VERIFY = "/api/admin/api-keys/verify"
ORGS = "/api/admin/organizations"
CREATOR_PASSWORD = "admin-password-1"


@pytest.fixture(autouse=True)
def _fresh_verification_state():
    verification.forget()
    usage.forget()
    yield
    verification.forget()
    usage.forget()


def issue(organization: Organization) -> str:
    minted = credentials.mint()
    IssuedApiKeyFactory(
        id=minted.key_id,
        organization=organization,
        prefix=minted.prefix,
        secret_hash=minted.secret_hash,
        last_four=minted.last_four,
    )
    return minted.plaintext


@pytest.fixture
def home(initialized) -> Organization:
    return OrganizationFactory()


@pytest.fixture
def creator(make_admin) -> User:
    return make_admin("porta-super-admin")


@pytest.fixture
def backend(creator, home) -> tuple[ApiClient, str]:
    """An organization-scoped admin API key of ``home``, made by ``creator``; and its id."""
    client = Client()
    own = ApiClient(client, issue_token(client, creator.email, CREATOR_PASSWORD)["access_token"])
    body = {"name": "backend", "organizationId": str(home.id), "roles": ["porta-org-admin"]}
    response = own.post("/api/admin/api-keys", body)
    assert response.status_code == 201, response.content
    return ApiClient(Client(), response.json()["secret"]), response.json()["apiKey"]["id"]


def status_of_verify(caller: ApiClient, credential: str) -> int:
    return caller.post(VERIFY, {"credential": credential}).status_code


def revoked_behind_the_caches_back(key_id: str) -> None:
    """The caller's key revoked with no stamp bump: an invalidation that got lost."""
    AdminApiKey.objects.filter(pk=key_id).update(revoked_at=timezone.now())


# -- the cache -------------------------------------------------------------------------------------


def test_verifying_again_with_an_admin_api_key_costs_no_database_query(backend, home):
    caller, _ = backend
    secret = issue(home)
    assert status_of_verify(caller, secret) == 200
    with CaptureQueriesContext(connection) as queries:
        response = caller.post(VERIFY, {"credential": secret})
    assert response.json()["isValid"] is True
    assert len(queries) == 0


def test_verifying_again_with_a_login_token_costs_no_database_query(api, home):
    secret = issue(home)
    assert status_of_verify(api, secret) == 200
    with CaptureQueriesContext(connection) as queries:
        response = api.post(VERIFY, {"credential": secret})
    assert response.json()["isValid"] is True
    assert len(queries) == 0


def test_a_caller_revoked_through_the_api_is_refused_on_its_next_call(api, backend, home):
    caller, key_id = backend
    secret = issue(home)
    assert status_of_verify(caller, secret) == 200
    assert api.post(f"/api/admin/api-keys/{key_id}/revoke").status_code == 200
    assert status_of_verify(caller, secret) == 401


def test_a_redis_flush_sends_the_callers_standing_back_to_postgresql(backend, home):
    caller, key_id = backend
    secret = issue(home)
    assert status_of_verify(caller, secret) == 200
    revoked_behind_the_caches_back(key_id)
    client = get_redis()
    if client is None:
        pytest.skip("needs Redis")
    client.flushall()
    assert status_of_verify(caller, secret) == 401


def test_a_lost_invalidation_of_the_caller_is_bounded_by_the_standing_max_age(backend, home, monkeypatch):
    monkeypatch.setattr(authentication, "STANDING_MAX_AGE", 0.05)
    caller, key_id = backend
    secret = issue(home)
    assert status_of_verify(caller, secret) == 200
    revoked_behind_the_caches_back(key_id)
    time.sleep(0.1)  # older than the maximum age
    assert status_of_verify(caller, secret) == 401


def test_with_redis_unreachable_the_callers_standing_is_read_from_postgresql_every_time(
    backend, home, settings
):
    caller, key_id = backend
    secret = issue(home)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there: no stamps at all
    assert status_of_verify(caller, secret) == 200
    revoked_behind_the_caches_back(key_id)
    assert status_of_verify(caller, secret) == 401


def test_a_bump_lost_while_redis_hung_reaches_redis_once_it_answers_again(settings):
    with redis_server() as own_redis:
        settings.REDIS_URL = own_redis.url
        raw = redis_lib.Redis.from_url(own_redis.url)
        versions.read(versions.PRINCIPALS)
        before = raw.get("porta:ver:principals")
        own_redis.pause()
        try:
            versions.bump(versions.PRINCIPALS)  # times out: lost for every other process
        finally:
            own_redis.resume()
        time.sleep(versions.RETRY_AFTER + 0.25)  # the back-off after a failure, not an assertion
        versions.read(versions.PRINCIPALS)
        assert raw.get("porta:ver:principals") != before


# -- across server processes -----------------------------------------------------------------------


def _admin_token(server) -> str:
    form = {"grant_type": "password", "client_id": "porta-cli", "username": ADMIN_EMAIL}
    form["password"] = ADMIN_PASSWORD
    response = requests.post(f"{server.base_url}/porta-admin/auth/token", data=form, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _remote_verify_status(server, caller: ApiClient, secret: str) -> int:
    response = requests.post(
        f"{server.base_url}{VERIFY}",
        json={"credential": secret},
        headers={"Authorization": f"Bearer {caller.token}"},
        timeout=10,
    )
    return response.status_code


def _revoke_key(key_id: str, creator: User) -> tuple[str, str, dict | None]:
    return "POST", f"/api/admin/api-keys/{key_id}/revoke", None


def _suspend_creator(key_id: str, creator: User) -> tuple[str, str, dict | None]:
    return "POST", f"{ORGS}/{creator.organization_id}/users/{creator.id}/suspend", {"reason": "test"}


def _remove_creators_role(key_id: str, creator: User) -> tuple[str, str, dict | None]:
    role = Role.objects.get(application__slug=ADMIN_APP_SLUG, slug="porta-super-admin")
    return "DELETE", f"{ORGS}/{creator.organization_id}/users/{creator.id}/roles", {"roleIds": [str(role.id)]}


CHANGES: dict[str, tuple[Callable[[str, User], tuple[str, str, dict | None]], int]] = {
    "key revoked": (_revoke_key, 401),
    "creator suspended": (_suspend_creator, 401),
    "creator's role removed": (_remove_creators_role, 403),
}


@pytest.mark.servers
@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_to_the_caller_through_one_server_process_refuses_it_at_once_in_another(
    porta_server, backend, creator, home, change
):
    caller, key_id = backend
    secret = issue(home)
    verifier, changer = porta_server(), porta_server()
    assert _remote_verify_status(verifier, caller, secret) == 200  # its standing now cached there
    assert _remote_verify_status(verifier, caller, secret) == 200
    make_change, refused = CHANGES[change]
    method, path, body = make_change(key_id, creator)
    headers = {"Authorization": f"Bearer {_admin_token(changer)}"}
    response = requests.request(method, changer.base_url + path, json=body, headers=headers, timeout=10)
    assert response.status_code < 300, response.text
    assert _remote_verify_status(verifier, caller, secret) == refused


@pytest.mark.servers
def test_a_login_session_revoked_through_one_server_process_is_refused_at_once_in_another(
    porta_server, creator, home
):
    secret = issue(home)
    verifier, changer = porta_server(), porta_server()
    form = {"grant_type": "password", "client_id": "porta-cli", "username": creator.email}
    form["password"] = CREATOR_PASSWORD
    token = requests.post(f"{verifier.base_url}/porta-admin/auth/token", data=form, timeout=10).json()
    caller = ApiClient(Client(), token["access_token"])
    assert _remote_verify_status(verifier, caller, secret) == 200  # its standing now cached there
    assert _remote_verify_status(verifier, caller, secret) == 200
    sid = jwt.decode(token["access_token"], options={"verify_signature": False})["sid"]
    headers = {"Authorization": f"Bearer {_admin_token(changer)}"}
    response = requests.delete(f"{changer.base_url}/api/admin/sessions/{sid}", headers=headers, timeout=10)
    assert response.status_code == 204, response.text
    assert _remote_verify_status(verifier, caller, secret) == 401


# -- refusals on the lean path ---------------------------------------------------------------------


def test_an_unknown_bearer_credential_is_401_in_the_contracts_shape(home):
    response = ApiClient(Client(), "porta_pat_" + "x" * 40).post(VERIFY, {"credential": issue(home)})
    assert response.status_code == 401
    body = response.json()
    assert (body["error"], body["statusCode"]) == ("Unauthorized", 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_caller_without_the_verify_permission_is_403_naming_it(api, home):
    body = {"name": "reader", "organizationId": str(home.id), "roles": ["porta-auditor"]}
    reader = ApiClient(Client(), api.post("/api/admin/api-keys", body).json()["secret"])
    response = reader.post(VERIFY, {"credential": issue(home)})
    assert response.status_code == 403
    assert "admin:issued-key:verify" in response.json()["message"]


def test_a_body_that_is_not_json_is_400(api):
    response = api.client.post(
        VERIFY, b"{not json", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {api.token}"
    )
    assert response.status_code == 400
    assert response.json()["statusCode"] == 400


def test_a_client_that_accepts_no_json_is_406(api, home):
    response = api.post(VERIFY, {"credential": issue(home)}, headers={"Accept": "text/html"})
    assert response.status_code == 406


def test_a_form_encoded_body_is_415(api):
    response = api.client.post(
        VERIFY,
        "credential=x",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )
    assert response.status_code == 415


def test_the_lean_answer_carries_the_same_headers_as_the_drf_answer(api, home):
    lean = api.post(VERIFY, {"credential": issue(home)})
    full = api.post(VERIFY, {"credential": issue(home)}, headers={"Accept": "application/json; q=1"})
    assert lean.json().keys() == full.json().keys()
    for name in ("Content-Type", "Cache-Control", "Pragma", "Allow"):
        assert lean[name] == full[name], name
