"""Signing-key lifecycle (contract §3 "Signing keys", issue 6): next → active → retired, or revoked.

Through the admin API and the JWKS endpoint with real tokens from the token endpoint. These tests
commit (transactional database) because the keyring is invalidated on commit, as in production.
"""

from __future__ import annotations

import base64
import datetime
import secrets
import time
from io import StringIO

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEntry
from keys import crypto, keyring, tasks
from keys.checks import rotation_period_check
from keys.models import SigningKey, SigningKeyStatus, retired_key_retention
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ApiClient, issue_token

pytestmark = pytest.mark.django_db(transaction=True)

KEYS = "/api/admin/keys"
JWKS = "/porta-admin/auth/jwks"
PROTECTED = "/api/admin/organizations"
KEY_FIELDS = {
    "id",
    "kid",
    "algorithm",
    "status",
    "createdAt",
    "activatedAt",
    "retiredAt",
    "revokedAt",
    "publishedUntil",
}


def kid_of(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def fresh_admin_client() -> ApiClient:
    """The super-admin with a newly issued token (signed by whatever key is active now)."""
    client = Client()
    return ApiClient(client, issue_token(client, ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])


def jwks_kids() -> list[str]:
    response = Client().get(JWKS)
    assert response.status_code == 200
    return [key["kid"] for key in response.json()["keys"]]


def statuses() -> dict[str, str]:
    return dict(SigningKey.objects.values_list("kid", "status"))


def active_kid() -> str:
    return SigningKey.objects.get(status=SigningKeyStatus.ACTIVE).kid


def events(prefix: str = "key.") -> list[str]:
    return list(
        AuditEntry.objects.filter(event_type__startswith=prefix)
        .order_by("created_at", "id")
        .values_list("event_type", flat=True)
    )


# -- reading -----------------------------------------------------------------------------------------


def test_keys_are_listed_newest_first_with_public_metadata_only(api):
    first = active_kid()
    generated = api.post(KEYS).json()
    response = api.get(KEYS)
    assert response.status_code == 200
    body = response.json()
    assert [row["kid"] for row in body["data"]] == [generated["kid"], first]
    assert body["pagination"] == {"total": 2, "page": 1, "pageSize": 20, "totalPages": 1}
    for row in body["data"]:
        assert set(row) == KEY_FIELDS
        assert row["algorithm"] == "ES256"


def test_the_key_list_has_a_cursor_mode_and_a_status_filter(api):
    api.post(KEYS)
    page = api.get(KEYS, {"limit": 1, "status": "next"}).json()
    assert [row["status"] for row in page["data"]] == ["next"]
    assert page["pagination"]["hasMore"] is False


def test_listing_keys_costs_the_same_queries_for_few_or_many_keys(api):
    api.get(KEYS)  # warm the per-process caches (principal, keyring)
    with CaptureQueriesContext(connection) as few:
        assert api.get(KEYS).status_code == 200
    for _ in range(5):
        api.post(KEYS)
    api.get(KEYS)  # the key changes made every process reload its keyring once
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(KEYS).json()["data"]) == 6
    assert len(many) <= len(few)
    assert not any("private_key_ciphertext" in query["sql"] for query in many.captured_queries)


def test_a_key_is_read_by_id(api):
    key = SigningKey.objects.get(status=SigningKeyStatus.ACTIVE)
    response = api.get(f"{KEYS}/{key.id}")
    assert response.status_code == 200
    assert response.json()["kid"] == key.kid
    assert response.json()["status"] == "active"
    assert response["ETag"]


def test_no_response_carries_private_material(api):
    key = SigningKey.objects.get(status=SigningKeyStatus.ACTIVE)
    private_der = keyring._decrypt_private_key(key).private_numbers().private_value.to_bytes(32, "big")
    for response in (api.get(KEYS), api.get(f"{KEYS}/{key.id}"), api.post(f"{KEYS}/rotate")):
        text = response.content.decode()
        assert "private" not in text.lower()
        assert "PRIVATE KEY" not in text
        assert jwt.utils.base64url_encode(private_der).decode() not in text


