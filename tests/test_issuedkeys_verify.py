"""Verifying issued API keys through ``POST /api/admin/api-keys/verify`` (and its batch form):
every errorCode, the tenant boundary, the hot path's cost, freshness across processes and a
Redis flush, and batched ``lastUsedAt``."""

from __future__ import annotations

import datetime
import time
import uuid

import pytest
import requests
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from issuedkeys import credentials, usage, verification
from issuedkeys.models import IssuedApiKey
from issuedkeys.tasks import flush_issued_key_last_used
from organizations.models import Organization
from porta.core.redis import get_redis
from testing.servers import redis as redis_server
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ApiClient
from tests.factories import IssuedApiKeyFactory, OrganizationFactory

VERIFY = "/api/admin/api-keys/verify"
BATCH = "/api/admin/api-keys/verify/batch"
KEYS = "/api/admin/api-keys"


@pytest.fixture(autouse=True)
def _fresh_verification_state():
    verification.forget()
    usage.forget()
    yield
    verification.forget()
    usage.forget()


def issue(organization: Organization, **fields) -> tuple[IssuedApiKey, str]:
    """A stored key and its plaintext, minted exactly as issuing mints it."""
    minted = credentials.mint(prefix=fields.pop("prefix", "porta_ak"))
    row = IssuedApiKeyFactory(
        id=minted.key_id,
        organization=organization,
        prefix=minted.prefix,
        secret_hash=minted.secret_hash,
        last_four=minted.last_four,
        **fields,
    )
    return row, minted.plaintext


def revoked(row: IssuedApiKey) -> None:
    """Revoke the row behind verification's back (no stamp bump): a lost invalidation."""
    IssuedApiKey.objects.filter(pk=row.pk).update(status="revoked", revoked_at=timezone.now())


def verify(client: ApiClient, credential) -> dict:
    response = client.post(VERIFY, {"credential": credential})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def home(initialized) -> Organization:
    return OrganizationFactory()


@pytest.fixture
def foreign(initialized) -> Organization:
    return OrganizationFactory()


@pytest.fixture
def scoped(api, home) -> ApiClient:
    """An organization-scoped admin API key (``porta_pat_``) of ``home``."""
    body = {"name": "backend", "organizationId": str(home.id), "roles": ["porta-super-admin"]}
    response = api.post(KEYS, body)
    assert response.status_code == 201, response.content
    return ApiClient(Client(), response.json()["secret"])


# -- answers ---------------------------------------------------------------------------------------


