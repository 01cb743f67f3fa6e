"""A tenant with clients and a user, and the browser steps of the authorization-code flow, for
the provider tests (driven through the Django test client with CSRF enforced, as a browser is)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from django.test import Client

from applications.models import Application
from organizations.models import Organization, User
from tests.client_factories import make_client

PASSWORD = "tenant-password-1"
WEB_REDIRECT = "https://app.example.com/callback"
CLI_REDIRECT = "http://127.0.0.1:8765/callback"


@dataclass
class Tenant:
    organization: Organization
    application: Application
    user: User
    web: object  # confidential web client (client_secret_basic)
    web_secret: str
    cli: object  # public native client (none + PKCE)

    @property
    def slug(self) -> str:
        return self.organization.slug


def make_tenant(slug: str = "acme", *, locale: str = "en", **org_fields) -> Tenant:
    organization = Organization.objects.create(
        name=slug.title(), slug=slug, default_locale=locale, **org_fields
    )
    application = Application.objects.create(name=f"{slug} app", slug=f"{slug}-app")
    web, secret = make_client(
        organization,
        application,
        client_id=f"{slug}-web",
        client_name=f"{slug.title()} Web",
        redirect_uris=[WEB_REDIRECT],
        grant_types=["authorization_code", "refresh_token", "client_credentials"],
        response_types=["code"],
        token_endpoint_auth_method="client_secret_basic",
        require_pkce=False,
    )
    cli, _ = make_client(
        organization,
        application,
        client_id=f"{slug}-cli",
        client_name=f"{slug.title()} CLI",
        client_type="public",
        application_type="native",
        redirect_uris=[CLI_REDIRECT, "http://localhost:8765/callback"],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
        scope="openid profile email offline_access",
    )
    user = User(organization=organization, email=f"user@{slug}.example", given_name="Ada")
    user.set_password(PASSWORD)
    user.save()
    return Tenant(organization, application, user, web, secret, cli)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def cli_params(tenant: Tenant, challenge: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": tenant.cli.client_id,
        "redirect_uri": CLI_REDIRECT,
        "scope": "openid profile",
        "state": "st-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def authorize_path(slug: str, params: dict[str, str]) -> str:
    return f"/{slug}/auth/authorize?{urlencode(params)}"


def csrf_token(html: bytes) -> str:
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1).decode()


def submit_login(client: Client, slug: str, params: dict[str, str], email: str, password: str, **headers):
    """Open the login page and post its form, as a browser would (CSRF token included)."""
    path = authorize_path(slug, params)
    page = client.get(path, **headers)
    assert page.status_code == 200, page.content[:500]
    return client.post(
        path,
        {
            "csrfmiddlewaretoken": csrf_token(page.content),
            "action": "login",
            "email": email,
            "password": password,
        },
        **headers,
    )


def redirect_params(response) -> tuple[str, dict[str, str]]:
    """Where a 302 goes (without its query) and its query parameters."""
    assert response.status_code == 302, (response.status_code, response.content[:500])
    parts = urlsplit(response["Location"])
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    return base, {key: values[0] for key, values in parse_qs(parts.query).items()}


def code_for_cli(client: Client, tenant: Tenant, **extra: str) -> tuple[str, str]:
    """Sign in through the login page with the public client; (code, verifier)."""
    verifier, challenge = pkce_pair()
    response = submit_login(
        client, tenant.slug, cli_params(tenant, challenge, **extra), tenant.user.email, PASSWORD
    )
    _, query = redirect_params(response)
    return query["code"], verifier


def exchange_cli(client: Client, tenant: Tenant, code: str, verifier: str, **extra: str):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CLI_REDIRECT,
        "client_id": tenant.cli.client_id,
        "code_verifier": verifier,
        **extra,
    }
    return client.post(
        f"/{tenant.slug}/auth/token", urlencode(form), content_type="application/x-www-form-urlencoded"
    )


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
