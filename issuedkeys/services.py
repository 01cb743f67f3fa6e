"""Writes to issued API keys and to each organization's API-key settings.

Issuing locks the organization's settings row (``SELECT … FOR UPDATE``) before it counts the
organization's non-revoked keys, so two concurrent issues cannot both take the last free slot of
the quota: the second waits for the first to commit and then counts its key. Every write is
audited in its own transaction; neither the secret nor its hash reaches the audit trail.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from django.db import transaction
from django.utils import timezone

from audit.transitions import Change, StateMachine, Transition, transition
from audit.writes import Audited, Precondition, lock, wire_fields
from issuedkeys import credentials, verification
from issuedkeys.models import IssuedApiKey, IssuedApiKeySettings
from organizations.services import organization_accepting_members
from porta.core.context import Actor
from porta.core.errors import NotFound, PaymentRequired, ValidationFailed

SECRET_WARNING = "Store the secret securely. It will not be shown again."
METADATA_MAX_BYTES = 4096
SCOPES_MAX = 100
SCOPE_MAX_LENGTH = 200
QUOTA_REASON = "API_KEY_QUOTA_EXCEEDED"
#: Why a key stopped working, as rotation and self-revocation record it.
SUPERSEDED = "superseded"

#: What a key is, never its secret or hash.
AUDITED = Audited(
    target_type="issued_api_key",
    fields=wire_fields(
        "name", "actor_id", "scopes", "metadata", "status", "prefix", "last_four", "expires_at", "revoked_at"
    ),
    organization=lambda key: key.organization_id,
)
SETTINGS_AUDITED = Audited(
    target_type="api_key_settings",
    fields=wire_fields("prefix", "quota", default_ttl_wire="defaultTtl", max_ttl_wire="maxTtl"),
    organization=lambda row: row.organization_id,
    target_id=lambda row: row.organization_id,
)

#: The stored status moves only from active to revoked (by revocation or rotation); ``expired``
#: is read from the clock, so an expired key can still be revoked but not rotated.
TRANSITIONS: dict[str, Transition] = {
    "revoke": Transition(frozenset({"active", "expired"}), "revoked", "issued_api_key.revoked"),
    "rotate": Transition(frozenset({"active"}), "revoked", "issued_api_key.rotated"),
}


def key_state(key: IssuedApiKey, now: datetime.datetime | None = None) -> str:
    """``active``, ``expired`` or ``revoked``: the status the API shows."""
    if key.status == IssuedApiKey.Status.REVOKED:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= (now or timezone.now()):
        return "expired"
    return "active"


def _stamp_revocation(key: IssuedApiKey, change: Change) -> None:
    key.revoked_at = change.now
    key.revocation_reason = change.reason or (SUPERSEDED if change.action == "rotate" else None)
    change.save_fields += ["revoked_at", "revocation_reason"]
    change.metadata.update(name=key.name, lastFour=key.last_four)
    if key.revocation_reason:
        change.metadata["reason"] = key.revocation_reason


STATUS = StateMachine(
    noun="API key",
    table=TRANSITIONS,
    audited=AUDITED,
    state=key_state,
    effect=_stamp_revocation,
    refusal="Cannot {action} API key from status '{state}'",
)


# -- validation --------------------------------------------------------------------------------


def _scopes(scopes: Sequence[str]) -> list[str]:
    """Scopes in the order given, without repeats; each a non-blank string without spaces."""
    problems = [s for s in scopes if not s or len(s) > SCOPE_MAX_LENGTH or any(c.isspace() for c in s)]
    if problems:
        message = f"Each scope must be 1-{SCOPE_MAX_LENGTH} characters without spaces"
        raise ValidationFailed(message, details={"scopes": [message + "."]})
    unique = list(dict.fromkeys(scopes))
    if len(unique) > SCOPES_MAX:
        message = f"At most {SCOPES_MAX} scopes"
        raise ValidationFailed(message, details={"scopes": [message + "."]})
    return unique


def _metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """A JSON object of at most 4 KB (UTF-8, compact), as Ory allows."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise ValidationFailed("metadata must be a JSON object", details={"metadata": ["Must be an object."]})
    problem = _storable_problem(metadata)
    if problem is None:
        size = len(orjson.dumps(metadata))
        if size > METADATA_MAX_BYTES:
            problem = f"metadata is {size} bytes as JSON; at most {METADATA_MAX_BYTES} are allowed"
    if problem is not None:
        raise ValidationFailed(problem, details={"metadata": [problem + "."]})
    return dict(metadata)


#: PostgreSQL's jsonb prints an integral number without an exponent, so 1e21 comes back as an
#: integer beyond 64 bits, which the API's JSON renderer (orjson) cannot write.
_NUMBER_LIMIT = 2**63