def test_a_valid_key_is_valid_with_what_it_carries(api, home):
    expires_at = timezone.now() + datetime.timedelta(days=7)
    row, secret = issue(
        home,
        actor_id="svc-billing",
        scopes=["read", "write"],
        metadata={"tier": "gold"},
        expires_at=expires_at,
    )
    body = verify(api, secret)
    assert body == {
        "isValid": True,
        "errorCode": None,
        "keyId": str(row.id),
        "organizationId": str(home.id),
        "actorId": "svc-billing",
        "scopes": ["read", "write"],
        "metadata": {"tier": "gold"},
        "expiresAt": expires_at.astimezone(datetime.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
    }


def test_verify_answers_are_never_cached_on_the_way(api, home):
    _, secret = issue(home)
    response = api.post(VERIFY, {"credential": secret})
    assert response["Cache-Control"] == "no-store"


def test_a_key_that_never_expires_has_no_expiry(api, home):
    _, secret = issue(home, expires_at=None)
    body = verify(api, secret)
    assert body["isValid"] is True
    assert body["expiresAt"] is None


def test_an_expired_key_is_expired(api, home):
    row, secret = issue(home, expires_at=timezone.now() - datetime.timedelta(seconds=1))
    body = verify(api, secret)
    assert (body["isValid"], body["errorCode"], body["keyId"]) == (False, "EXPIRED", str(row.id))


def test_a_revoked_key_is_revoked(api, home):
    row, secret = issue(home, status="revoked", revoked_at=timezone.now())
    body = verify(api, secret)
    assert (body["isValid"], body["errorCode"], body["keyId"]) == (False, "REVOKED", str(row.id))


def test_a_key_that_expires_while_cached_is_expired_at_once(api, home):
    row, secret = issue(home, expires_at=timezone.now() + datetime.timedelta(hours=1))
    assert verify(api, secret)["isValid"] is True
    IssuedApiKey.objects.filter(pk=row.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    verification.keys_changed()
    assert verify(api, secret)["errorCode"] == "EXPIRED"


NOT_FOUND_BODY = {
    "isValid": False,
    "errorCode": "NOT_FOUND",
    "keyId": None,
    "organizationId": None,
    "actorId": None,
    "scopes": None,
    "metadata": None,
    "expiresAt": None,
}


def test_an_unknown_key_is_not_found(api):
    assert verify(api, credentials.mint().plaintext) == NOT_FOUND_BODY


def test_a_key_with_a_tampered_checksum_is_not_found(api, home):
    _, secret = issue(home)
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert verify(api, tampered) == NOT_FOUND_BODY


def test_a_key_of_another_installation_is_not_found(api, settings):
    settings.PORTA_API_KEY_PEPPERS = ["another-installation-pepper-abcdefghijklmn"]
    foreign_key = credentials.mint().plaintext
    settings.PORTA_API_KEY_PEPPERS = [settings.PORTA_TOKEN_PEPPER]
    assert verify(api, foreign_key) == NOT_FOUND_BODY


def test_a_revoked_key_with_a_wrong_secret_is_not_found_rather_than_revoked(api, home):
    row, _ = issue(home, status="revoked", revoked_at=timezone.now())
    other = credentials.mint(key_id=row.id).plaintext  # right id and checksum, other secret
    assert verify(api, other) == NOT_FOUND_BODY


@pytest.mark.parametrize(
    "credential",
    ["", "hello", "porta_ak_v1_xyz_abc", "porta_pat_" + "a" * 43, "porta_ak_v9_" + "0" * 32 + "_x"],
)
def test_a_malformed_credential_is_invalid_format(api, credential):
    assert verify(api, credential) == {**NOT_FOUND_BODY, "errorCode": "INVALID_FORMAT"}


def test_a_key_minted_under_a_retired_pepper_still_verifies(api, home, settings):
    settings.PORTA_API_KEY_PEPPERS = ["the-old-pepper-0123456789abcdefghijklmn"]
    _, secret = issue(home)
    settings.PORTA_API_KEY_PEPPERS = [
        "the-new-pepper-0123456789abcdefghijklmn",
        "the-old-pepper-0123456789abcdefghijklmn",
    ]
    assert verify(api, secret)["isValid"] is True


# -- bodies ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "credential"), ({"credential": 42}, "credential"), ({"credential": "x", "extra": 1}, "extra")],
)
def test_a_bad_body_is_400_naming_the_field(api, body, field):
    response = api.post(VERIFY, body)
    assert response.status_code == 400
    assert field in response.json()["details"]


def test_verify_is_not_read_as_an_admin_api_key_id(api):
    response = api.get(VERIFY)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_verifying_is_not_counted_as_a_write_by_the_rate_limit(api, home, settings):
    settings.PORTA_RATE_LIMIT_WRITES = 3
    _, secret = issue(home)
    for _ in range(5):
        assert verify(api, secret)["isValid"] is True


# -- who may verify --------------------------------------------------------------------------------


def test_verifying_needs_authentication(anonymous, home):
    _, secret = issue(home)
    response = anonymous.post(VERIFY, {"credential": secret})
    assert response.status_code == 401


def test_verifying_needs_the_verify_permission(api_as, home):
    _, secret = issue(home)
    response = api_as("porta-user-admin").post(VERIFY, {"credential": secret})
    assert response.status_code == 403
    assert "admin:issued-key:verify" in response.json()["message"]


def test_an_issued_key_is_never_an_admin_credential(home):
    _, secret = issue(home)
    response = ApiClient(Client(), secret).get("/api/admin/organizations")
    assert response.status_code == 401


def test_an_organization_key_verifies_its_own_organizations_keys(scoped, home):
    row, secret = issue(home)
    body = verify(scoped, secret)
    assert (body["isValid"], body["keyId"]) == (True, str(row.id))


def test_an_organization_key_gets_not_found_for_another_organizations_key(scoped, foreign):
    _, secret = issue(foreign)
    assert verify(scoped, secret) == NOT_FOUND_BODY


def test_an_organization_key_gets_not_found_for_another_organizations_revoked_key(scoped, foreign):
    _, secret = issue(foreign, status="revoked", revoked_at=timezone.now())
    assert verify(scoped, secret) == NOT_FOUND_BODY


def test_a_global_caller_verifies_keys_of_every_organization(api, home, foreign):
    assert verify(api, issue(home)[1])["isValid"] is True
    assert verify(api, issue(foreign)[1])["isValid"] is True


# -- batch -----------------------------------------------------------------------------------------


def test_a_batch_answers_each_credential_in_order(api, home):
    valid_row, valid = issue(home)
    _, gone = issue(home, status="revoked", revoked_at=timezone.now())
    requests_ = [{"credential": c} for c in (valid, "garbage", gone, credentials.mint().plaintext, valid)]
    response = api.post(BATCH, {"requests": requests_})
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["errorCode"] for r in results] == [None, "INVALID_FORMAT", "REVOKED", "NOT_FOUND", None]
    assert results[0]["keyId"] == str(valid_row.id)