# -- generate ----------------------------------------------------------------------------------------


def test_a_generated_key_is_next_and_in_the_jwks_before_it_signs(api):
    signing = active_kid()
    response = api.post(KEYS)
    assert response.status_code == 201, response.content
    key = response.json()
    assert key["status"] == "next"
    assert key["activatedAt"] is None
    assert response["Location"] == f"/api/admin/keys/{key['id']}"
    assert key["kid"] in jwks_kids()
    assert kid_of(fresh_admin_client().token) == signing


def test_generating_an_active_key_while_one_is_active_is_a_conflict(api):
    before = statuses()
    response = api.post(KEYS, {"status": "active"})
    assert response.status_code == 409
    assert response.json()["error"] == "Conflict"
    assert statuses() == before


def test_an_active_key_can_be_generated_when_none_is_active(api):
    SigningKey.objects.filter(status=SigningKeyStatus.ACTIVE).update(status=SigningKeyStatus.RETIRED)
    keyring.invalidate_keyring()
    response = api.post(KEYS, {"status": "active"})
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "active"
    assert kid_of(fresh_admin_client().token) == response.json()["kid"]


@pytest.mark.parametrize(
    "body", [{"status": "retired"}, {"status": "revoked"}, {"status": 1}, {"algorithm": "RS256"}, []]
)
def test_an_invalid_generate_body_is_400(api, body):
    response = api.post(KEYS, body)
    assert response.status_code == 400, response.content
    assert SigningKey.objects.count() == 1


def test_generation_is_audited(api):
    key = api.post(KEYS).json()
    entry = AuditEntry.objects.get(event_type="key.generated", target_id=key["id"])
    assert entry.metadata == {"kid": key["kid"], "status": "next"}
    assert entry.actor_label == ADMIN_EMAIL


# -- rotate ------------------------------------------------------------------------------------------


def test_rotation_promotes_the_next_key_retires_the_active_one_and_publishes_a_fresh_next(api):
    old = active_kid()
    waiting = api.post(KEYS).json()
    response = api.post(f"{KEYS}/rotate")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kid"] == waiting["kid"]
    assert body["status"] == "active"
    assert body["retiredCount"] == 1
    assert body["nextKey"]["status"] == "next"
    assert response["Location"] == f"/api/admin/keys/{body['id']}"
    assert statuses() == {old: "retired", waiting["kid"]: "active", body["nextKey"]["kid"]: "next"}
    retired = api.get(KEYS, {"status": "retired"}).json()["data"][0]
    assert retired["retiredAt"] is not None
    retired_at = datetime.datetime.fromisoformat(retired["retiredAt"])
    assert datetime.datetime.fromisoformat(retired["publishedUntil"]) == retired_at + retired_key_retention()


def test_rotation_without_a_waiting_key_generates_the_new_active_key(api):
    old = active_kid()
    body = api.post(f"{KEYS}/rotate").json()
    assert body["kid"] != old
    assert body["retiredCount"] == 1
    assert statuses()[old] == "retired"
    assert SigningKey.objects.filter(status=SigningKeyStatus.NEXT).count() == 1


def test_the_next_key_of_a_rotation_is_the_active_key_of_the_following_one(api):
    first = api.post(f"{KEYS}/rotate").json()
    second = api.post(f"{KEYS}/rotate").json()
    assert second["kid"] == first["nextKey"]["kid"]


def test_rotation_keeps_old_tokens_valid_and_new_tokens_carry_the_new_kid(api):
    old = kid_of(api.token)
    rotated = api.post(f"{KEYS}/rotate").json()
    assert api.get(PROTECTED).status_code == 200  # the token signed by the retired key
    new_token = fresh_admin_client().token
    assert kid_of(new_token) == rotated["kid"] != old
    assert ApiClient(Client(), new_token).get(PROTECTED).status_code == 200
    assert {old, rotated["kid"], rotated["nextKey"]["kid"]} == set(jwks_kids())


