"""Rotating client secrets: created and shown once, stored as keyed hashes, verified in overlap."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection
from django.test import Client as DjangoClient
from django.utils import timezone

from applications.models import Client, ClientSecret
from applications.services import clients as client_services
from audit.models import AuditEntry
from tests.client_factories import make_client
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

CLIENTS = "/api/admin/clients"


@pytest.fixture
def confidential(initialized) -> tuple[Client, str]:
    return make_client()


@pytest.fixture
def oauth_client(confidential) -> Client:
    return confidential[0]


def add_secret(api, oauth_client: Client, **body) -> dict:
    response = api.post(f"{CLIENTS}/{oauth_client.id}/secrets", body)
    assert response.status_code == 201, response.content
    return response.json()


def verify(oauth_client: Client, secret: str) -> Client | None:
    return client_services.client_secret_verify(client_id=oauth_client.client_id, secret=secret)


# -- create ---------------------------------------------------------------------------------------


def test_adding_a_secret_returns_201_with_its_metadata_and_the_plaintext_once(api, oauth_client):
    body = add_secret(api, oauth_client, label="Rotation 2026")
    assert set(body) == {"clientSecret", "secret", "warning"}
    assert set(body["clientSecret"]) == {"id", "label", "status", "expiresAt", "lastUsedAt", "createdAt"}
    assert body["clientSecret"]["label"] == "Rotation 2026"
    assert body["clientSecret"]["status"] == "active"
    assert body["warning"] == "Store the secret securely. It will not be shown again."


def test_a_secret_carries_48_random_bytes(api, oauth_client):
    assert len(add_secret(api, oauth_client)["secret"]) == 64


def test_the_database_holds_no_plaintext_secret(api, oauth_client):
    body = add_secret(api, oauth_client)
    plaintext = body["secret"]
    row = ClientSecret.objects.get(pk=body["clientSecret"]["id"])
    assert row.secret_hash != plaintext
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{ClientSecret._meta.db_table}" WHERE id = %s', [row.pk])
        columns = cursor.fetchone()
    assert not any(plaintext in str(value) for value in columns)


def test_an_expiry_is_stored(api, oauth_client):
    expires = (timezone.now() + datetime.timedelta(days=30)).replace(microsecond=0)
    body = add_secret(api, oauth_client, expiresAt=expires.isoformat())
    assert ClientSecret.objects.get(pk=body["clientSecret"]["id"]).expires_at == expires


def test_an_expiry_in_the_past_is_400(api, oauth_client):
    past = (timezone.now() - datetime.timedelta(minutes=1)).isoformat()
    response = api.post(f"{CLIENTS}/{oauth_client.id}/secrets", {"expiresAt": past})
    assert response.status_code == 400
    assert "expiresAt" in response.json()["details"]


def test_a_label_longer_than_255_characters_is_400(api, oauth_client):
    assert api.post(f"{CLIENTS}/{oauth_client.id}/secrets", {"label": "x" * 256}).status_code == 400


def test_a_public_client_cannot_have_a_secret(api, initialized):
    public, _ = make_client(client_type="public", application_type="spa")
    response = api.post(f"{CLIENTS}/{public.id}/secrets", {})
    assert response.status_code == 422
    assert not public.secrets.exists()


def test_a_revoked_client_cannot_get_a_new_secret(api, oauth_client):
    api.post(f"{CLIENTS}/{oauth_client.id}/revoke")
    assert api.post(f"{CLIENTS}/{oauth_client.id}/secrets", {}).status_code == 409


def test_adding_a_secret_is_audited_without_the_secret_or_its_hash(api, oauth_client):
    body = add_secret(api, oauth_client, label="Second")
    entry = AuditEntry.objects.get(event_type="client.secret.generated", target_id=str(oauth_client.id))
    stored_hash = ClientSecret.objects.get(pk=body["clientSecret"]["id"]).secret_hash
    assert entry.organization_id == oauth_client.organization_id
    assert entry.metadata["secretId"] == body["clientSecret"]["id"]
    assert body["secret"] not in str(entry.metadata)
    assert stored_hash not in str(entry.metadata)


# -- list -----------------------------------------------------------------------------------------


def test_listing_secrets_shows_metadata_only(api, oauth_client):
    add_secret(api, oauth_client, label="Second")
    response = api.get(f"{CLIENTS}/{oauth_client.id}/secrets")
    assert response.status_code == 200
    rows = response.json()["data"]
    assert [row["label"] for row in rows] == ["Initial secret", "Second"]
    for row in rows:
        assert set(row) == {"id", "label", "status", "expiresAt", "lastUsedAt", "createdAt"}


# -- revoke ---------------------------------------------------------------------------------------


def test_revoking_a_secret_returns_its_metadata_as_revoked(api, oauth_client):
    secret_id = add_secret(api, oauth_client)["clientSecret"]["id"]
    response = api.post(f"{CLIENTS}/{oauth_client.id}/secrets/{secret_id}/revoke")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert ClientSecret.objects.get(pk=secret_id).revoked_at is not None


def test_revoking_a_revoked_secret_is_a_conflict(api, oauth_client):
    secret_id = add_secret(api, oauth_client)["clientSecret"]["id"]
    api.post(f"{CLIENTS}/{oauth_client.id}/secrets/{secret_id}/revoke")
    assert api.post(f"{CLIENTS}/{oauth_client.id}/secrets/{secret_id}/revoke").status_code == 409


def test_a_secret_of_another_client_is_404(api, oauth_client):
    other, _ = make_client()
    foreign_id = other.secrets.get().id
    response = api.post(f"{CLIENTS}/{oauth_client.id}/secrets/{foreign_id}/revoke")
    assert response.status_code == 404
    assert ClientSecret.objects.get(pk=foreign_id).status == "active"


def test_an_unknown_secret_is_404(api, oauth_client):
    assert api.post(f"{CLIENTS}/{oauth_client.id}/secrets/{uuid.uuid4()}/revoke").status_code == 404


def test_revoking_a_secret_is_audited(api, oauth_client):
    secret_id = add_secret(api, oauth_client)["clientSecret"]["id"]
    api.post(f"{CLIENTS}/{oauth_client.id}/secrets/{secret_id}/revoke")
    entry = AuditEntry.objects.get(event_type="client.secret.revoked")
    assert entry.target_id == str(oauth_client.id)
    assert entry.metadata["secretId"] == secret_id


# -- verification ---------------------------------------------------------------------------------


def test_two_overlapping_secrets_both_verify(api, confidential):
    oauth_client, first = confidential
    second = add_secret(api, oauth_client)["secret"]
    assert verify(oauth_client, first) == oauth_client
    assert verify(oauth_client, second) == oauth_client


def test_a_revoked_secret_does_not_verify(api, confidential):
    oauth_client, first = confidential
    api.post(f"{CLIENTS}/{oauth_client.id}/secrets/{oauth_client.secrets.get().id}/revoke")
    assert verify(oauth_client, first) is None


def test_an_expired_secret_does_not_verify(api, oauth_client):
    body = add_secret(api, oauth_client)
    past = timezone.now() - datetime.timedelta(seconds=1)
    ClientSecret.objects.filter(pk=body["clientSecret"]["id"]).update(expires_at=past)
    assert verify(oauth_client, body["secret"]) is None


def test_a_wrong_secret_does_not_verify(oauth_client):
    assert verify(oauth_client, "not-the-secret") is None


def test_an_unknown_client_id_does_not_verify(initialized):
    assert client_services.client_secret_verify(client_id="no-such-client", secret="x") is None


def test_the_secret_of_an_inactive_client_does_not_verify(api, confidential):
    oauth_client, plaintext = confidential
    api.post(f"{CLIENTS}/{oauth_client.id}/deactivate")
    assert verify(oauth_client, plaintext) is None


def test_verification_records_when_the_secret_was_last_used(confidential):
    oauth_client, plaintext = confidential
    verify(oauth_client, plaintext)
    assert oauth_client.secrets.get().last_used_at is not None


def test_a_successful_verification_is_audited(confidential):
    oauth_client, plaintext = confidential
    verify(oauth_client, plaintext)
    entry = AuditEntry.objects.get(event_type="client.secret.verified")
    assert entry.metadata == {"secretId": str(oauth_client.secrets.get().id)}


def test_a_failed_verification_is_audited(oauth_client):
    verify(oauth_client, "not-the-secret")
    entry = AuditEntry.objects.get(event_type="client.secret.failed")
    assert entry.target_id == str(oauth_client.id)
    assert entry.metadata == {"reason": "invalid_secret"}


# -- Django admin ---------------------------------------------------------------------------------


def _admin_client() -> DjangoClient:
    oauth_client = DjangoClient()
    assert oauth_client.login(username=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    return oauth_client


def test_the_django_admin_shows_a_clients_secrets_by_label_never_by_hash(api, oauth_client):
    body = add_secret(api, oauth_client, label="Visible label")
    response = _admin_client().get(f"/admin/applications/client/{oauth_client.id}/change/")
    assert response.status_code == 200
    assert b"Visible label" in response.content
    for row in oauth_client.secrets.all():
        assert row.secret_hash.encode() not in response.content
    assert body["secret"].encode() not in response.content


def test_the_django_admin_finds_a_client_by_its_client_id(oauth_client):
    response = _admin_client().get("/admin/applications/client/", {"q": oauth_client.client_id})
    assert response.status_code == 200
    assert oauth_client.client_name.encode() in response.content