def test_a_batch_of_a_hundred_costs_one_query_for_the_keys(api, home):
    secrets = [issue(home)[1] for _ in range(100)]
    verify(api, "garbage")  # the caller's roles are now cached, as on any later request
    baseline = _queries(lambda: api.post(BATCH, {"requests": [{"credential": "garbage"}]}))
    with CaptureQueriesContext(connection) as queries:
        response = api.post(BATCH, {"requests": [{"credential": s} for s in secrets]})
    assert all(r["isValid"] for r in response.json()["results"])
    assert len(queries) == baseline + 1


@pytest.mark.parametrize("count", [0, 101])
def test_a_batch_must_hold_one_to_a_hundred_credentials(api, count):
    response = api.post(BATCH, {"requests": [{"credential": "x"}] * count})
    assert response.status_code == 400
    assert "requests" in response.json()["details"]


def test_a_batch_item_with_an_unknown_field_is_400(api):
    response = api.post(BATCH, {"requests": [{"credential": "x", "nope": 1}]})
    assert response.status_code == 400


def test_an_organization_key_gets_not_found_for_another_organizations_key_in_a_batch(scoped, home, foreign):
    _, own = issue(home)
    _, other = issue(foreign)
    response = scoped.post(BATCH, {"requests": [{"credential": own}, {"credential": other}]})
    assert [r["errorCode"] for r in response.json()["results"]] == [None, "NOT_FOUND"]


# -- the hot path ----------------------------------------------------------------------------------


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


def test_verifying_a_key_again_costs_no_database_query(api, home):
    _, secret = issue(home)
    verify(api, "garbage")  # the caller's roles are now cached, as on any later request
    malformed = _queries(lambda: verify(api, "garbage"))  # the caller's own authentication only
    verify(api, secret)
    assert _queries(lambda: verify(api, secret)) == malformed


def test_a_second_verification_in_the_process_reads_no_row(home, django_assert_num_queries):
    _, secret = issue(home)
    verification.verify(secret)
    with django_assert_num_queries(0):
        assert verification.verify(secret).is_valid


def test_verifying_a_cached_key_costs_no_redis_command_beyond_the_callers_authentication(api, home):
    client = get_redis()
    if client is None:
        pytest.skip("needs Redis to count its commands")
    _, secret = issue(home)
    verify(api, secret)  # cached now, and its use noted for this resolution window
    verify(api, "garbage")

    def commands(credential) -> int:
        before = _commands(client.info("commandstats"))
        verify(api, credential)
        return _commands(client.info("commandstats")) - before

    assert commands(secret) == commands("garbage")


@pytest.mark.parametrize("kind", ["malformed", "tampered", "foreign"])
def test_malformed_and_foreign_keys_touch_neither_database_nor_redis(
    home, settings, kind, django_assert_num_queries
):
    client = get_redis()
    if client is None:
        pytest.skip("needs Redis to count its commands")
    _, secret = issue(home)
    credential = {
        "malformed": "porta_ak_v1_not-a-key",
        "tampered": secret[:-1] + ("A" if secret[-1] != "A" else "B"),
        "foreign": secret.replace(secret.split("_")[3], uuid.uuid4().hex),
    }[kind]
    before = client.info("commandstats")
    with django_assert_num_queries(0):
        result = verification.verify(credential)
    after = client.info("commandstats")
    assert not result.is_valid
    assert _commands(after) == _commands(before)


def _commands(stats: dict) -> int:
    return sum(entry["calls"] for name, entry in stats.items() if name != "cmdstat_info")


# -- freshness -------------------------------------------------------------------------------------


def test_a_key_changed_through_keys_changed_is_reread_at_once(api, home):
    row, secret = issue(home)
    assert verify(api, secret)["isValid"] is True
    revoked(row)
    verification.keys_changed()
    assert verify(api, secret)["errorCode"] == "REVOKED"


def test_a_redis_flush_drops_every_cached_key(api, home):
    client = get_redis()
    if client is None:
        pytest.skip("needs Redis")
    row, secret = issue(home)
    assert verify(api, secret)["isValid"] is True
    revoked(row)  # its bump lost: only the flush tells processes their copies are stale
    client.flushall()
    assert verify(api, secret)["errorCode"] == "REVOKED"


def test_a_lost_invalidation_is_bounded_by_the_cache_age(api, home, settings):
    settings.PORTA_ISSUED_KEY_CACHE_SECONDS = 0.05
    row, secret = issue(home)
    assert verify(api, secret)["isValid"] is True
    revoked(row)
    time.sleep(0.1)  # older than the maximum age
    assert verify(api, secret)["errorCode"] == "REVOKED"