def test_rotation_is_audited(api):
    old, seen = active_kid(), len(events())
    body = api.post(f"{KEYS}/rotate").json()
    assert events()[seen:] == ["key.retired", "key.generated", "key.rotated", "key.generated"]
    rotated = AuditEntry.objects.get(event_type="key.rotated")
    assert rotated.target_id == body["id"]
    assert rotated.metadata["retiredKids"] == [old]
    assert rotated.metadata["retiredCount"] == 1
    assert AuditEntry.objects.get(event_type="key.retired").metadata["kid"] == old


# -- revoke ------------------------------------------------------------------------------------------


def test_a_revoked_keys_tokens_fail_on_the_next_request(api):
    old_key = SigningKey.objects.get(status=SigningKeyStatus.ACTIVE)
    assert api.get(PROTECTED).status_code == 200  # verified once: remembered by this process
    api.post(f"{KEYS}/rotate")
    admin = fresh_admin_client()
    response = admin.post(f"{KEYS}/{old_key.id}/revoke")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "revoked"
    assert response.json()["revokedAt"] is not None
    rejected = api.get(PROTECTED)
    assert rejected.status_code == 401
    assert rejected.json()["error"] == "Unauthorized"
    assert old_key.kid not in jwks_kids()
    assert admin.get(PROTECTED).status_code == 200


def test_a_next_key_can_be_revoked_and_leaves_the_jwks(api):
    key = api.post(KEYS).json()
    response = api.post(f"{KEYS}/{key['id']}/revoke")
    assert response.status_code == 200
    assert key["kid"] not in jwks_kids()


def test_revoking_the_only_active_key_is_a_conflict(api):
    key = SigningKey.objects.get(status=SigningKeyStatus.ACTIVE)
    response = api.post(f"{KEYS}/{key.id}/revoke")
    assert response.status_code == 409
    assert response.json()["error"] == "Conflict"
    assert "rotate first" in response.json()["message"]
    key.refresh_from_db()
    assert key.status == SigningKeyStatus.ACTIVE
    assert api.get(PROTECTED).status_code == 200


def test_revoking_a_revoked_key_is_a_conflict(api):
    key = api.post(KEYS).json()
    api.post(f"{KEYS}/{key['id']}/revoke")
    response = api.post(f"{KEYS}/{key['id']}/revoke")
    assert response.status_code == 409
    assert response.json()["message"] == "Signing key is already revoked"


def test_revocation_is_audited_with_the_status_change(api):
    key = api.post(KEYS).json()
    api.post(f"{KEYS}/{key['id']}/revoke")
    entry = AuditEntry.objects.get(event_type="key.revoked")
    assert entry.target_id == key["id"]
    assert entry.metadata["changes"] == {"status": {"before": "next", "after": "revoked"}}


# -- retirement ends by itself ------------------------------------------------------------------------


def test_a_retired_key_leaves_the_jwks_and_verification_once_its_retention_has_passed(api):
    old = SigningKey.objects.get(status=SigningKeyStatus.ACTIVE)
    api.post(f"{KEYS}/rotate")
    SigningKey.objects.filter(pk=old.pk).update(
        retired_at=timezone.now() - retired_key_retention() - datetime.timedelta(seconds=1)
    )
    keyring.invalidate_keyring()
    assert old.kid not in jwks_kids()
    assert api.get(PROTECTED).status_code == 401
    old.refresh_from_db()
    assert old.status == SigningKeyStatus.RETIRED  # the row stays, for the record


