"""Signing-key lifecycle and the per-process keyring used to sign and verify tokens."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from jwt.algorithms import ECAlgorithm

from audit import services as audit
from keys import crypto
from keys.models import SigningKey, SigningKeyStatus, retired_key_retention
from porta.core import versions
from porta.core.context import Actor
from porta.core.durations import parse_duration
from porta.core.errors import Conflict, InvalidTransition

PUBLISHED_STATUSES = (SigningKeyStatus.NEXT, SigningKeyStatus.ACTIVE, SigningKeyStatus.RETIRED)


def public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    return ECAlgorithm.to_jwk(public_key, as_dict=True)


def jwk_thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 thumbprint: the kid is derived from the key, never chosen."""
    canonical = json.dumps(
        {k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True
    )
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


_GENERATABLE = (SigningKeyStatus.NEXT, SigningKeyStatus.ACTIVE)


def _new_key_row(status: str) -> SigningKey:
    private_key = ec.generate_private_key(ec.SECP256R1())
    public_key = private_key.public_key()
    kid = jwk_thumbprint(public_jwk(public_key))
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    kek_id, ciphertext = crypto.encrypt(der, associated_data=kid.encode())
    return SigningKey.objects.create(
        kid=kid,
        status=status,
        public_key_pem=public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode(),
        private_key_ciphertext=ciphertext,
        kek_id=kek_id,
        activated_at=timezone.now() if status == SigningKeyStatus.ACTIVE else None,
    )


def _audit(event_type: str, actor: Actor, key: SigningKey, **metadata: Any) -> None:
    audit.record(
        event_type=event_type,
        actor=actor,
        target_type="signing_key",
        target_id=key.id,
        metadata={"kid": key.kid, **metadata},
    )


def _lock_signing_keys() -> list[SigningKey]:
    """The keys that sign or are about to, locked: concurrent lifecycle changes run one by one."""
    return list(
        SigningKey.objects.select_for_update()
        .filter(status__in=(SigningKeyStatus.NEXT, SigningKeyStatus.ACTIVE))
        .order_by("-created_at", "-id")
    )


@transaction.atomic
def signing_key_generate(*, actor: Actor, status: str = SigningKeyStatus.ACTIVE) -> SigningKey:
    """A new key pair. ``next`` publishes it in the JWKS without signing (the safe way to add a key);
    ``active`` makes it sign at once and is only allowed when no key is active (bootstrap, or after
    every key was revoked) — replacing an active key is a rotation, which retires the old one."""
    if status not in _GENERATABLE:
        raise ValueError(f"A new signing key is 'next' or 'active', not {status!r}")
    if status == SigningKeyStatus.ACTIVE and any(
        key.status == SigningKeyStatus.ACTIVE for key in _lock_signing_keys()
    ):
        raise Conflict("An active signing key exists: rotate (POST /api/admin/keys/rotate) to replace it")
    key = _new_key_row(status)
    _audit("key.generated", actor, key, status=status)
    transaction.on_commit(invalidate_keyring)
    return key


@dataclass(frozen=True, slots=True)
class RotationPlan:
    """What a rotation will do, computed from the current keys (``--dry-run`` prints it)."""

    promote: SigningKey | None  # the newest ``next`` key, or None: a new key is generated
    retire: tuple[SigningKey, ...]  # every currently active key
    generate_next: bool  # a fresh ``next`` key is published after the rotation


@dataclass(frozen=True, slots=True)
class RotationResult:
    active: SigningKey
    promoted: bool  # the active key was the waiting ``next`` key (else generated now)
    retired: tuple[SigningKey, ...]
    next_key: SigningKey | None

    @property
    def retired_count(self) -> int:
        return len(self.retired)


def _plan(keys: list[SigningKey]) -> RotationPlan:
    waiting = [key for key in keys if key.status == SigningKeyStatus.NEXT]
    return RotationPlan(
        promote=waiting[0] if waiting else None,
        retire=tuple(key for key in keys if key.status == SigningKeyStatus.ACTIVE),
        generate_next=len(waiting) <= 1,
    )


def signing_key_rotation_plan() -> RotationPlan:
    keys = SigningKey.objects.filter(status__in=(SigningKeyStatus.NEXT, SigningKeyStatus.ACTIVE))
    return _plan(list(keys.order_by("-created_at", "-id")))


@transaction.atomic
def signing_key_rotate(*, actor: Actor) -> RotationResult:
    """Make a new key active and retire every previously active one.

    The newest ``next`` key is promoted when there is one (relying parties have had it in the JWKS
    since it was generated), otherwise a key is generated. Afterwards a fresh ``next`` key is
    published unless one is still waiting, so the following rotation never signs with a ``kid``
    that relying parties have not seen. Retired keys keep verifying for the token lifetime.
    """
    plan = _plan(_lock_signing_keys())
    now = timezone.now()
    for key in plan.retire:
        key.status, key.retired_at = SigningKeyStatus.RETIRED, now
        key.save(update_fields=["status", "retired_at"])
        _audit("key.retired", actor, key, publishedUntil=key.published_until)
    if plan.promote is not None:
        active = plan.promote
        active.status, active.activated_at = SigningKeyStatus.ACTIVE, now
        active.save(update_fields=["status", "activated_at"])
    else:
        active = _new_key_row(SigningKeyStatus.ACTIVE)
        _audit("key.generated", actor, active, status=SigningKeyStatus.ACTIVE)
    _audit(
        "key.rotated",
        actor,
        active,
        promotedFromNext=plan.promote is not None,
        retiredKids=[key.kid for key in plan.retire],
        retiredCount=len(plan.retire),
    )
    next_key = None
    if plan.generate_next:
        next_key = _new_key_row(SigningKeyStatus.NEXT)
        _audit("key.generated", actor, next_key, status=SigningKeyStatus.NEXT)
    transaction.on_commit(invalidate_keyring)
    return RotationResult(
        active=active, promoted=plan.promote is not None, retired=plan.retire, next_key=next_key
    )


def active_key_age(now: datetime.datetime | None = None) -> datetime.timedelta | None:
    """Age of the signing key (since it became active); None when no key is active."""
    key = SigningKey.objects.filter(status=SigningKeyStatus.ACTIVE).order_by("-created_at").first()
    if key is None:
        return None
    return (now or timezone.now()) - (key.activated_at or key.created_at)


def signing_key_rotation_due(older_than: datetime.timedelta) -> bool:
    """True when no key is active or the active one has been signing for at least ``older_than``."""
    age = active_key_age()
    return age is None or age >= older_than


def rotation_period() -> datetime.timedelta:
    """``PORTA_KEY_ROTATION_PERIOD`` as a duration (``90d``, ``2160h``…)."""
    try:
        return parse_duration(settings.PORTA_KEY_ROTATION_PERIOD)
    except ValueError as exc:
        raise ImproperlyConfigured(f"PORTA_KEY_ROTATION_PERIOD: {exc}") from exc


@transaction.atomic
def signing_key_rotate_if_due(*, actor: Actor, older_than: datetime.timedelta) -> RotationResult | None:
    """The scheduled rotation: rotate only when the active key is at least ``older_than`` old.
    Decided under the rotation lock, so two schedulers firing together rotate once."""
    _lock_signing_keys()
    if not signing_key_rotation_due(older_than):
        return None
    return signing_key_rotate(actor=actor)


@transaction.atomic
def signing_key_revoke(*, actor: Actor, key: SigningKey) -> SigningKey:
    """Withdraw a key at once: it leaves the JWKS and every token it signed fails on the next
    request. The active key cannot be revoked while it is the only one signing (tokens could not
    be issued): rotate first, then revoke the key the rotation retired."""
    signing = _lock_signing_keys()  # first, in the same order as a rotation: no deadlock
    key = SigningKey.objects.select_for_update().get(pk=key.pk)
    if key.status == SigningKeyStatus.REVOKED:
        raise InvalidTransition("Signing key is already revoked")
    if key.status == SigningKeyStatus.ACTIVE and not any(
        other.status == SigningKeyStatus.ACTIVE and other.pk != key.pk for other in signing
    ):
        raise InvalidTransition(
            "Cannot revoke the only active signing key: rotate first (POST /api/admin/keys/rotate), "
            "then revoke the retired key"
        )
    before = key.status
    key.status, key.revoked_at = SigningKeyStatus.REVOKED, timezone.now()
    key.save(update_fields=["status", "revoked_at"])
    audit.record(
        event_type="key.revoked",
        actor=actor,
        target_type="signing_key",
        target_id=key.id,
        changes={"status": {"before": before, "after": SigningKeyStatus.REVOKED}},
        metadata={"kid": key.kid},
    )
    transaction.on_commit(invalidate_keyring)
    return key


@dataclass(frozen=True, slots=True)
class ReencryptionResult:
    kek_id: str
    rewrapped: tuple[str, ...]  # kids now encrypted under ``kek_id``
    current: int  # keys that already were


@transaction.atomic
def signing_keys_reencrypt(*, actor: Actor, dry_run: bool = False) -> ReencryptionResult:
    """Rewrap every private key under the first key-encryption key, so older KEKs can be dropped
    from ``PORTA_KEY_ENCRYPTION_KEY``. Idempotent: keys already under it are left alone. All or
    nothing: a key whose KEK is not configured stops the run before anything is written."""
    kek_id = crypto.key_encryption_keys()[0][0]
    stale = list(SigningKey.objects.select_for_update().exclude(kek_id=kek_id).order_by("created_at"))
    current = SigningKey.objects.filter(kek_id=kek_id).count()
    for key in stale:
        der = crypto.decrypt(key.private_key_ciphertext, kek_id=key.kek_id, associated_data=key.kid.encode())
        if dry_run:
            continue
        previous = key.kek_id
        key.kek_id, key.private_key_ciphertext = crypto.encrypt(der, associated_data=key.kid.encode())
        key.save(update_fields=["kek_id", "private_key_ciphertext"])
        _audit("key.reencrypted", actor, key, fromKekId=previous, toKekId=key.kek_id)
    return ReencryptionResult(kek_id=kek_id, rewrapped=tuple(key.kid for key in stale), current=current)


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
