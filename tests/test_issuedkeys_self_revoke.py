"""Self-revocation: ``POST /api/public/api-keys/revoke {credential}`` — no authentication, the
key itself is the proof; 204 (idempotent), 404 for anything that is not a key of ours, rate
limited per client IP, audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEntry
from issuedkeys import credentials, usage, verification
from issuedkeys.models import IssuedApiKey
from tests.conftest import ApiClient
from tests.factories import OrganizationFactory
from tests.test_issuedkeys_verify import VERIFY, issue, verify

REVOKE = "/api/public/api-keys/revoke"


@pytest.fixture(autouse=True)
def _fresh_verification_state():
    verification.forget()
    usage.forget()
    yield
    verification.forget()


@pytest.fixture
def home(initialized):
    return OrganizationFactory()


@pytest.fixture
def public() -> ApiClient:
    return ApiClient(Client())


def test_the_holder_revokes_their_key_without_authentication(public, home):
    row, secret = issue(home)
    response = public.post(REVOKE, {"credential": secret})
    assert response.status_code == 204
    row.refresh_from_db()
    assert (row.status, row.revocation_reason) == ("revoked", "self_revoked")
    assert row.revoked_at is not None


def test_a_self_revoked_key_fails_verification_at_once(api, public, home):
    _, secret = issue(home)
    assert verify(api, secret)["isValid"] is True
    public.post(REVOKE, {"credential": secret})
    assert verify(api, secret)["errorCode"] == "REVOKED"


def test_self_revocation_keeps_the_holders_reason(public, home):
    row, secret = issue(home)
    public.post(REVOKE, {"credential": secret, "reason": "leaked in a CI log"})
    row.refresh_from_db()
    assert row.revocation_reason == "leaked in a CI log"


def test_revoking_an_already_revoked_key_is_204_and_changes_nothing(public, home):
    row, secret = issue(home)
    public.post(REVOKE, {"credential": secret})
    row.refresh_from_db()
    first = row.revoked_at
    response = public.post(REVOKE, {"credential": secret})
    assert response.status_code == 204
    row.refresh_from_db()
    assert row.revoked_at == first
    assert AuditEntry.objects.filter(target_id=str(row.id), event_type="issued_api_key.revoked").count() == 1


def test_an_expired_key_can_still_be_revoked_by_its_holder(public, home):
    row, secret = issue(home, expires_at=timezone.now() - timezone.timedelta(minutes=1))
    assert public.post(REVOKE, {"credential": secret}).status_code == 204
    row.refresh_from_db()
    assert row.status == "revoked"


def test_self_revocation_is_audited_as_done_by_the_key_itself(public, home):
    row, secret = issue(home)
    public.post(REVOKE, {"credential": secret})
    entry = AuditEntry.objects.get(target_id=str(row.id), event_type="issued_api_key.revoked")
    assert (entry.actor_type, entry.actor_id) == ("issued_api_key", row.id)
    assert entry.organization_id == home.id
    assert secret not in str(entry.metadata)


@pytest.mark.parametrize(
    "credential",
    ["", "garbage", "porta_ak_v1_" + "0" * 32 + "_" + "A" * 54],
    ids=["empty", "malformed", "wrong-checksum"],
)
def test_anything_but_a_key_of_ours_is_404(public, credential):
    response = public.post(REVOKE, {"credential": credential})
    assert response.status_code == 404
    assert response.json()["error"] == "NotFound"


def test_an_unknown_key_is_404(public, initialized):
    assert public.post(REVOKE, {"credential": credentials.mint().plaintext}).status_code == 404


def test_a_tampered_key_is_404_and_revokes_nothing(public, home):
    row, secret = issue(home)
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert public.post(REVOKE, {"credential": tampered}).status_code == 404
    row.refresh_from_db()
    assert row.status == "active"


def test_a_right_id_with_a_wrong_secret_revokes_nothing(public, home):
    row, _ = issue(home)
    impostor = credentials.mint(key_id=row.id).plaintext
    assert public.post(REVOKE, {"credential": impostor}).status_code == 404
    row.refresh_from_db()
    assert row.status == "active"


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "credential"), ({"credential": 5}, "credential"), ({"credential": "x", "y": 1}, "y")],
)
def test_a_bad_body_is_400_naming_the_field(public, initialized, body, field):
    response = public.post(REVOKE, body)
    assert response.status_code == 400
    assert field in response.json()["details"]


def test_self_revocation_is_rate_limited_per_client_ip(public, initialized, settings):
    settings.PORTA_PUBLIC_REVOKE_RATE_LIMIT = 3
    answers = [public.post(REVOKE, {"credential": "garbage"}).status_code for _ in range(4)]
    assert answers == [404, 404, 404, 429]
    limited = public.post(REVOKE, {"credential": "garbage"})
    assert limited.json()["error"] == "TooManyRequests"
    assert int(limited["Retry-After"]) >= 1


def test_the_rate_limit_counts_each_client_ip_apart(initialized, settings):
    settings.PORTA_PUBLIC_REVOKE_RATE_LIMIT = 1
    first, second = Client(REMOTE_ADDR="10.0.0.1"), Client(REMOTE_ADDR="10.0.0.2")
    assert first.post(REVOKE, {"credential": "x"}, content_type="application/json").status_code == 404
    assert first.post(REVOKE, {"credential": "x"}, content_type="application/json").status_code == 429
    assert second.post(REVOKE, {"credential": "x"}, content_type="application/json").status_code == 404


def test_an_authorization_header_is_ignored(home):
    row, secret = issue(home)
    response = ApiClient(Client(), "not-a-token").post(REVOKE, {"credential": secret})
    assert response.status_code == 204


def test_the_public_route_answers_only_post(public, initialized):
    assert public.get(REVOKE).status_code == 405


def test_verify_still_lives_under_the_admin_api(public, initialized):
    assert public.post(VERIFY, {"credential": "x"}).status_code == 401


def test_the_row_is_kept_after_self_revocation(public, home):
    row, secret = issue(home)
    public.post(REVOKE, {"credential": secret})
    assert IssuedApiKey.objects.filter(pk=row.pk).exists()