def test_the_keyring_reloads_by_itself_when_a_retention_ends(api):
    """No version bump, no request in between: the moment a retired key expires is a reload."""
    old = SigningKey.objects.get(status=SigningKeyStatus.ACTIVE)
    api.post(f"{KEYS}/rotate")
    SigningKey.objects.filter(pk=old.pk).update(
        retired_at=timezone.now() - retired_key_retention() + datetime.timedelta(seconds=1.5)
    )
    keyring.invalidate_keyring()
    assert old.kid in jwks_kids()
    time.sleep(1.6)
    assert old.kid not in jwks_kids()


def test_a_retired_key_with_retention_left_still_verifies(api):
    api.post(f"{KEYS}/rotate")
    SigningKey.objects.filter(status=SigningKeyStatus.RETIRED).update(
        retired_at=F("retired_at") - retired_key_retention() + datetime.timedelta(minutes=5)
    )
    keyring.invalidate_keyring()
    assert api.get(PROTECTED).status_code == 200


# -- JWKS caching ------------------------------------------------------------------------------------


def test_the_jwks_carries_cache_control_and_a_strong_etag(initialized):
    response = Client().get(JWKS)
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=60"
    etag = response["ETag"]
    assert etag[0] == etag[-1] == '"'  # strong: no W/ prefix
    assert Client().get(JWKS)["ETag"] == etag


@pytest.mark.parametrize("offered", ["{etag}", "W/{etag}", '"other", {etag}', "*"])
def test_the_jwks_answers_304_to_a_matching_if_none_match(initialized, offered):
    etag = Client().get(JWKS)["ETag"]
    response = Client().get(JWKS, HTTP_IF_NONE_MATCH=offered.format(etag=etag))
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "public, max-age=60"


def test_the_jwks_etag_changes_with_every_lifecycle_change(api):
    seen = {Client().get(JWKS)["ETag"]}
    key = api.post(KEYS).json()
    seen.add(Client().get(JWKS)["ETag"])
    api.post(f"{KEYS}/rotate")
    seen.add(Client().get(JWKS)["ETag"])
    api.post(f"{KEYS}/{SigningKey.objects.get(status='retired').id}/revoke")
    seen.add(Client().get(JWKS)["ETag"])
    assert len(seen) == 4
    assert key["kid"] in jwks_kids()


