"""Signing-key lifecycle: generation, rotation, revocation and re-encryption of the keys (the
per-process keyring that signs and verifies with them is keys.keyring)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from audit.transitions import Change, StateMachine, Transition, transition
from audit.writes import Audited, wire_fields
from keys import crypto
from keys.keyring import invalidate_keyring, jwk_thumbprint, public_jwk
from keys.models import SigningKey, SigningKeyStatus
from porta.core.context import Actor
from porta.core.durations import parse_duration
from porta.core.errors import Conflict, InvalidTransition

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


#: Signing keys are global; every entry names the key by its kid.
AUDITED = Audited(
    target_type="signing_key", fields=wire_fields("status"), metadata=lambda key: {"kid": key.kid}
)
#: Revocation, a change of one key (guarded: never the last key that signs).
SIGNING_KEY_TRANSITIONS: dict[str, Transition] = {
    "revoke": Transition(
        frozenset({SigningKeyStatus.NEXT, SigningKeyStatus.ACTIVE, SigningKeyStatus.RETIRED}),
        SigningKeyStatus.REVOKED,
        "key.revoked",
    ),
}


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
    AUDITED.record("key.generated", actor=actor, row=key, metadata={"status": status})
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
    retired = tuple(transition(ROTATION_STEPS, key, "retire", actor=actor) for key in plan.retire)
    rotation = {
        "promotedFromNext": plan.promote is not None,
        "retiredKids": [key.kid for key in plan.retire],
        "retiredCount": len(plan.retire),
    }
    if plan.promote is not None:
        active = transition(ROTATION_STEPS, plan.promote, "promote", actor=actor, metadata=rotation)
    else:
        active = _new_key_row(SigningKeyStatus.ACTIVE)
        AUDITED.record("key.generated", actor=actor, row=active, metadata={"status": SigningKeyStatus.ACTIVE})
        AUDITED.record("key.rotated", actor=actor, row=active, metadata=rotation)
    next_key = None
    if plan.generate_next:
        next_key = _new_key_row(SigningKeyStatus.NEXT)
        AUDITED.record("key.generated", actor=actor, row=next_key, metadata={"status": SigningKeyStatus.NEXT})
    transaction.on_commit(invalidate_keyring)
    return RotationResult(
        active=active, promoted=plan.promote is not None, retired=retired, next_key=next_key
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


def _guard_last_signer(key: SigningKey, action: str) -> None:
    """Tokens could not be issued without an active key. The keys that sign are locked already."""
    if (
        key.status == SigningKeyStatus.ACTIVE
        and not SigningKey.objects.filter(status=SigningKeyStatus.ACTIVE).exclude(pk=key.pk).exists()
    ):
        raise InvalidTransition(
            "Cannot revoke the only active signing key: rotate first (POST /api/admin/keys/rotate), "
            "then revoke the retired key"
        )


def _stamp_revocation(key: SigningKey, change: Change) -> None:
    key.revoked_at = change.now
    change.save_fields.append("revoked_at")


SIGNING_KEY_STATUS = StateMachine(
    noun="signing key",
    table=SIGNING_KEY_TRANSITIONS,
    audited=AUDITED,
    lock_first=_lock_signing_keys,  # in the same order as a rotation: no deadlock
    guard=_guard_last_signer,
    effect=_stamp_revocation,
    refusal="Signing key is already {state}",
)

#: The steps of a rotation, applied to keys ``_lock_signing_keys`` already holds: every active key
#: retires (it keeps verifying for the token lifetime) and the waiting ``next`` key starts signing.
ROTATION_TRANSITIONS: dict[str, Transition] = {
    "retire": Transition(frozenset({SigningKeyStatus.ACTIVE}), SigningKeyStatus.RETIRED, "key.retired"),
    "promote": Transition(frozenset({SigningKeyStatus.NEXT}), SigningKeyStatus.ACTIVE, "key.rotated"),
}


def _stamp_rotation(key: SigningKey, change: Change) -> None:
    if change.action == "retire":
        key.retired_at = change.now
        change.save_fields.append("retired_at")
        change.metadata["publishedUntil"] = key.published_until
    else:
        key.activated_at = change.now
        change.save_fields.append("activated_at")


ROTATION_STEPS = StateMachine(
    noun="signing key", table=ROTATION_TRANSITIONS, audited=AUDITED, effect=_stamp_rotation
)


@transaction.atomic
def signing_key_revoke(*, actor: Actor, key: SigningKey) -> SigningKey:
    """Withdraw a key at once: it leaves the JWKS and every token it signed fails on the next
    request. The active key cannot be revoked while it is the only one signing (tokens could not
    be issued): rotate first, then revoke the key the rotation retired."""
    key = transition(SIGNING_KEY_STATUS, key, "revoke", actor=actor)
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
        AUDITED.record(
            "key.reencrypted", actor=actor, row=key, metadata={"fromKekId": previous, "toKekId": key.kek_id}
        )
    return ReencryptionResult(kek_id=kek_id, rewrapped=tuple(key.kid for key in stale), current=current)