@pytest.mark.servers
def test_a_key_revoked_through_one_server_process_fails_at_once_in_another(porta_server, initialized):
    home = OrganizationFactory()
    _, secret = issue(home)
    verifier, revoker = porta_server(), porta_server()
    headers = {"Authorization": f"Bearer {_token(verifier)}"}

    def remote_verify() -> dict:
        response = requests.post(
            f"{verifier.base_url}{VERIFY}", json={"credential": secret}, headers=headers, timeout=10
        )
        assert response.status_code == 200, response.text
        return response.json()

    assert remote_verify()["isValid"] is True  # now cached in the verifier's process
    response = requests.post(
        f"{revoker.base_url}/api/public/api-keys/revoke", json={"credential": secret}, timeout=10
    )
    assert response.status_code == 204, response.text
    assert remote_verify()["errorCode"] == "REVOKED"


@pytest.mark.servers
def test_after_a_redis_flush_a_server_process_drops_its_cached_keys(porta_server, initialized):
    home = OrganizationFactory()
    row, secret = issue(home)
    server = porta_server()
    headers = {"Authorization": f"Bearer {_token(server)}"}

    def remote_verify() -> dict:
        response = requests.post(
            f"{server.base_url}{VERIFY}", json={"credential": secret}, headers=headers, timeout=10
        )
        assert response.status_code == 200, response.text
        return response.json()

    assert remote_verify()["isValid"] is True
    revoked(row)  # its invalidation lost; then Redis loses everything
    get_redis().flushall()
    assert remote_verify()["errorCode"] == "REVOKED"


def _token(server) -> str:
    form = {"grant_type": "password", "client_id": "porta-cli", "username": ADMIN_EMAIL}
    form["password"] = ADMIN_PASSWORD
    response = requests.post(f"{server.base_url}/porta-admin/auth/token", data=form, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


# -- lastUsedAt ------------------------------------------------------------------------------------


def test_verifications_write_nothing_to_the_database(api, home):
    _, secret = issue(home)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(20):
            verify(api, secret)
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))]
    assert writes == []


def test_the_flush_task_writes_last_used_at_in_one_batch(api, home):
    rows = [issue(home) for _ in range(5)]
    for _, secret in rows:
        verify(api, secret)
    with CaptureQueriesContext(connection) as queries:
        assert flush_issued_key_last_used() == 5
    assert len(queries) <= 4  # read, one UPDATE for all, and the transaction's savepoint pair
    assert all(row.last_used_at is not None for row in IssuedApiKey.objects.filter(organization=home))


def test_the_flush_never_moves_last_used_at_backwards(api, home):
    row, secret = issue(home)
    later = timezone.now() + datetime.timedelta(days=1)
    IssuedApiKey.objects.filter(pk=row.pk).update(last_used_at=later)
    verify(api, secret)
    flush_issued_key_last_used()
    row.refresh_from_db()
    assert row.last_used_at == later


def test_the_api_shows_last_used_at_before_the_flush_and_keeps_it_after(api, home):
    row, secret = issue(home)
    path = f"/api/admin/organizations/{home.id}/api-keys/{row.id}"
    assert api.get(path).json()["lastUsedAt"] is None
    verify(api, secret)
    shown = api.get(path).json()["lastUsedAt"]
    assert shown is not None
    flush_issued_key_last_used()
    assert api.get(path).json()["lastUsedAt"] == shown


def test_a_failed_verification_does_not_count_as_a_use(api, home):
    _, secret = issue(home, status="revoked", revoked_at=timezone.now())
    verify(api, secret)
    assert flush_issued_key_last_used() == 0


def test_a_use_is_noted_once_per_resolution_window(api, home):
    row, secret = issue(home)
    for _ in range(3):
        verify(api, secret)
    assert list(usage.pending([row.id])) == [row.id]
    assert flush_issued_key_last_used() == 1
    verify(api, secret)  # within the resolution window: not noted again
    assert usage.pending([row.id]) == {}


# -- Redis down ------------------------------------------------------------------------------------


@pytest.mark.servers
def test_while_redis_is_down_verification_and_self_revocation_answer_from_postgresql(
    porta_server, initialized
):
    home = OrganizationFactory()
    _, secret = issue(home)
    with redis_server() as own_redis:
        server = porta_server(REDIS_URL=own_redis.url, PORTA_CELERY_EAGER="false")
        headers = {"Authorization": f"Bearer {_token(server)}"}

        def remote_verify() -> dict:
            response = requests.post(
                f"{server.base_url}{VERIFY}", json={"credential": secret}, headers=headers, timeout=30
            )
            assert response.status_code == 200, response.text
            return response.json()

        assert remote_verify()["isValid"] is True  # cached under a stamp that is about to vanish
        own_redis.stop()
        assert remote_verify()["isValid"] is True
        revoked_response = requests.post(
            f"{server.base_url}/api/public/api-keys/revoke", json={"credential": secret}, timeout=30
        )
        assert revoked_response.status_code == 204, revoked_response.text
        assert remote_verify()["errorCode"] == "REVOKED"