def test_a_stale_etag_gets_the_new_document(api):
    etag = Client().get(JWKS)["ETag"]
    key = api.post(KEYS).json()
    response = Client().get(JWKS, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert key["kid"] in [k["kid"] for k in response.json()["keys"]]


# -- rotate_signing_keys: the same service as the API ------------------------------------------------


def test_the_rotate_command_rotates_like_the_api_and_is_visible_through_it(api):
    old, seen = active_kid(), len(events())
    out = StringIO()
    call_command("rotate_signing_keys", stdout=out)
    listed = {row["kid"]: row["status"] for row in api.get(KEYS).json()["data"]}
    new = active_kid()
    assert listed[old] == "retired"
    assert listed[new] == "active"
    assert new in out.getvalue()
    assert events()[seen:] == ["key.retired", "key.generated", "key.rotated", "key.generated"]
    rotated = AuditEntry.objects.get(event_type="key.rotated")
    assert (rotated.actor_type, rotated.actor_label) == ("system", "manage.py rotate_signing_keys")
    assert api.get(PROTECTED).status_code == 200  # tokens of the retired key still work
    assert kid_of(fresh_admin_client().token) == new


def test_the_command_promotes_a_key_the_api_published(api):
    waiting = api.post(KEYS).json()
    call_command("rotate_signing_keys", stdout=StringIO())
    assert active_kid() == waiting["kid"]


def test_a_dry_run_changes_nothing(api):
    api.post(KEYS)
    before, audit_count = statuses(), AuditEntry.objects.count()
    out = StringIO()
    call_command("rotate_signing_keys", "--dry-run", stdout=out)
    assert statuses() == before
    assert AuditEntry.objects.count() == audit_count
    assert "Dry run" in out.getvalue()
    assert "Would promote" in out.getvalue()


def test_the_age_guard_leaves_a_young_key_alone(api):
    before = statuses()
    out = StringIO()
    call_command("rotate_signing_keys", "--if-older-than", "30d", stdout=out)
    assert statuses() == before
    assert "nothing to do" in out.getvalue()


def test_the_age_guard_rotates_a_key_older_than_it(api):
    old = active_kid()
    SigningKey.objects.filter(kid=old).update(activated_at=timezone.now() - datetime.timedelta(days=31))
    call_command("rotate_signing_keys", "--if-older-than", "30d", stdout=StringIO())
    assert statuses()[old] == "retired"


@pytest.mark.parametrize("value", ["soon", "0s", "-1d"])
def test_an_unparsable_age_guard_is_a_command_error(initialized, value):
    with pytest.raises(CommandError, match="--if-older-than"):
        call_command("rotate_signing_keys", f"--if-older-than={value}", stdout=StringIO())


def test_the_scheduled_task_rotates_only_once_the_rotation_period_has_passed(api, settings):
    settings.PORTA_KEY_ROTATION_PERIOD = "90d"
    old = active_kid()
    tasks.rotate_signing_keys_if_due.delay()
    assert active_kid() == old
    SigningKey.objects.filter(kid=old).update(activated_at=timezone.now() - datetime.timedelta(days=90))
    tasks.rotate_signing_keys_if_due.delay()
    assert statuses()[old] == "retired"
    assert AuditEntry.objects.get(event_type="key.rotated").actor_label == "scheduled key rotation"
    tasks.rotate_signing_keys_if_due.delay()  # the new key is young: no second rotation
    assert AuditEntry.objects.filter(event_type="key.rotated").count() == 1


def test_the_beat_schedule_runs_the_rotation_task(settings):
    entries = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "keys.tasks.rotate_signing_keys_if_due" in entries


# -- key-encryption key rotation ----------------------------------------------------------------------


def _new_kek() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _kek_id(kek: str) -> str:
    return crypto._parse_keks((kek,))[0][0]


def test_reencryption_rewraps_every_key_under_the_first_kek_and_the_old_kek_can_go(api, settings):
    api.post(KEYS)
    api.post(f"{KEYS}/rotate")  # active, retired, next and a fourth key under the old KEK
    old = settings.PORTA_KEY_ENCRYPTION_KEYS[0]
    new = _new_kek()
    settings.PORTA_KEY_ENCRYPTION_KEYS = [new, old]
    out = StringIO()
    call_command("reencrypt_signing_keys", stdout=out)
    assert set(SigningKey.objects.values_list("kek_id", flat=True)) == {_kek_id(new)}
    assert AuditEntry.objects.filter(event_type="key.reencrypted").count() == SigningKey.objects.count()
    assert f"Rewrapped {SigningKey.objects.count()} key(s)" in out.getvalue()

    settings.PORTA_KEY_ENCRYPTION_KEYS = [new]
    keyring.invalidate_keyring()
    admin = fresh_admin_client()
    assert admin.get(PROTECTED).status_code == 200
    assert api.get(PROTECTED).status_code == 200  # the retired key's token still verifies
    assert admin.post(f"{KEYS}/rotate").status_code == 201  # the promoted key decrypts too
    assert fresh_admin_client().get(PROTECTED).status_code == 200


def test_reencryption_is_idempotent(initialized, settings):
    settings.PORTA_KEY_ENCRYPTION_KEYS = [_new_kek(), settings.PORTA_KEY_ENCRYPTION_KEYS[0]]
    call_command("reencrypt_signing_keys", stdout=StringIO())
    ciphertexts = list(SigningKey.objects.values_list("private_key_ciphertext", flat=True))
    out = StringIO()
    call_command("reencrypt_signing_keys", stdout=out)
    assert "Rewrapped 0 key(s)" in out.getvalue()
    assert list(SigningKey.objects.values_list("private_key_ciphertext", flat=True)) == ciphertexts
    assert AuditEntry.objects.filter(event_type="key.reencrypted").count() == 1


def test_a_reencryption_dry_run_changes_nothing(initialized, settings):
    before = list(SigningKey.objects.values_list("kek_id", "private_key_ciphertext"))
    settings.PORTA_KEY_ENCRYPTION_KEYS = [_new_kek(), settings.PORTA_KEY_ENCRYPTION_KEYS[0]]
    out = StringIO()
    call_command("reencrypt_signing_keys", "--dry-run", stdout=out)
    assert "Would rewrap 1 key(s)" in out.getvalue()
    assert list(SigningKey.objects.values_list("kek_id", "private_key_ciphertext")) == before
    assert not AuditEntry.objects.filter(event_type="key.reencrypted").exists()


def test_reencryption_without_the_old_kek_fails_and_changes_nothing(initialized, settings):
    before = list(SigningKey.objects.values_list("kek_id", "private_key_ciphertext"))
    settings.PORTA_KEY_ENCRYPTION_KEYS = [_new_kek()]
    with pytest.raises(CommandError, match="add the old key"):
        call_command("reencrypt_signing_keys", stdout=StringIO())
    assert list(SigningKey.objects.values_list("kek_id", "private_key_ciphertext")) == before


# -- at rest -----------------------------------------------------------------------------------------


def test_the_database_holds_no_unencrypted_private_key(api):
    api.post(f"{KEYS}/rotate")
    api.post(KEYS)  # retired, active and two next keys
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM keys_signingkey")
        rows = [b"|".join(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row)
                for row in cursor.fetchall()]  # fmt: skip
    assert len(rows) == SigningKey.objects.count() == 4
    for key in SigningKey.objects.all():
        private_key = keyring._decrypt_private_key(key)
        forms = [
            private_key.private_numbers().private_value.to_bytes(32, "big"),
            private_key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            private_key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            ),
        ]
        for row in rows:
            for form in forms:
                assert form not in row
        assert b"PRIVATE KEY" not in bytes(key.private_key_ciphertext)


