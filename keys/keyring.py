"""The per-process keyring: the published signing keys, parsed once per process and reloaded
when any process changes them (a version stamp) or a retired key's retention ends."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import timezone
from jwt.algorithms import ECAlgorithm

from keys import crypto
from keys.models import SigningKey, SigningKeyStatus, retired_key_retention
from porta.core import versions

PUBLISHED_STATUSES = (SigningKeyStatus.NEXT, SigningKeyStatus.ACTIVE, SigningKeyStatus.RETIRED)


def public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    return ECAlgorithm.to_jwk(public_key, as_dict=True)


def jwk_thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 thumbprint: the kid is derived from the key, never chosen."""
    canonical = json.dumps(
        {k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True
    )
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def _decrypt_private_key(key: SigningKey) -> ec.EllipticCurvePrivateKey:
    der = crypto.decrypt(key.private_key_ciphertext, kek_id=key.kek_id, associated_data=key.kid.encode())
    return serialization.load_der_private_key(der, password=None)


@dataclass(frozen=True, slots=True)
class _Keyring:
    version: str | None
    loaded_at: float
    #: Wall-clock moment (epoch seconds) when a retired key in it reaches the end of its
    #: retention: the keyring is stale from then on, whatever the version stamp says.
    valid_until: float
    verifying: dict[str, ec.EllipticCurvePublicKey]
    signing_kid: str | None
    signing_key: ec.EllipticCurvePrivateKey | None
    jwks: dict
    jwks_bytes: bytes
    jwks_etag: str


_lock = threading.Lock()
_keyring: _Keyring | None = None
# A keyring is reloaded at least this often, whatever the version stamps say.
KEYRING_MAX_AGE = 60.0
_UNVERSIONED_MAX_AGE = 1.0


def invalidate_keyring() -> None:
    """Every process reloads its keys on its next token operation."""
    global _keyring
    versions.bump(versions.KEYS)
    _keyring = None


def _load(version: str | None) -> _Keyring:
    """Parse the published keys once: ``next`` and ``active`` keys, and ``retired`` keys until
    their retention ends (then they leave the JWKS and verification without anyone acting)."""
    now = time.time()
    retention = retired_key_retention().total_seconds()
    valid_until = float("inf")
    cutoff = timezone.now() - retired_key_retention()
    keys = SigningKey.objects.filter(status__in=PUBLISHED_STATUSES).exclude(
        status=SigningKeyStatus.RETIRED, retired_at__lte=cutoff
    )
    verifying: dict[str, ec.EllipticCurvePublicKey] = {}
    jwks = []
    signing_kid = None
    signing_key = None
    for key in keys.order_by("-created_at", "-id"):
        if key.status == SigningKeyStatus.RETIRED and key.retired_at is not None:
            drops_at = key.retired_at.timestamp() + retention
            if drops_at <= now:
                continue
            valid_until = min(valid_until, drops_at)
        public_key = serialization.load_pem_public_key(key.public_key_pem.encode())
        verifying[key.kid] = public_key
        jwks.append({**public_jwk(public_key), "kid": key.kid, "use": "sig", "alg": "ES256"})
        if key.status == SigningKeyStatus.ACTIVE and signing_kid is None:
            signing_kid, signing_key = key.kid, _decrypt_private_key(key)
    document = {"keys": jwks}
    body = orjson.dumps(document)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return _Keyring(
        version, time.monotonic(), valid_until, verifying, signing_kid, signing_key, document, body, etag
    )


def keyring(version: str | None = None, *, versioned: bool = False) -> _Keyring:
    """The current keys, parsed once per process and reloaded when any process changes them or a
    retired key's retention ends.

    ``versioned`` callers pass the KEYS stamp they already read (one Redis round trip per
    request for every stamp); others let this read it.
    """
    global _keyring
    if not versioned:
        (version,) = versions.read(versions.KEYS)
    current = _keyring
    if current is not None and time.time() < current.valid_until:
        age = time.monotonic() - current.loaded_at
        if (version is not None and current.version == version and age < KEYRING_MAX_AGE) or (
            version is None and age < _UNVERSIONED_MAX_AGE
        ):
            return current
    with _lock:
        _keyring = _load(version)
        return _keyring