def _storable_problem(value: Any) -> str | None:
    """Why ``value`` would not come back from jsonb as the API can render it: U+0000 (jsonb
    refuses it) or a number beyond ±2**63."""
    if isinstance(value, str):
        return "metadata must not contain NUL characters" if "\x00" in value else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return None if abs(value) < _NUMBER_LIMIT else "metadata numbers must lie within ±2**63"
    items = value.items() if isinstance(value, Mapping) else enumerate(value)
    for key, item in items:
        problem = _storable_problem(key) if isinstance(key, str) else None
        if problem is None:
            problem = _storable_problem(item)
        if problem is not None:
            return problem
    return None


def _expiry(
    ttl: datetime.timedelta | None, settings: IssuedApiKeySettings, now: datetime.datetime
) -> datetime.datetime:
    """``now + ttl`` (the organization's default without one); beyond its maxTtl → 400."""
    lifetime = settings.default_ttl if ttl is None else ttl
    if lifetime > settings.max_ttl:
        message = f"ttl exceeds the organization's maximum of {settings.max_ttl_wire}"
        raise ValidationFailed(message, details={"ttl": [message + "."]})
    return now + lifetime


# -- settings ----------------------------------------------------------------------------------


def api_key_settings_of(organization_id: uuid.UUID) -> IssuedApiKeySettings:
    """The organization's settings: its row, or the defaults (unsaved) when it has none."""
    row = IssuedApiKeySettings.objects.filter(pk=organization_id).first()
    return row if row is not None else IssuedApiKeySettings(organization_id=organization_id)


def _locked_settings(organization_id: uuid.UUID) -> IssuedApiKeySettings:
    """The settings row, created with the defaults if missing, locked until the transaction ends:
    the one lock every issue and settings change of the organization takes."""
    now = timezone.now()
    IssuedApiKeySettings.objects.bulk_create(
        [IssuedApiKeySettings(organization_id=organization_id, created_at=now, updated_at=now)],
        ignore_conflicts=True,
    )
    return IssuedApiKeySettings.objects.select_for_update().get(pk=organization_id)


@transaction.atomic
def api_key_settings_update(
    *,
    actor: Actor,
    organization_id: uuid.UUID,
    prefix: str,
    default_ttl: datetime.timedelta,
    max_ttl: datetime.timedelta,
    quota: int | None,
    precondition: Precondition | None = None,
) -> IssuedApiKeySettings:
    """Replace the settings. Keys already issued keep their prefix and expiry; a quota below the
    current usage refuses new keys until enough are revoked."""
    problem = credentials.prefix_problem(prefix)
    if problem is not None:
        raise ValidationFailed(f"Invalid prefix: {problem}", details={"prefix": [problem]})
    if default_ttl > max_ttl:
        message = "defaultTtl must not exceed maxTtl"
        raise ValidationFailed(message, details={"defaultTtl": [message + "."]})
    row = lock(_locked_settings(organization_id), precondition)
    with SETTINGS_AUDITED.change("api_key_settings.updated", actor=actor, row=row):
        row.prefix, row.default_ttl, row.max_ttl, row.quota = prefix, default_ttl, max_ttl, quota
        row.save()
    return row


# -- keys --------------------------------------------------------------------------------------


def _check_quota(settings: IssuedApiKeySettings) -> None:
    if settings.quota is None:
        return
    usage = IssuedApiKey.objects.filter(
        organization_id=settings.organization_id, status=IssuedApiKey.Status.ACTIVE
    ).count()
    if usage >= settings.quota:
        raise PaymentRequired(
            f"The API key quota of this organization permits up to {settings.quota} non-revoked keys",
            extra={"reason": QUOTA_REASON, "limit": settings.quota, "currentUsage": usage},
        )


def _mint(
    *,
    organization_id: uuid.UUID,
    settings: IssuedApiKeySettings,
    name: str,
    actor_id: str | None,
    scopes: list[str],
    metadata: dict[str, Any],
    expires_at: datetime.datetime | None,
    now: datetime.datetime,
    rotated_from: IssuedApiKey | None = None,
) -> tuple[IssuedApiKey, str]:
    minted = credentials.mint(prefix=settings.prefix)
    key = IssuedApiKey.objects.create(
        id=minted.key_id,
        organization_id=organization_id,
        name=name,
        actor_id=actor_id,
        scopes=scopes,
        metadata=metadata,
        prefix=minted.prefix,
        secret_hash=minted.secret_hash,
        pepper_id=minted.pepper_id,
        last_four=minted.last_four,
        expires_at=expires_at,
        created_at=now,
        rotated_from=rotated_from,
    )
    return key, minted.plaintext


