"""Admin API bearer-token verification (contract §2 "Access tokens"): every forged, foreign, stale or
malformed token is a 401 in the contract's error shape with ``WWW-Authenticate: Bearer``.

Tokens are forged with PyJWT and cryptography; nothing is mocked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client

from keys.keyring import invalidate_keyring, jwk_thumbprint, keyring, public_jwk
from keys.models import SigningKey, SigningKeyStatus
from keys.tokens import sign_access_token
from oidc.issuers import issuer_for
from organizations.models import Organization, User
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ApiClient, issue_token

PROTECTED = "/api/admin/organizations"
ADMIN_AUDIENCE = "http://testserver/api/admin"
ADMIN_ISSUER = "http://testserver/porta-admin"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def encode_segment(value: Any) -> str:
    return b64url(orjson.dumps(value))


def forge(header: dict[str, Any], claims: dict[str, Any], *, key=None, signature: bytes | None = None) -> str:
    """A compact JWS with exactly this header and payload, ES256-signed with ``key`` when given,
    otherwise carrying ``signature`` verbatim."""
    signing_input = f"{encode_segment(header)}.{encode_segment(claims)}"
    if key is not None:
        signature = jwt.get_algorithm_by_name("ES256").sign(signing_input.encode(), key)
    return f"{signing_input}.{b64url(signature or b'')}"


def valid_claims(user: User, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ADMIN_ISSUER, "sub": str(user.id), "aud": ADMIN_AUDIENCE, "client_id": "porta-cli"}
    claims |= {"org_id": str(user.organization_id), "scope": "openid", "jti": "forged-jti"}
    claims |= {"iat": now, "nbf": now, "exp": now + 300}
    return claims | overrides


def signed_by_porta(user: User, **overrides: Any) -> str:
    """A token signed by Porta's own active key (keys.tokens.sign_access_token), with the admin
    issuer and audience unless ``overrides`` says otherwise."""
    arguments = {
        "subject": str(user.id),
        "issuer": ADMIN_ISSUER,
        "audience": ADMIN_AUDIENCE,
        "client_id": "porta-cli",
        "organization_id": str(user.organization_id),
        "scope": "openid",
        "ttl": 300,
    }
    return sign_access_token(**(arguments | overrides))[0]


def real_header(**overrides: Any) -> dict[str, Any]:
    return {"alg": "ES256", "typ": "at+jwt", "kid": keyring().signing_kid, **overrides}


def call_with(token: str):
    return ApiClient(Client(), token).get(PROTECTED)


def assert_unauthorized(response) -> None:
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert body["error"] == "Unauthorized"
    assert body["statusCode"] == 401
    assert isinstance(body["message"], str)
    assert body["message"]
    assert body["requestId"] == response["X-Request-ID"]


@pytest.fixture
def valid_token(initialized) -> str:
    return issue_token(Client(), ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"]


@pytest.fixture
def tenant(initialized) -> Organization:
    return Organization.objects.create(name="Tenant", slug="tenant-org")


# -- the baseline ----------------------------------------------------------------------------------


def test_a_valid_token_is_accepted(valid_token):
    assert call_with(valid_token).status_code == 200


def test_a_token_signed_by_porta_for_the_admin_issuer_is_accepted(super_admin):
    """The baseline for the issuer and audience cases below: only the overridden claim differs."""
    assert call_with(signed_by_porta(super_admin)).status_code == 200


def test_a_token_forged_with_the_real_key_and_correct_claims_is_accepted(super_admin):
    """Proves the forging helper builds valid tokens, so each rejection below is about its one flaw."""
    token = forge(real_header(), valid_claims(super_admin), key=keyring().signing_key)
    assert call_with(token).status_code == 200


# -- no or unreadable credentials -----------------------------------------------------------------


def test_no_token_on_a_protected_route_is_401(initialized):
    assert_unauthorized(ApiClient(Client()).get(PROTECTED))


def test_a_garbage_token_is_401(initialized):
    assert_unauthorized(call_with("this-is-not-a-jwt"))


def test_a_token_with_three_garbage_segments_is_401(initialized):
    assert_unauthorized(call_with("abc.def.ghi"))


def test_a_non_bearer_authorization_scheme_is_401(valid_token):
    response = Client().get(PROTECTED, HTTP_AUTHORIZATION=f"Basic {valid_token}")
    assert_unauthorized(response)


def test_a_bearer_scheme_without_a_token_is_401(initialized):
    assert_unauthorized(Client().get(PROTECTED, HTTP_AUTHORIZATION="Bearer "))


# -- algorithm attacks -----------------------------------------------------------------------------


def test_an_alg_none_token_is_401(super_admin):
    token = forge(real_header(alg="none"), valid_claims(super_admin))
    assert_unauthorized(call_with(token))


def test_an_hs256_token_signed_with_the_public_key_is_401(super_admin):
    """Algorithm confusion: the verifier must not use the public key PEM as an HMAC secret."""
    public_pem = SigningKey.objects.get(kid=keyring().signing_kid).public_key_pem.encode()
    header, claims = real_header(alg="HS256"), valid_claims(super_admin)
    signing_input = f"{encode_segment(header)}.{encode_segment(claims)}".encode()
    signature = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    assert_unauthorized(call_with(forge(header, claims, signature=signature)))


def test_an_es384_header_on_an_es256_signature_is_401(super_admin):
    token = forge(real_header(alg="ES384"), valid_claims(super_admin), key=keyring().signing_key)
    assert_unauthorized(call_with(token))


# -- keys ------------------------------------------------------------------------------------------


def test_an_unknown_kid_signed_with_a_fresh_key_is_401(super_admin):
    fresh = ec.generate_private_key(ec.SECP256R1())
    header = real_header(kid=jwk_thumbprint(public_jwk(fresh.public_key())))
    assert_unauthorized(call_with(forge(header, valid_claims(super_admin), key=fresh)))


def test_a_real_kid_with_a_signature_from_another_key_is_401(super_admin):
    fresh = ec.generate_private_key(ec.SECP256R1())
    assert_unauthorized(call_with(forge(real_header(), valid_claims(super_admin), key=fresh)))


def test_a_token_without_a_kid_is_401(super_admin):
    header = real_header()
    del header["kid"]
    assert_unauthorized(call_with(forge(header, valid_claims(super_admin), key=keyring().signing_key)))


@pytest.mark.parametrize("kid", [["a", "b"], {"kid": "x"}, 42])
def test_a_kid_that_is_not_a_string_is_401(super_admin, kid):
    header = real_header(kid=kid)
    assert_unauthorized(call_with(forge(header, valid_claims(super_admin), key=keyring().signing_key)))


def test_a_token_signed_by_a_revoked_key_is_401(valid_token):
    SigningKey.objects.filter(status=SigningKeyStatus.ACTIVE).update(status=SigningKeyStatus.REVOKED)
    invalidate_keyring()
    assert_unauthorized(call_with(valid_token))


def test_a_token_signed_by_a_retired_key_is_still_accepted(valid_token):
    SigningKey.objects.filter(status=SigningKeyStatus.ACTIVE).update(status=SigningKeyStatus.RETIRED)
    invalidate_keyring()
    assert call_with(valid_token).status_code == 200


# -- claims ----------------------------------------------------------------------------------------


def test_another_organizations_issuer_is_401(super_admin, tenant):
    assert_unauthorized(call_with(signed_by_porta(super_admin, issuer=issuer_for(tenant.slug))))


def test_a_tenant_users_token_claiming_the_admin_issuer_is_401(tenant):
    user = User.objects.create(organization=tenant, email="someone@tenant.example")
    assert_unauthorized(call_with(signed_by_porta(user)))


def test_a_tenant_users_token_with_the_admin_audience_but_no_admin_role_is_403(tenant):
    """Authenticated (a tenant administrator's token has this shape), but not an administrator."""
    user = User.objects.create(organization=tenant, email="someone@tenant.example")
    response = call_with(signed_by_porta(user, issuer=issuer_for(tenant.slug)))
    assert response.status_code == 403, response.content
    assert response.json()["message"] == "Admin role required"


def test_an_issuer_outside_porta_is_401(super_admin):
    token = signed_by_porta(super_admin, issuer="https://evil.example/porta-admin")
    assert_unauthorized(call_with(token))


def test_a_missing_issuer_is_401(super_admin):
    claims = valid_claims(super_admin)
    del claims["iss"]
    assert_unauthorized(call_with(forge(real_header(), claims, key=keyring().signing_key)))


def test_a_wrong_audience_is_401(super_admin):
    assert_unauthorized(call_with(signed_by_porta(super_admin, audience="porta-cli")))


def test_a_missing_audience_is_401(super_admin):
    claims = valid_claims(super_admin)
    del claims["aud"]
    assert_unauthorized(call_with(forge(real_header(), claims, key=keyring().signing_key)))


def test_a_token_expired_beyond_the_leeway_is_401(super_admin):
    now = int(time.time())
    claims = valid_claims(super_admin, iat=now - 1000, nbf=now - 1000, exp=now - 120)
    assert_unauthorized(call_with(forge(real_header(), claims, key=keyring().signing_key)))


def test_a_token_expired_within_the_leeway_is_accepted(super_admin):
    now = int(time.time())
    claims = valid_claims(super_admin, iat=now - 1000, nbf=now - 1000, exp=now - 20)
    assert call_with(forge(real_header(), claims, key=keyring().signing_key)).status_code == 200


def test_a_token_without_exp_is_401(super_admin):
    claims = valid_claims(super_admin)
    del claims["exp"]
    assert_unauthorized(call_with(forge(real_header(), claims, key=keyring().signing_key)))


def test_a_token_not_yet_valid_beyond_the_leeway_is_401(super_admin):
    now = int(time.time())
    claims = valid_claims(super_admin, nbf=now + 600, exp=now + 900)
    assert_unauthorized(call_with(forge(real_header(), claims, key=keyring().signing_key)))


def test_a_token_with_a_non_numeric_exp_is_401(super_admin):
    claims = valid_claims(super_admin, exp="tomorrow")
    assert_unauthorized(call_with(forge(real_header(), claims, key=keyring().signing_key)))


@pytest.mark.parametrize("subject", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_a_subject_that_names_no_user_is_401(super_admin, subject):
    claims = valid_claims(super_admin, sub=subject)
    assert_unauthorized(call_with(forge(real_header(), claims, key=keyring().signing_key)))


def test_a_tampered_payload_is_401(valid_token, make_admin):
    other = make_admin("porta-super-admin")
    header, payload, signature = valid_token.split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(other.id)
    assert_unauthorized(call_with(f"{header}.{encode_segment(claims)}.{signature}"))


def test_a_tampered_header_is_401(valid_token):
    _, payload, signature = valid_token.split(".")
    header = {**jwt.get_unverified_header(valid_token), "x-extra": "1"}
    assert_unauthorized(call_with(f"{encode_segment(header)}.{payload}.{signature}"))


# -- token type ------------------------------------------------------------------------------------


def test_a_token_without_typ_is_401(super_admin):
    header = real_header()
    del header["typ"]
    assert_unauthorized(call_with(forge(header, valid_claims(super_admin), key=keyring().signing_key)))


@pytest.mark.parametrize("typ", ["JWT", "id_token+jwt", "application/jwt"])
def test_a_token_of_another_type_is_401(super_admin, typ):
    header = real_header(typ=typ)
    assert_unauthorized(call_with(forge(header, valid_claims(super_admin), key=keyring().signing_key)))


# -- the subject -----------------------------------------------------------------------------------


def test_a_token_for_a_deleted_user_is_401(make_admin):
    admin = make_admin("porta-super-admin", password="admin-password-1")
    token = issue_token(Client(), admin.email, "admin-password-1")["access_token"]
    assert call_with(token).status_code == 200
    admin.delete()
    assert_unauthorized(call_with(token))
