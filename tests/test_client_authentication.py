"""Confidential clients at the token endpoint: client_secret_basic and client_secret_post
(RFC 6749 §2.3.1), checked against every active secret of the client."""

from __future__ import annotations

import base64
from urllib.parse import quote_plus

import pytest
from django.test import Client

from applications.models import Application, ClientSecret
from applications.models import Client as OAuthClient
from audit.models import AuditEntry
from organizations.models import User
from tests.client_factories import make_client
from tests.conftest import TENANT_PASSWORD, post_form

TOKEN_PATH = "/tenant-org/auth/token"


@pytest.fixture
def basic_client(tenant_user: User) -> tuple[OAuthClient, str]:
    return make_client(
        tenant_user.organization,
        Application.objects.get(slug="tenant-app"),
        grant_types=["password", "refresh_token"],
        token_endpoint_auth_method="client_secret_basic",
    )


@pytest.fixture
def post_client(tenant_user: User) -> tuple[OAuthClient, str]:
    return make_client(
        tenant_user.organization,
        Application.objects.get(slug="tenant-app"),
        grant_types=["password"],
        token_endpoint_auth_method="client_secret_post",
    )


def password_form(**extra: str) -> dict[str, str]:
    return {
        "grant_type": "password",
        "username": "someone@tenant.example",
        "password": TENANT_PASSWORD,
    } | extra


def basic(client_id: str, secret: str) -> str:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def token_request(form: dict[str, str], **headers: str):
    return post_form(Client(), TOKEN_PATH, form, **headers)


def assert_invalid_client(response) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic")


def test_a_confidential_client_authenticates_with_client_secret_basic(basic_client):
    client, secret = basic_client
    response = token_request(password_form(), HTTP_AUTHORIZATION=basic(client.client_id, secret))
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "Bearer"


def test_basic_credentials_may_repeat_the_client_id_in_the_form(basic_client):
    client, secret = basic_client
    response = token_request(
        password_form(client_id=client.client_id), HTTP_AUTHORIZATION=basic(client.client_id, secret)
    )
    assert response.status_code == 200, response.content


def test_a_confidential_client_authenticates_with_client_secret_post(post_client):
    client, secret = post_client
    response = token_request(password_form(client_id=client.client_id, client_secret=secret))
    assert response.status_code == 200, response.content


def test_a_wrong_secret_is_invalid_client(basic_client):
    client, _ = basic_client
    assert_invalid_client(token_request(password_form(), HTTP_AUTHORIZATION=basic(client.client_id, "wrong")))


def test_a_missing_secret_is_invalid_client(post_client):
    client, _ = post_client
    assert_invalid_client(token_request(password_form(client_id=client.client_id)))


def test_malformed_basic_credentials_are_invalid_client(basic_client):
    assert_invalid_client(token_request(password_form(), HTTP_AUTHORIZATION="Basic %%%not-base64"))


def test_a_form_client_id_that_contradicts_the_basic_credentials_is_invalid_client(basic_client, post_client):
    client, secret = basic_client
    response = token_request(
        password_form(client_id=post_client[0].client_id), HTTP_AUTHORIZATION=basic(client.client_id, secret)
    )
    assert_invalid_client(response)


def test_a_client_must_use_the_method_it_registered(basic_client):
    client, secret = basic_client
    assert_invalid_client(token_request(password_form(client_id=client.client_id, client_secret=secret)))


def test_using_two_authentication_methods_at_once_is_invalid_request(basic_client):
    client, secret = basic_client
    response = token_request(
        password_form(client_secret=secret), HTTP_AUTHORIZATION=basic(client.client_id, secret)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_revoked_secret_is_invalid_client(basic_client):
    client, secret = basic_client
    ClientSecret.objects.filter(client=client).update(status="revoked")
    assert_invalid_client(token_request(password_form(), HTTP_AUTHORIZATION=basic(client.client_id, secret)))


def test_a_secret_for_a_public_client_is_invalid_client(tenant_user):
    response = token_request(password_form(client_id="tenant-cli", client_secret="anything"))
    assert_invalid_client(response)


def test_a_successful_client_authentication_is_audited(basic_client):
    client, secret = basic_client
    token_request(password_form(), HTTP_AUTHORIZATION=basic(client.client_id, secret))
    entry = AuditEntry.objects.get(event_type="client.secret.verified")
    assert entry.target_id == str(client.id)
    assert entry.organization_id == client.organization_id


def test_a_failed_client_authentication_is_audited(basic_client):
    client, _ = basic_client
    token_request(password_form(), HTTP_AUTHORIZATION=basic(client.client_id, "wrong"))
    assert AuditEntry.objects.filter(event_type="client.secret.failed", target_id=str(client.id)).count() == 1
