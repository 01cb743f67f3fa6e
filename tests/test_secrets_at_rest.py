"""A database backup holds no usable secret: a real ``pg_dump`` of the test database, taken after
every kind of secret Porta hands out was created through the API, contains none of them."""

from __future__ import annotations

import subprocess
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from organizations.models import Organization, User
from testing.servers import pg_tool
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, issue_token


def _pg_dump() -> bytes:
    db = connection.settings_dict
    command = [pg_tool("pg_dump"), "-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"], db["NAME"]]
    return subprocess.run(command, check=True, capture_output=True, timeout=120).stdout


def _token_of(link: str) -> str:
    return urlsplit(link).path.rstrip("/").rsplit("/", 1)[1]


@pytest.fixture
def handed_out_secrets(api, tenant_user: User) -> dict[str, str]:
    """Every kind of secret, created through the API and committed (transactional test)."""
    organization = Organization.objects.get(slug="tenant-org")
    application = api.post("/api/admin/applications", {"name": "Shop"}).json()
    client = api.post(
        "/api/admin/clients",
        {
            "organizationId": str(organization.id),
            "applicationId": application["id"],
            "clientName": "Shop web",
            "clientType": "confidential",
            "applicationType": "web",
            "redirectUris": ["https://shop.example/callback"],
        },
    )
    assert client.status_code == 201, client.content
    api_key = api.post(
        "/api/admin/api-keys",
        {"name": "bot", "organizationId": str(organization.id), "roles": ["porta-user-admin"]},
    )
    assert api_key.status_code == 201, api_key.content
    login = issue_token(Client(), ADMIN_EMAIL, ADMIN_PASSWORD)
    recovery = api.post("/api/admin/recovery/link", {"userId": str(tenant_user.id)})
    assert recovery.status_code == 201, recovery.content
    invite = api.post(
        f"/api/admin/organizations/{organization.id}/users/invite", {"email": "new@tenant.example"}
    )
    assert invite.status_code == 201, invite.content
    (invitation_email,) = [m for m in mail.outbox if m.to == ["new@tenant.example"]]
    invitation_link = next(word for word in invitation_email.body.split() if "/auth/accept-invite/" in word)
    return {
        "client secret": client.json()["secret"],
        "admin API key": api_key.json()["secret"],
        "refresh token": login["refresh_token"],
        "access token": login["access_token"],
        "recovery link token": _token_of(recovery.json()["recoveryLink"]),
        "invitation link token": _token_of(invitation_link),
    }


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_holds_none_of_the_secrets_handed_out(handed_out_secrets):
    dump = _pg_dump()
    assert b"COPY public.organizations_invitation" in dump  # the rows are in the dump
    found = [
        name
        for name, secret in handed_out_secrets.items()
        if secret.encode() in dump or secret.encode().hex().encode() in dump  # as text, or as bytea
    ]
    assert found == []


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_holds_no_pem_private_key(handed_out_secrets):
    assert b"PRIVATE KEY" not in _pg_dump()
