"""Tokens of a tenant (from the real grants) and the calls to the token- and session-management
endpoints, for the introspection, revocation, userinfo and end-session tests."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client

from keys.keyring import keyring
from oidc.issuers import issuer_for
from tests.oidc_flows import Tenant, basic, browser, code_for_cli, exchange_cli

FORM = "application/x-www-form-urlencoded"


def post(path: str, form: dict[str, str], client: Client | None = None, **headers):
    return (client or Client()).post(path, urlencode(form), content_type=FORM, **headers)


def user_tokens(tenant: Tenant, client: Client | None = None, **extra: str) -> dict:
    """Tokens of the public CLI client for the tenant's user, through the login page and the
    code grant (scope ``openid profile`` unless ``scope`` says otherwise)."""
    client = client or browser()
    code, verifier = code_for_cli(client, tenant, **extra)
    response = exchange_cli(client, tenant, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()


def client_token(tenant: Tenant) -> str:
    response = post(
        f"/{tenant.slug}/auth/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(tenant.web.client_id, tenant.web_secret),
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def as_web(tenant: Tenant) -> dict[str, str]:
    """The confidential client's Basic credentials, as headers for the test client."""
    return {"HTTP_AUTHORIZATION": basic(tenant.web.client_id, tenant.web_secret)}


def introspect(tenant: Tenant, token: str, path: str = "auth/introspect", **form: str):
    return post(f"/{tenant.slug}/{path}", {"token": token, **form}, **as_web(tenant))


def revoke(tenant: Tenant, token: str, path: str = "auth/revoke", **form: str):
    return post(f"/{tenant.slug}/{path}", {"token": token, **form}, **as_web(tenant))


def revoke_as_cli(tenant: Tenant, token: str, **form: str):
    return post(f"/{tenant.slug}/auth/revoke", {"token": token, "client_id": tenant.cli.client_id, **form})


def refresh_as_cli(tenant: Tenant, refresh_token: str):
    return post(
        f"/{tenant.slug}/auth/token",
        {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": tenant.cli.client_id},
    )


def signed_by_keyring(claims: dict, *, typ: str = "at+jwt") -> str:
    """A token signed with the real signing key (what only the server can make)."""
    ring = keyring()
    headers = {"kid": ring.signing_kid, "typ": typ}
    return jwt.encode(claims, ring.signing_key, algorithm="ES256", headers=headers)


def forged(claims: dict) -> str:
    """A token that names the signing key's kid but is signed with another P-256 key."""
    key = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": keyring().signing_kid, "typ": "at+jwt"})


def tampered(token: str, **changes) -> str:
    """The token with its payload changed and the original signature kept."""
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(changes)
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def issuer(tenant: Tenant) -> str:
    return issuer_for(tenant.slug)
