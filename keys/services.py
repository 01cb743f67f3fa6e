"""Signing-key lifecycle and the per-process keyring used to sign and verify tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.db import transaction
from django.utils import timezone
from jwt.algorithms import ECAlgorithm

from audit import services as audit
from audit.context import Actor
from keys import crypto
from keys.models import SigningKey, SigningKeyStatus
from porta import versions

PUBLISHED_STATUSES = (SigningKeyStatus.NEXT, SigningKeyStatus.ACTIVE, SigningKeyStatus.RETIRED)


def public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    return ECAlgorithm.to_jwk(public_key, as_dict=True)


def jwk_thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 thumbprint: the kid is derived from the key, never chosen."""
    canonical = json.dumps(
        {k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True
    )
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


@transaction.atomic
def signing_key_generate(*, actor: Actor, status: str = SigningKeyStatus.ACTIVE) -> SigningKey:
    private_key = ec.generate_private_key(ec.SECP256R1())
    public_key = private_key.public_key()
    kid = jwk_thumbprint(public_jwk(public_key))
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    kek_id, ciphertext = crypto.encrypt(der, associated_data=kid.encode())
    key = SigningKey.objects.create(
        kid=kid,
        status=status,
        public_key_pem=public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode(),
        private_key_ciphertext=ciphertext,
        kek_id=kek_id,
        activated_at=timezone.now() if status == SigningKeyStatus.ACTIVE else None,
    )
    audit.record(
        event_type="key.generated",
        actor=actor,
        target_type="signing_key",
        target_id=key.id,
        metadata={"kid": kid, "status": status},
    )
    transaction.on_commit(invalidate_keyring)
    return key


def _decrypt_private_key(key: SigningKey) -> ec.EllipticCurvePrivateKey:
    der = crypto.decrypt(key.private_key_ciphertext, kek_id=key.kek_id, associated_data=key.kid.encode())
    return serialization.load_der_private_key(der, password=None)


@dataclass(frozen=True, slots=True)
class _Keyring:
    version: str | None
    loaded_at: float
    verifying: dict[str, ec.EllipticCurvePublicKey]
    signing_kid: str | None
    signing_key: ec.EllipticCurvePrivateKey | None
    jwks: dict


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
    keys = list(SigningKey.objects.filter(status__in=PUBLISHED_STATUSES).order_by("-created_at"))
    verifying: dict[str, ec.EllipticCurvePublicKey] = {}
    jwks = []
    signing_kid = None
    signing_key = None
    for key in keys:
        public_key = serialization.load_pem_public_key(key.public_key_pem.encode())
        verifying[key.kid] = public_key
        jwks.append({**public_jwk(public_key), "kid": key.kid, "use": "sig", "alg": "ES256"})
        if key.status == SigningKeyStatus.ACTIVE and signing_kid is None:
            signing_kid, signing_key = key.kid, _decrypt_private_key(key)
    return _Keyring(version, time.monotonic(), verifying, signing_kid, signing_key, {"keys": jwks})


def keyring(version: str | None = None, *, versioned: bool = False) -> _Keyring:
    """The current keys, parsed once per process and reloaded when any process changes them.

    ``versioned`` callers pass the KEYS stamp they already read (one Redis round trip per
    request for every stamp); others let this read it.
    """
    global _keyring
    if not versioned:
        (version,) = versions.read(versions.KEYS)
    current = _keyring
    if current is not None:
        age = time.monotonic() - current.loaded_at
        if (version is not None and current.version == version and age < KEYRING_MAX_AGE) or (
            version is None and age < _UNVERSIONED_MAX_AGE
        ):
            return current
    with _lock:
        _keyring = _load(version)
        return _keyring