# -- Django admin ------------------------------------------------------------------------------------


def _django_admin() -> Client:
    client = Client()
    assert client.login(username=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    return client


def test_the_django_admin_lists_keys_without_any_ciphertext(initialized):
    key = SigningKey.objects.get()
    client = _django_admin()
    listing = client.get("/admin/keys/signingkey/")
    assert listing.status_code == 200
    assert key.kid.encode() in listing.content
    assert key.kek_id.encode() in listing.content
    detail = client.get(f"/admin/keys/signingkey/{key.id}/change/")
    assert detail.status_code == 200
    assert b"ciphertext" not in detail.content.lower()
    assert client.get("/admin/keys/signingkey/add/").status_code == 403


def test_the_django_admin_rotates_and_revokes_through_the_services(initialized):
    old = SigningKey.objects.get()
    client = _django_admin()
    response = client.post(
        "/admin/keys/signingkey/", {"action": "rotate_now", "_selected_action": [str(old.id)]}
    )
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.status == SigningKeyStatus.RETIRED
    assert AuditEntry.objects.get(event_type="key.rotated").actor_label == ADMIN_EMAIL
    client.post("/admin/keys/signingkey/", {"action": "revoke_selected", "_selected_action": [str(old.id)]})
    old.refresh_from_db()
    assert old.status == SigningKeyStatus.REVOKED
    assert old.kid not in jwks_kids()


@pytest.mark.parametrize("value", ["soon", "0d", ""])
def test_an_invalid_rotation_period_fails_the_system_check(settings, value):
    settings.PORTA_KEY_ROTATION_PERIOD = value
    (error,) = rotation_period_check(None)
    assert error.id == "keys.E001"
    assert "PORTA_KEY_ROTATION_PERIOD" in error.msg
