"""Signing and verifying ES256 access tokens (PyJWT over the keyring).

Verification trusts nothing in the token header but the ``kid``: the algorithm is pinned to
ES256, the key comes from our own table, and issuer, audience and expiry are checked.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import jwt

from keys.keyring import keyring
from keys.models import VERIFICATION_LEEWAY_SECONDS

ACCESS_TOKEN_TYPE = "at+jwt"
LEEWAY_SECONDS = VERIFICATION_LEEWAY_SECONDS


class TokenInvalid(Exception):
    """The presented token must not be accepted; the message says why (for logs, not clients)."""


class NoSigningKey(Exception):
    """No active signing key: run ``porta_init`` or generate a key."""


def sign_access_token(
    *,
    subject: str,
    issuer: str,
    audience: str | list[str],
    client_id: str,
    organization_id: str,
    scope: str,
    ttl: int,
    extra: dict[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    ring = keyring()
    if ring.signing_key is None:
        raise NoSigningKey("No active signing key")
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "client_id": client_id,
        "org_id": organization_id,
        "scope": scope,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
        **(extra or {}),
    }
    token = jwt.encode(
        claims,
        ring.signing_key,
        algorithm="ES256",
        headers={"kid": ring.signing_kid, "typ": ACCESS_TOKEN_TYPE},
    )
    return token, claims


_VERIFIED_CACHE_SIZE = 10_000
# token digest → (keyring it was verified under, issuer, audience, claims)
_verified: dict[bytes, tuple[Any, str | None, str, dict[str, Any]]] = {}


def _still_valid(claims: dict[str, Any]) -> bool:
    now = time.time()
    return claims["exp"] + LEEWAY_SECONDS > now and claims.get("nbf", 0) - LEEWAY_SECONDS <= now


def verify_access_token(token: str, *, issuer: str | None, audience: str, ring=None) -> dict[str, Any]:
    """The token's claims, or TokenInvalid. ``ring`` is the keyring to trust (default: current).

    A token this process verified before under the same keyring object is not verified again
    (the ES256 check and PyJWT's parsing are most of the cost); its expiry still is. Any key
    change loads a new keyring, which misses every remembered token.
    """
    ring = ring or keyring()
    digest = hashlib.sha256(token.encode()).digest()
    remembered = _verified.get(digest)
    if remembered is not None and remembered[0] is ring and remembered[1:3] == (issuer, audience):
        if _still_valid(remembered[3]):
            return remembered[3]
        raise TokenInvalid("token has expired")
    claims = _verify(token, issuer=issuer, audience=audience, ring=ring)
    if len(_verified) >= _VERIFIED_CACHE_SIZE:
        _verified.clear()
    _verified[digest] = (ring, issuer, audience, claims)
    return claims


def _verify(token: str, *, issuer: str | None, audience: str, ring) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenInvalid(f"malformed token: {exc}") from exc
    if header.get("alg") != "ES256":
        raise TokenInvalid(f"algorithm {header.get('alg')!r} is not accepted")
    if header.get("typ") != ACCESS_TOKEN_TYPE:
        raise TokenInvalid("not an access token")
    key = ring.verifying.get(header.get("kid") or "")
    if key is None:
        raise TokenInvalid("unknown or revoked signing key")
    try:
        return jwt.decode(
            token,
            key,
            algorithms=["ES256"],
            issuer=issuer,
            audience=audience,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "sub", "aud", "jti"]},
        )
    except jwt.PyJWTError as exc:
        raise TokenInvalid(str(exc)) from exc