@transaction.atomic
def issued_api_key_create(
    *,
    actor: Actor,
    organization_id: uuid.UUID,
    name: str,
    actor_id: str | None = None,
    scopes: Sequence[str] = (),
    ttl: datetime.timedelta | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> tuple[IssuedApiKey, str]:
    """Issue a key; the plaintext leaves this module once, as the second value returned.

    Without ``ttl`` the key lives the organization's defaultTtl; beyond its maxTtl → 400; a
    suspended or archived organization → 422; beyond its quota → 402.
    """
    scopes, metadata = _scopes(scopes), _metadata(metadata)
    if organization_accepting_members(organization_id) is None:
        raise NotFound("Organization not found")
    settings = _locked_settings(organization_id)
    now = timezone.now()
    expires_at = _expiry(ttl, settings, now)
    _check_quota(settings)
    key, secret = _mint(
        organization_id=organization_id,
        settings=settings,
        name=name,
        actor_id=actor_id,
        scopes=scopes,
        metadata=metadata,
        expires_at=expires_at,
        now=now,
    )
    AUDITED.record_created("issued_api_key.created", actor=actor, row=key)
    return key, secret


_UNSET: Any = object()


@transaction.atomic
def issued_api_key_update(
    *,
    actor: Actor,
    key: IssuedApiKey,
    name: str = _UNSET,
    scopes: Sequence[str] = _UNSET,
    metadata: Mapping[str, Any] = _UNSET,
    precondition: Precondition | None = None,
) -> IssuedApiKey:
    """Change what the PATCH may change (name, scopes, metadata), on a key of any status: a
    revoked key stays revoked. Verification sees the change within its documented bound."""
    changes: dict[str, Any] = {}
    if name is not _UNSET:
        changes["name"] = name
    if scopes is not _UNSET:
        changes["scopes"] = _scopes(scopes)
    if metadata is not _UNSET:
        changes["metadata"] = _metadata(metadata)
    key = lock(key, precondition)
    with AUDITED.change("issued_api_key.updated", actor=actor, row=key):
        for attribute, value in changes.items():
            setattr(key, attribute, value)
        if changes:
            key.save(update_fields=list(changes))
    if changes:
        verification.keys_changed()  # the verify answer carries scopes and metadata
    return key


@transaction.atomic
def issued_api_key_revoke(
    *, actor: Actor, key: IssuedApiKey, reason: str | None = None, precondition: Precondition | None = None
) -> IssuedApiKey:
    """Irreversible; the row stays for the audit trail. An already revoked key → 409. Every
    process refuses the key on its next verification (see ``verification.keys_changed``)."""
    key = transition(STATUS, key, "revoke", actor=actor, reason=reason, precondition=precondition)
    verification.keys_changed()
    return key


@transaction.atomic
def issued_api_key_rotate(
    *,
    actor: Actor,
    key: IssuedApiKey,
    ttl: datetime.timedelta | None = None,
    scopes: Sequence[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    precondition: Precondition | None = None,
) -> tuple[IssuedApiKey, str]:
    """A new key (new id and secret) in place of ``key``, which is revoked in the same
    transaction, at once (no overlap: whoever rotates because of a leak wants the old secret dead
    now). The new key keeps the name, actor, scopes and metadata unless given, and the lifetime
    the old one was issued with unless ``ttl`` is given; both within the current maxTtl. The
    quota is not checked: the organization's count of non-revoked keys does not change. An
    expired or revoked key → 409; a suspended or archived organization issues nothing (422)."""
    new_scopes = None if scopes is None else _scopes(scopes)
    new_metadata = None if metadata is None else _metadata(metadata)
    if organization_accepting_members(key.organization_id) is None:  # 422 when suspended/archived
        raise NotFound("Organization not found")
    settings = _locked_settings(key.organization_id)
    old = transition(STATUS, key, "rotate", actor=actor, precondition=precondition)
    verification.keys_changed()
    now = timezone.now()
    if ttl is None and old.expires_at is not None:
        ttl = min(old.expires_at - old.created_at, settings.max_ttl)
    expires_at = _expiry(ttl, settings, now)
    new, secret = _mint(
        organization_id=old.organization_id,
        settings=settings,
        name=old.name,
        actor_id=old.actor_id,
        scopes=old.scopes if new_scopes is None else new_scopes,
        metadata=old.metadata if new_metadata is None else new_metadata,
        expires_at=expires_at,
        now=now,
        rotated_from=old,
    )
    AUDITED.record_created(
        "issued_api_key.created", actor=actor, row=new, metadata={"rotatedFrom": str(old.id)}
    )
    return new, secret
